//===- Elementwise.cpp - Activations, normalizations, sums -----------------===//
#include "Emit.h"

namespace netc::lowering {

using namespace Halide;

const Vars &vars() {
  static const Vars v;
  return v;
}

namespace {
/// |x|'s bits, the sign cleared: above 0x7f800000 for NaN, equal for Inf.
Expr magnitudeBits(Expr x) {
  return reinterpret(UInt(32, x.type().lanes()), x) & Expr(uint32_t{0x7fffffff});
}
} // namespace

Expr isNan(Expr x) { return magnitudeBits(std::move(x)) > Expr(uint32_t{0x7f800000}); }
Expr isFinite(Expr x) { return magnitudeBits(std::move(x)) < Expr(uint32_t{0x7f800000}); }

Expr roundToBf16(Expr x) {
  Expr bits = reinterpret(UInt(32, x.type().lanes()), x);
  // Adding 0x7fff plus the kept part's lowest bit rounds half to even;
  // the carry runs into the exponent where it should (to Inf at the top).
  Expr rounded = (bits + (Expr(uint32_t{0x7fff}) + ((bits >> 16) & Expr(uint32_t{1})))) >> 16;
  // A NaN whose payload is all in the dropped bits would round to Inf:
  // keep its top bits and set the quiet bit instead.
  Expr nan = (bits >> 16) | Expr(uint32_t{0x40});
  Expr top = select(isNan(x), nan, rounded);
  return reinterpret(BFloat(16, x.type().lanes()), cast(UInt(16, x.type().lanes()), top));
}

Expr quantizeU8(Expr x, Expr scale, Expr zeroPoint) {
  // PyTorch's quantize_val: zero_point + nearbyint(x * (1.0f / scale)), in
  // IEEE arithmetic on every variant (strict_float).
  Expr q = clamp(round(strict_float(x * (1.0f / scale))) + zeroPoint, 0.0f, 255.0f);
  return cast(UInt(8, x.type().lanes()), select(isNan(x), 0.0f, q));
}

void readPair(mlir::ArrayAttr attr, int64_t out[2]) {
  out[0] = attr[0].cast<mlir::IntegerAttr>().getInt();
  out[1] = attr[1].cast<mlir::IntegerAttr>().getInt();
}

std::vector<Var> coordsFor(size_t rank) {
  const Vars &v = vars();
  return rank == 4 ? std::vector<Var>{v.x, v.y, v.c, v.n} : std::vector<Var>{v.f, v.n};
}

namespace {
/// The channel coordinate: c for NCHW, f for [N, F].
Var channelVar(size_t rank) { return rank == 4 ? vars().c : vars().f; }
} // namespace

Func emitActivation(mlir::Operation *op, Func input) {
  ActivationParams params;
  if (auto hardtanh = mlir::dyn_cast<nn::HardtanhOp>(op)) {
    params.min = static_cast<float>(hardtanh.min_val().convertToDouble());
    params.max = static_cast<float>(hardtanh.max_val().convertToDouble());
  }
  if (auto leaky = mlir::dyn_cast<nn::LeakyReluOp>(op))
    params.slope = static_cast<float>(leaky.negative_slope().convertToDouble());
  return emitActivation(op->getName().stripDialect(), input, params);
}

namespace {

/// e^t for t in [-87.3, 0], where the smooth activations use it (lanes
/// outside compute garbage that their selects drop): 2^k e^r with k = t /
/// ln 2 rounded, r = t - k ln 2 in two parts (Cody and Waite: k ln2_hi is
/// exact), e^r by its Taylor polynomial of degree 7 (|r| <= ln 2 / 2:
/// relative error below 6e-9), 2^k built in the exponent bits (k >= -126: a
/// normal float). 15 vector instructions, against ~25 for Halide's exp,
/// whose floor runs as two 256-bit rounds on AVX-512 and which guards both
/// ends of its range. (EfficientNet-B0's SiLUs cost it 1.2 of 4.6 ms.)
Expr expNonPositive(Expr t) {
  Expr k = cast<int>(t * 1.44269504088896341f - 0.5f); // (truncation: t <= 0)
  Expr kf = cast<float>(k);
  Expr r = t - kf * 0.693145751953125f;
  r = r - kf * 1.42860676533018704e-06f;
  Expr p = 1.0f / 5040;
  for (float c : {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
    p = c + r * p;
  return p * reinterpret<float>((k + 127) << 23);
}

} // namespace

Func emitActivation(llvm::StringRef kind, Func input, ActivationParams params) {
  // PyTorch's semantics at the edges: NaN stays NaN (max() may drop it, so
  // it is passed through explicitly, found by isNan: the input is often a
  // conv's sum, which LLVM takes to be never NaN), and the results are exact
  // at +-inf and at huge magnitudes. The Func names keep clear of libm's
  // symbols (a Func named "tanh" collides with tanh in the JIT).
  //
  // The piecewise-linear ones compute strictly (strict_float keeps LLVM's
  // fast-math flags, which assume no NaN and no Inf, off their few
  // instructions). The smooth ones (exponentials, rational functions,
  // polynomials) compute by fast math, which contracts them into FMAs (strict,
  // GELU cost ConvNeXt-Tiny ~2.3 ms and SiLU more than EfficientNet's 1x1
  // convs), but only where |x| is at most a limit: there every value they
  // see is finite. Elsewhere (large, infinite, NaN) the result is chosen by
  // tests on x's bits, which fast math cannot touch, and what the fast
  // arithmetic gave those lanes is dropped.
  std::vector<Var> coords = coordsFor(static_cast<size_t>(input.dimensions()));
  Expr x = strict_float(input(coords));
  auto u32 = [](uint32_t value) { return Internal::make_const(UInt(32), value); };
  Expr bits = reinterpret<uint32_t>(input(coords));
  Expr magnitude = bits & u32(0x7fffffffu);
  Expr nan = magnitude > u32(0x7f800000u);
  Expr negative = bits >= u32(0x80000000u);
  auto above = [&](float limit) { // |x| > limit, infinities and NaN included
    return magnitude > u32(Internal::reinterpret_bits<uint32_t>(limit));
  };
  Expr fx = input(coords); // read by fast math: finite wherever used
  Expr y;
  std::string name;
  if (kind == "relu") {
    name = "relu_act";
    y = strict_float(max(x, 0.0f));
  } else if (kind == "sigmoid") {
    // 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below (e = e^-|x|): no
    // overflow; one division of the selected numerator (vdivps is the
    // slowest instruction here). Past |x| = 87 e underflows: 0 or 1.
    name = "sigmoid_act";
    Expr e = expNonPositive(-abs(fx));
    Expr smooth = select(fx >= 0.0f, 1.0f, e) / (1.0f + e);
    y = select(above(87.0f), select(negative, 0.0f, 1.0f), smooth);
  } else if (kind == "hardtanh") {
    name = "hardtanh_act";
    y = strict_float(min(max(x, params.min), params.max));
  } else if (kind == "leaky_relu") {
    // x * slope below zero (and at -0: -0, as PyTorch); NaN stays NaN.
    name = "leaky_relu_act";
    y = strict_float(select(x > 0.0f, x, strict_float(x * params.slope)));
  } else if (kind == "hardswish" || kind == "hardsigmoid") {
    // PyTorch's order: min(max(x + 3, 0), 6), times x for hardswish, then
    // divided by 6 (not multiplied by 1/6). At -inf, hardswish is -inf * 0:
    // NaN, as in PyTorch.
    Expr relu6 = strict_float(min(max(strict_float(x + 3.0f), 0.0f), 6.0f));
    bool swish = kind == "hardswish";
    name = swish ? "hardswish_act" : "hardsigmoid_act";
    y = strict_float((swish ? strict_float(x * relu6) : relu6) / 6.0f);
  } else if (kind == "gelu") {
    // x / 2 * (1 + erf(x / sqrt(2))) (PyTorch's exact GELU): below zero as
    // x / 2 * erfc(|x| / sqrt(2)), so the small tail keeps its relative
    // precision; erfc(t) = poly(u) e^-t^2 with u = 1 / (1 + p t)
    // (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). Past t^2 = 87 (|x| =
    // 13.19) e^-t^2 underflows: x above zero, x * 0 below (-0; NaN at -inf,
    // as in PyTorch).
    name = "gelu_act";
    Expr t = abs(fx) * 0.70710678118654752f;
    Expr u = 1.0f / (1.0f + 0.3275911f * t);
    Expr poly = 1.061405429f;
    for (float c : {-1.453152027f, 1.421413741f, -0.284496736f, 0.254829592f})
      poly = c + u * poly;
    Expr erfc = u * poly * expNonPositive(-(t * t));
    Expr half = 0.5f * fx;
    Expr smooth = select(fx < 0.0f, half * erfc, half * (2.0f - erfc));
    y = select(above(13.1909059f), select(negative, strict_float(x * 0.0f), x), smooth);
  } else if (kind == "silu") {
    // x / (1 + e^-x) for x >= 0; below, x e^x / (1 + e^x), no overflow
    // (e = e^-|x|), one division. Past |x| = 87: x, or x * 0 below (PyTorch's
    // x / (1 + e^-x) is -0 there, and NaN at -inf: -inf * 0).
    name = "silu_act";
    Expr e = expNonPositive(-abs(fx));
    Expr smooth = select(fx >= 0.0f, fx, fx * e) / (1.0f + e);
    y = select(above(87.0f), select(negative, strict_float(x * 0.0f), x), smooth);
  } else {
    // tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|); below
    // |x| = 1/8, where 1 - e cancels, its Taylor series (next term < 1e-11
    // relative), so tiny inputs keep their value as in PyTorch. Past |x| =
    // 43.5 e underflows: +-1.
    name = "tanh_act";
    Expr a = abs(fx);
    Expr e = expNonPositive(-2.0f * a);
    Expr t = (1.0f - e) / (1.0f + e);
    // x (1 - x^2/3 + 2x^4/15 - 17x^6/315 + 62x^8/2835), by Horner's rule.
    Expr x2 = fx * fx;
    Expr poly = -17.0f / 315 + x2 * (62.0f / 2835);
    for (float c : {2.0f / 15, -1.0f / 3, 1.0f})
      poly = c + x2 * poly;
    Expr smooth = select(a < 0.125f, fx * poly, select(fx < 0.0f, -t, t));
    y = select(above(43.5f), select(negative, -1.0f, 1.0f), smooth);
  }
  Func act(name);
  act(coords) = select(nan, x, y);
  return act;
}

Func emitBatchNorm(nn::BatchNormOp op, EmitContext &ctx) {
  // y = x * scale + shift with scale = gamma / sqrt(var + eps) and
  // shift = beta - mean * scale, both per channel and computed once.
  size_t rank = ctx.inputShapes[0].size();
  std::vector<Var> coords = coordsFor(rank);
  Var ch = channelVar(rank);
  float eps = static_cast<float>(op.eps().convertToDouble());
  Func scale("bn_scale"), shift("bn_shift"), bn("batch_norm");
  scale(ch) = ctx.weights[0](ch) / sqrt(ctx.weights[3](ch) + eps);
  shift(ch) = ctx.weights[1](ch) - ctx.weights[2](ch) * scale(ch);
  bn(coords) = ctx.inputs[0](coords) * scale(ch) + shift(ch);
  if (!ctx.gpu) { // on a GPU, recomputed inline (cheaper than a host stage)
    scale.compute_root();
    shift.compute_root();
  }
  return bn;
}

Func emitLayerNorm(nn::LayerNormOp op, EmitContext &ctx) {
  // Per pixel (or item), over the channels: the mean, the biased variance
  // about it, then PyTorch's order: (x * rstd + (-rstd * mean)) * weight +
  // bias with rstd = 1 / sqrt(var + eps). A NaN or Inf anywhere in the
  // channels makes the pixel's every output NaN, as in PyTorch.
  size_t rank = ctx.inputShapes[0].size();
  std::vector<Var> coords = coordsFor(rank);
  Var ch = channelVar(rank);
  int channels = static_cast<int>(ctx.inputShapes[0][1]);
  float eps = static_cast<float>(op.eps().convertToDouble());
  RDom r(0, channels, "r");
  std::vector<Var> rest;
  for (const Var &v : coords)
    if (!v.same_as(ch))
      rest.push_back(v);
  auto at = [&](Expr channel) {
    std::vector<Expr> args(coords.begin(), coords.end());
    args[rank == 4 ? 2 : 0] = channel;
    return ctx.inputs[0](args);
  };
  Func total("layer_norm_sum"), mean("layer_norm_mean"), squares("layer_norm_squares"),
      rstd("layer_norm_rstd"), out("layer_norm");
  // Where the channels are contiguous and in whole groups of 16, each sum
  // runs as 16 partial sums per pixel (lane l sums channels l, l + 16,
  // ...: one AVX-512 vector, two AVX2 ones), then across them: a scalar
  // chain of one add per channel ran ConvNeXt-Tiny's 23 LayerNorms at 1.6
  // ms. 16 on every variant, so that each sums in the same order (an INT8
  // ConvNeXt's variants agree bit for bit; with a vector's width of
  // partial sums AVX2 and AVX-512 differed in the last bit). NaN and Inf
  // propagate either way.
  const int V = ctx.vectorWidth, P = 16;
  bool lanes = !ctx.gpu && channels % P == 0 &&
               (rank == 2 || ctx.inputLayouts[0] == Layout::NHWC);
  Var lane("lane");
  std::vector<Var> laneRest = {lane};
  laneRest.insert(laneRest.end(), rest.begin(), rest.end());
  RDom blocks(0, channels / P, "rb"), across(0, P, "rl");
  Func totalLanes("layer_norm_sum_lanes"), squareLanes("layer_norm_squares_lanes");
  auto sumOf = [&](Func sum, Func partial, const std::function<Expr(Expr)> &term) {
    sum(rest) = 0.0f;
    if (!lanes) {
      sum(rest) = strict_float(sum(rest) + term(r.x));
      return;
    }
    partial(laneRest) = 0.0f;
    partial(laneRest) = strict_float(partial(laneRest) + term(blocks.x * P + lane));
    std::vector<Expr> at = {across.x};
    at.insert(at.end(), rest.begin(), rest.end());
    sum(rest) = strict_float(sum(rest) + partial(at));
  };
  sumOf(total, totalLanes, [&](Expr c) { return at(c); });
  mean(rest) = strict_float(total(rest) / static_cast<float>(channels));
  sumOf(squares, squareLanes, [&](Expr c) {
    Expr d = strict_float(at(c) - mean(rest));
    return strict_float(d * d);
  });
  rstd(rest) = strict_float(1.0f / sqrt(strict_float(squares(rest) / static_cast<float>(channels) + eps)));
  Expr x = ctx.inputs[0](coords);
  Expr normalized = strict_float(x * rstd(rest) + strict_float(-rstd(rest) * mean(rest)));
  out(coords) = strict_float(normalized * ctx.weights[0](ch) + ctx.weights[1](ch));
  if (ctx.gpu)
    return out;
  std::vector<int64_t> shape = ctx.outputShape;
  Layout layout = ctx.outputLayout;
  ctx.schedule = [=](Func output) mutable {
    Var task = scheduleOutput(output, shape, V, layout);
    for (Func f : {total, mean, squares, rstd})
      f.compute_at(output, task);
    if (lanes)
      for (Func f : {totalLanes, squareLanes}) {
        f.compute_at(output, task).vectorize(lane);
        f.update().vectorize(lane);
      }
  };
  return out;
}

Func emitChannelScale(nn::ChannelScaleOp, EmitContext &ctx) {
  const Vars &v = vars();
  Func scaled("channel_scale");
  scaled(v.x, v.y, v.c, v.n) = ctx.inputs[0](v.x, v.y, v.c, v.n) * ctx.weights[0](0, 0, v.c);
  return scaled;
}

Func emitChannelAffine(nn::ChannelAffineOp op, EmitContext &ctx) {
  size_t rank = ctx.inputShapes[0].size();
  std::vector<Var> coords = coordsFor(rank);
  Var ch = channelVar(rank);
  int channels = static_cast<int>(op.scale().size());
  Buffer<float> scale(channels, "affine_scale"), shift(channels, "affine_shift");
  for (int i = 0; i < channels; ++i) {
    scale(i) = static_cast<float>(op.scale()[i].cast<mlir::FloatAttr>().getValueAsDouble());
    shift(i) = static_cast<float>(op.shift()[i].cast<mlir::FloatAttr>().getValueAsDouble());
  }
  Func affine("channel_affine");
  if (ctx.gpu) {
    // Constants in the kernel: a buffer baked into the pipeline would live
    // on the host.
    Expr a = scale(channels - 1), b = shift(channels - 1);
    for (int i = channels - 2; i >= 0; --i) {
      a = select(ch == i, scale(i), a);
      b = select(ch == i, shift(i), b);
    }
    affine(coords) = ctx.inputs[0](coords) * a + b;
    return affine;
  }
  affine(coords) = ctx.inputs[0](coords) * scale(ch) + shift(ch);
  return affine;
}

Func emitSum(const std::vector<Func> &terms, const std::string &name) {
  std::vector<Var> coords = coordsFor(static_cast<size_t>(terms[0].dimensions()));
  Expr total = terms[0](coords);
  for (size_t i = 1; i < terms.size(); ++i)
    total = total + terms[i](coords);
  Func sum(name);
  sum(coords) = total;
  return sum;
}

Func emitAdd(nn::AddOp, EmitContext &ctx) { return emitSum(ctx.inputs, "add"); }

Func emitMul(nn::MulOp op, EmitContext &ctx) {
  // Each operand read at the output's coordinates, 0 along a dimension it
  // broadcasts (size 1 where the result's is not).
  llvm::ArrayRef<int64_t> out = op.getType().cast<mlir::RankedTensorType>().getShape();
  std::vector<Var> coords = coordsFor(out.size());
  // From the op's types, where the batch is dynamic in both (ctx.inputShapes
  // may hold the batch a library is built for).
  auto operand = [&](size_t i) {
    llvm::ArrayRef<int64_t> shape =
        op->getOperand(i).getType().cast<mlir::RankedTensorType>().getShape();
    std::vector<Expr> at;
    for (size_t c = 0; c < coords.size(); ++c) {
      size_t dim = out.size() - 1 - c; // coordinates run innermost first: (x, y, c, n), (f, n)
      at.push_back(shape[dim] == 1 && out[dim] != 1 ? Expr(0) : Expr(coords[c]));
    }
    return ctx.inputs[i](at);
  };
  Func product("mul");
  product(coords) = operand(0) * operand(1);
  return product;
}

namespace {
/// The input read at the output's coordinates with the one along `axis`
/// (a dimension index: 1 is channels) replaced by `at(coordinate)`.
Func remapAxis(const EmitContext &ctx, int64_t axis, const std::function<Expr(Expr)> &at,
               const std::string &name) {
  size_t rank = ctx.inputShapes[0].size();
  std::vector<Var> coords = coordsFor(rank);
  std::vector<Expr> args(coords.begin(), coords.end());
  size_t c = rank - 1 - static_cast<size_t>(axis); // coordinates run innermost first
  args[c] = at(coords[c]);
  Func out(name);
  out(coords) = ctx.inputs[0](args);
  return out;
}
} // namespace

Func emitNarrow(nn::NarrowOp op, EmitContext &ctx) {
  int start = static_cast<int>(op.start());
  return remapAxis(ctx, op.axis(), [start](Expr i) { return i + start; }, "narrow");
}

Func emitChannelShuffle(nn::ChannelShuffleOp op, EmitContext &ctx) {
  int groups = static_cast<int>(op.groups());
  int perGroup = static_cast<int>(ctx.inputShapes[0][1]) / groups;
  return remapAxis(
      ctx, 1, [=](Expr c) { return (c % groups) * perGroup + c / groups; }, "channel_shuffle");
}

Func emitPad(nn::PadOp op, EmitContext &ctx) {
  // out(x, y) = in(x - left, y - top) inside the image, `value` around it.
  const std::vector<int64_t> &in = ctx.inputShapes[0];
  int top = static_cast<int>(op.pads()[0].cast<mlir::IntegerAttr>().getInt());
  int left = static_cast<int>(op.pads()[1].cast<mlir::IntegerAttr>().getInt());
  int height = static_cast<int>(in[2]), width = static_cast<int>(in[3]);
  float value = static_cast<float>(op.value().convertToDouble());
  std::vector<Var> coords = coordsFor(4); // x, y, c, n: innermost first
  Expr x = coords[0] - left, y = coords[1] - top;
  Expr inside = x >= 0 && x < width && y >= 0 && y < height;
  Func out("pad");
  out(coords) = select(inside, ctx.inputs[0](clamp(x, 0, width - 1), clamp(y, 0, height - 1),
                                             coords[2], coords[3]),
                       value);
  return out;
}

Func emitSoftmax(nn::SoftmaxOp op, EmitContext &ctx) {
  // Along the channel axis: subtract the max, exponentiate, normalize.
  size_t rank = ctx.inputShapes[0].size();
  std::vector<Var> coords = coordsFor(rank);
  int channels = static_cast<int>(ctx.inputShapes[0][1]);
  RDom r(0, channels, "r");
  std::vector<Var> rest;
  for (const Var &v : coords)
    if (!v.same_as(channelVar(rank)))
      rest.push_back(v);
  auto at = [&](Expr channel) {
    std::vector<Expr> args(coords.begin(), coords.end());
    args[rank == 4 ? 2 : 0] = channel;
    return args;
  };
  Func peak("softmax_max"), e("softmax_exp"), total("softmax_sum"), out("softmax");
  // A NaN anywhere along the axis makes the whole row NaN, as in PyTorch:
  // the NaN reaches `total` through exp even when the max dropped it.
  peak(rest) = maximum(ctx.inputs[0](at(r.x)));
  Expr d = strict_float(ctx.inputs[0](coords) - peak(rest)); // <= 0, or NaN
  e(coords) = strict_float(select(isNan(d), d,
                                  select(d < -87.0f, 0.0f, strict_float(exp(d)))));
  total(rest) = 0.0f;
  total(rest) = strict_float(total(rest) + e(at(r.x)));
  // log_softmax: x - max - log(sum): -inf where x is, NaN across a NaN row.
  if (op.log())
    out(coords) = strict_float(d - strict_float(log(total(rest))));
  else
    out(coords) = strict_float(e(coords) / total(rest));
  // Parallel over the rows the axis runs through (batch items, image rows);
  // each task computes its own max, exponentials and sum.
  Layout layout = ctx.outputLayout;
  int V = ctx.vectorWidth;
  if (ctx.gpu)
    return out; // each thread its own max and sum (scheduleOutputGpu)
  ctx.schedule = [=](Func output) {
    const Vars &v = vars();
    Var task("task");
    if (rank == 2) {
      output.vectorize(v.f, V, TailStrategy::GuardWithIf).parallel(v.n);
      task = v.n;
    } else {
      Var inner = layout == Layout::NHWC ? v.c : v.x;
      if (layout == Layout::NHWC)
        output.reorder(v.c, v.x, v.y, v.n);
      output.vectorize(inner, V, TailStrategy::GuardWithIf).fuse(v.y, v.n, task).parallel(task);
    }
    for (Func f : {peak, e, total})
      f.compute_at(output, task);
  };
  return out;
}

Func emitLocalResponseNorm(nn::LocalResponseNormOp op, EmitContext &ctx) {
  // x / (k + alpha/size * sum of x^2 over channels [c - size/2, c + (size-1)/2])^beta
  const Vars &v = vars();
  const std::vector<int64_t> &in = ctx.inputShapes[0];
  int size = static_cast<int>(op.size());
  float alpha = static_cast<float>(op.alpha().convertToDouble());
  float beta = static_cast<float>(op.beta().convertToDouble());
  float k = static_cast<float>(op.k().convertToDouble());
  Func squared("lrn_squared");
  squared(v.x, v.y, v.c, v.n) =
      strict_float(ctx.inputs[0](v.x, v.y, v.c, v.n) * ctx.inputs[0](v.x, v.y, v.c, v.n));
  Func bounded = BoundaryConditions::constant_exterior(
      squared, 0.0f,
      {{0, static_cast<int>(in[3])}, {0, static_cast<int>(in[2])}, {0, static_cast<int>(in[1])}});
  RDom r(0, size, "r");
  Func total("lrn_sum"), out("lrn");
  total(v.x, v.y, v.c, v.n) = 0.0f;
  total(v.x, v.y, v.c, v.n) =
      strict_float(total(v.x, v.y, v.c, v.n) + bounded(v.x, v.y, v.c - size / 2 + r.x, v.n));
  // Strict, and pow (a fast exp/log pair in Halide) only on finite bases:
  // an infinite or NaN denominator divides directly, so an Inf input gives
  // Inf / Inf = NaN and a huge one x / Inf = 0, as in PyTorch.
  Expr x = strict_float(ctx.inputs[0](v.x, v.y, v.c, v.n));
  Expr d = strict_float(k + (alpha / static_cast<float>(size)) * total(v.x, v.y, v.c, v.n));
  out(v.x, v.y, v.c, v.n) =
      strict_float(select(isFinite(d), strict_float(x / pow(d, beta)), strict_float(x / d)));
  return out;
}

Var scheduleOutput(Func output, const std::vector<int64_t> &shape, int vectorWidth,
                   Layout layout) {
  const Vars &v = vars();
  int64_t perSample = 1;
  for (size_t d = 1; d < shape.size(); ++d)
    perSample *= shape[d];
  // A batch item this small (64 KB) is not worth waking a thread for: only
  // batch items run in parallel.
  bool small = perSample <= 16384;
  if (shape.size() == 4) {
    Var inner = layout == Layout::NHWC ? v.c : v.x;
    if (layout == Layout::NHWC)
      output.reorder(v.c, v.x, v.y, v.n);
    output.vectorize(inner, vectorWidth, TailStrategy::GuardWithIf);
    if (small) {
      output.parallel(v.n);
      return v.n;
    }
    Var task("task");
    if (layout == Layout::NHWC)
      output.fuse(v.y, v.n, task);
    else
      output.fuse(v.c, v.n, task);
    output.parallel(task);
    return task;
  }
  Var fo("fo"), fi("fi"), fon("fon");
  output.split(v.f, fo, fi, vectorWidth, TailStrategy::GuardWithIf).vectorize(fi);
  if (small) {
    output.parallel(v.n);
    return v.n;
  }
  output.fuse(fo, v.n, fon).parallel(fon);
  return fon;
}

void vectorizeInner(Func f, Layout layout, int vectorWidth) {
  const Vars &v = vars();
  if (f.dimensions() != 4 || layout == Layout::NCHW) {
    Var inner = f.dimensions() == 4 ? v.x : v.f;
    f.vectorize(inner, vectorWidth, TailStrategy::GuardWithIf);
    for (int u = 0; u < f.num_update_definitions(); ++u)
      f.update(u).vectorize(inner, vectorWidth, TailStrategy::GuardWithIf);
    return;
  }
  // Channels innermost in memory and in every loop nest, reductions inside.
  f.reorder_storage(v.c, v.x, v.y, v.n);
  f.reorder(v.c, v.x, v.y, v.n).vectorize(v.c, vectorWidth, TailStrategy::GuardWithIf);
  for (int u = 0; u < f.num_update_definitions(); ++u) {
    std::vector<VarOrRVar> order = {v.c};
    for (const Internal::Dim &d : f.update(u).get_schedule().dims())
      if (d.is_rvar())
        order.push_back(RVar(d.var));
    for (const Var &pure : {v.x, v.y, v.n})
      order.push_back(pure);
    f.update(u).reorder(order).vectorize(v.c, vectorWidth, TailStrategy::GuardWithIf);
  }
}

} // namespace netc::lowering
