//===- Conv.cpp - 2-d convolution: the direct templates --------------------===//
//
// conv.direct serves every conv: output channels in vector lanes, a register
// tile of output channels x output columns, the reduction (input channels
// innermost, then the kernel window) inside it. conv.rows serves a conv with
// fewer output channels than a vector that writes NCHW (LeNet's first): a
// vector of output columns by every channel. The weights are packed once at
// load, output channels innermost and padded to whole vectors, with a
// BatchNorm that follows the conv folded in; the input is copied with a zero
// halo next to the parallel loop, so the hot loop has no boundary test.
//
//===----------------------------------------------------------------------===//
#include "Templates.h"

namespace netc::lowering {

using namespace Halide;

namespace {

/// The shape and attributes of nn.conv2d or nn.fused_conv2d.
template <typename Op> ConvShape read(Op op) {
  llvm::ArrayRef<int64_t> w =
      op.weight().getType().template cast<mlir::RankedTensorType>().getShape();
  ConvShape s;
  s.cout = static_cast<int>(w[0]);
  s.cin = static_cast<int>(w[1]);
  s.kernel[0] = static_cast<int>(w[2]);
  s.kernel[1] = static_cast<int>(w[3]);
  auto set = [](mlir::ArrayAttr attr, int out[2]) {
    int64_t pair[2];
    readPair(attr, pair);
    out[0] = static_cast<int>(pair[0]);
    out[1] = static_cast<int>(pair[1]);
  };
  set(op.stride(), s.stride);
  set(op.pad(), s.pad);
  set(op.dilation(), s.dilation);
  s.groups = static_cast<int>(op.groups());
  s.hasBias = static_cast<bool>(op.bias());
  return s;
}

} // namespace

int columnsPerTile(int64_t width, int most) {
  for (int t = most; t >= 4; --t)
    if (width % t == 0)
      return t;
  if (width <= most)
    return static_cast<int>(width);
  // No divisor: the tile that computes the fewest columns in all (the last
  // tile shifts inwards and recomputes an overlap), the wider on a tie.
  // (Inception v3's 17-wide rows: 3 tiles of 6, 18 columns, not 3 of 8, 24;
  // Mixed_6a.branch3x3 2.1 -> 1.7 ms.)
  int best = 4;
  for (int t = 4; t <= most; ++t)
    if ((width + t - 1) / t * t <= (width + best - 1) / best * best)
      best = t;
  return best;
}

int vectorsPerTile(int cout, int V, int columns, int most, int budget) {
  for (int v = most; v >= 1; --v)
    if (v * columns <= budget && cout % (v * V) == 0)
      return v;
  return cout > V && 2 * columns <= budget ? 2 : 1;
}

bool channelBlockTasks(int64_t outHeight, int64_t weightBytes, int64_t inputBytes,
                       int64_t rowTaskWeights) {
  return outHeight > 14 ? weightBytes > rowTaskWeights : weightBytes > inputBytes;
}

std::pair<Expr, Expr> foldedScaleAndBias(const EmitContext &ctx, Expr co, bool hasBias) {
  Expr scale = 1.0f, bias = hasBias ? Expr(ctx.weights[1](co)) : Expr(0.0f);
  if (ctx.bnEps) {
    const std::vector<ImageParam> &bn = ctx.weights;
    size_t b = ctx.bnFirst; // gamma, beta, mean, var
    float eps = static_cast<float>(*ctx.bnEps);
    // IEEE sqrt and division, no FMA: LLVM's fast-math estimates (rsqrt
    // and its Newton step) differ between AVX2 and AVX-512, and every
    // variant of a library must fold the same weights (INT8 quantizes them).
    scale = strict_float(bn[b](co) / sqrt(bn[b + 3](co) + eps));
    bias = strict_float((bias - bn[b + 2](co)) * scale + bn[b + 1](co));
  }
  return {scale, bias};
}

Func zeroHalo(const EmitContext &ctx, const char *name) {
  const Vars &v = vars();
  const std::vector<int64_t> &in = ctx.inputShapes[0]; // N C H W
  Func padded(name);
  padded(v.x, v.y, v.c, v.n) = BoundaryConditions::constant_exterior(
      ctx.inputs[0], 0.0f,
      {{0, static_cast<int>(in[3])}, {0, static_cast<int>(in[2])}})(v.x, v.y, v.c, v.n);
  return padded;
}

Func convolve(const ConvShape &shape, Func padded, const RDom &r,
              const std::function<Expr(Expr, Expr, Expr, Expr)> &weightAt, ImageParam shift) {
  const Vars &v = vars();
  const int *stride = shape.stride, *pad = shape.pad, *dilation = shape.dilation;
  int coutPerGroup = shape.cout / shape.groups;
  // Channels past `cout` (a padded tile) read the last group: their
  // weights are zero, and the input stays in bounds.
  Expr ci = shape.groups == 1
                ? Expr(r.x)
                : min(v.c / coutPerGroup, shape.groups - 1) * shape.cin + r.x;
  Func conv("conv");
  conv(v.x, v.y, v.c, v.n) = shift(v.c);
  conv(v.x, v.y, v.c, v.n) +=
      padded(v.x * stride[1] - pad[1] + r.y * dilation[1],
             v.y * stride[0] - pad[0] + r.z * dilation[0], ci, v.n) *
      weightAt(v.c, r.x, r.y, r.z);
  return conv;
}

ConvShape convShapeOf(mlir::Operation *op) {
  if (auto linear = mlir::dyn_cast<nn::ChannelLinearOp>(op)) {
    llvm::ArrayRef<int64_t> w = linear.weight().getType().cast<mlir::RankedTensorType>().getShape();
    ConvShape s{static_cast<int>(w[0]), static_cast<int>(w[1]), {1, 1}, {1, 1}, {0, 0}, {1, 1},
                1, static_cast<bool>(linear.bias())};
    return s;
  }
  return mlir::isa<nn::Conv2dOp>(op) ? read(mlir::cast<nn::Conv2dOp>(op))
                                      : read(mlir::cast<nn::FusedConv2dOp>(op));
}

Expr convWeight(const EmitContext &ctx, Expr kx, Expr ky, Expr ci, Expr co) {
  const ImageParam &w = ctx.weights[0];
  return w.dimensions() == 2 ? w(ci, co) : w(kx, ky, ci, co);
}

Int8Codes int8Codes(const ConvShape &conv, EmitContext &ctx, int coutPadded) {
  int cout = conv.cout, cin = conv.cin, kh = conv.kernel[0], kw = conv.kernel[1];
  // W' at a channel in [0, cout), and its channel's scale.
  auto folded = [&ctx, &conv](Expr co, Expr ci, Expr kx, Expr ky) {
    return convWeight(ctx, kx, ky, ci, co) * foldedScaleAndBias(ctx, co, conv.hasBias).first;
  };
  Var pc("pc");
  RDom rw(0, cin, 0, kw, 0, kh, "rw");
  Func absMax("conv_weight_absmax");
  absMax(pc) = maximum(abs(folded(clamp(pc, 0, cout - 1), rw.x, rw.y, rw.z)));
  absMax.compute_root();
  // In IEEE arithmetic (strict_float), so every variant packs the same codes.
  auto scaleOf = [absMax](Expr co) {
    Expr m = absMax(co);
    return select(m > 0.0f, strict_float(m / 127.5f), 1.0f);
  };
  Int8Codes codes;
  codes.code = [=](Expr co, Expr ci, Expr kx, Expr ky) {
    return clamp(round(strict_float(folded(co, ci, kx, ky) * (1.0f / scaleOf(co)))), -128.0f,
                 127.0f);
  };
  Expr co = clamp(pc, 0, cout - 1);
  Func packScale("conv_pack_weight_scale");
  packScale(pc) = select(pc < cout, scaleOf(co), 0.0f);
  Func packSum("conv_pack_weight_sum");
  packSum(pc) = select(pc < cout, sum(cast<int>(codes.code(co, rw.x, rw.y, rw.z))), 0);
  codes.scale = ctx.addPack(packScale, {coutPadded});
  codes.sum = ctx.addPack(packSum, {coutPadded}, DType::I32);
  return codes;
}

int64_t rowsPerTask(const ConvShape &conv, const std::vector<int64_t> &out) {
  int64_t macsPerRow = out[3] * conv.cout * conv.cin * conv.kernel[0] * conv.kernel[1];
  return std::min<int64_t>(out[2], std::max({int64_t{1}, std::min<int64_t>(4, out[2] / 8),
                                             (int64_t{65536} + macsPerRow - 1) / macsPerRow}));
}

namespace {

/// NCHW shape of a value, the batch as 1.
std::vector<int64_t> shapeOf(mlir::Value value) {
  llvm::ArrayRef<int64_t> s = value.getType().cast<mlir::RankedTensorType>().getShape();
  std::vector<int64_t> out(s.begin(), s.end());
  out[0] = 1;
  return out;
}

//===--- conv.direct -------------------------------------------------------===//

bool directFits(mlir::Operation *, const PlanContext &ctx) { return !ctx.target.gpu(); }

// Whole tiles of `vectors` x V output channels by `columns` output
// columns; the packed weights are zero past `cout`, so the last tile needs
// no guard.
//
// Tasks: a few output rows each when the image is larger than 14x14 and the
// weights small enough (4 MB) to re-read per row from cache; otherwise, when
// the weights outweigh the input (ResNet's layer3 and layer4, VGG's last
// blocks), a block of output channels over the whole image each, so each
// weight is read once per task. Row tasks keep 2 vectors per tile (measured
// best at 28x28 and 56x56); channel-block tasks take up to 4, as reuse of
// each broadcast pixel is all they have. (ResNet-50, per-step profile:
// layer3's 3x3 convs 58 % -> 81 % of peak, layer4's 37 % -> 62 %.) Both stay
// within the target's accumulator registers; row tasks on AVX-512 take up
// to 12 columns, so a width with no divisor in [4, 8] still gets whole
// tiles (AlexNet's 27: 9, not 4 tiles of 8 for 27 columns; its 55: 11).
PlanParams directPlan(mlir::Operation *op, const PlanContext &ctx, mlir::Builder &b) {
  ConvShape conv = convShapeOf(op);
  std::vector<int64_t> in = shapeOf(op->getOperand(0)), out = shapeOf(op->getResult(0));
  const int V = ctx.target.lanes(), budget = ctx.target.accumulatorRegisters();
  int64_t elementBytes = computesInInt8(op) ? 1 : computesInBf16(op) ? 2 : 4;
  int64_t weightBytes = elementBytes * conv.kernel[0] * conv.kernel[1] * conv.cin * conv.cout;
  int64_t inputBytes = int64_t{4} * in[1] * in[2] * in[3];
  // INT8 convs take row tasks whatever their shape: their channel-block
  // form ran 6-8x slower (ResNet-18 at 224, Xeon, 2 threads: layer3 and
  // layer4's 3x3 convs 116 against 450-700 GOP/s; the network 15.7 -> 5.0 ms).
  // Row tasks visit every channel block in each output row, so the whole
  // of the weights streams once per row: beyond the L2 of a core they come
  // from L3 each time (Inception v3's Mixed_6a.branch3x3, 288 -> 384 at
  // 17x17, 4 MB: 3.7 ms in row tasks, 1.7 in channel blocks).
  // Grouped convs take row tasks too: each output channel reads only its
  // group's inputs, so blocks of channels save no input traffic, and their
  // whole-image tiles ran RegNetY-400MF's 440-channel 3x3s (groups of 8, 7x7)
  // at 6.5 GFLOP/s (0.45 ms each; 0.06 in row tasks).
  bool channels = writtenString(ctx, "tasks",
                                !computesInInt8(op) && conv.groups == 1 &&
                                        channelBlockTasks(out[2], weightBytes, inputBytes,
                                                          ctx.target.l2Bytes)
                                    ? "channels"
                                    : "rows") == "channels";
  int columns = static_cast<int>(writtenInt(
      ctx, "columns", columnsPerTile(out[3], std::min(channels ? 8 : 12, budget / 2))));
  int vectors = vectorsPerTile(conv.cout, V, columns, channels ? 4 : 2, budget);
  PlanParams params = {{"tasks", b.getStringAttr(channels ? "channels" : "rows")},
                       {"columns", b.getI64IntegerAttr(columns)},
                       {"vectors", b.getI64IntegerAttr(vectors)}};
  // Channel-block tasks over whole tiles: where the block's outputs stay in
  // L1, the reduction runs outermost in chunks of input channels, so each
  // chunk of weights is read once per task instead of once per row. Where
  // they do not (14x14 x 64 channels: 50 KB), each chunk would reload every
  // accumulator from L2, so the whole reduction runs in each register tile
  // instead, the block's weights re-read from L2 where they fit in half of
  // it. (ResNet-50's layer3 1x1 convs, 1024 -> 256 at 14x14, Intel Xeon:
  // 0.74 -> 0.59 ms, medians of 4 interleaved profiles; the others within
  // the noise.)
  if (channels) {
    int64_t block = int64_t{4} * vectors * V;
    bool outputsInL1 = block * out[2] * out[3] <= ctx.target.l1Bytes / 2;
    bool weightsInL2 = block * conv.cin * conv.kernel[0] * conv.kernel[1] <= ctx.target.l2Bytes / 2;
    int chunk = conv.cin % 64 == 0 && (outputsInL1 || !weightsInL2) ? 64 : conv.cin;
    params.emplace_back("chunk", b.getI64IntegerAttr(chunk));
  } else
    params.emplace_back("rows_per_task", b.getI64IntegerAttr(rowsPerTask(conv, out)));
  if (computesInBf16(op))
    params.emplace_back("bf16_dot", b.getBoolAttr(ctx.bf16Dot.value_or(ctx.target.bf16DotPays())));
  if (computesInInt8(op))
    params.emplace_back("int8_dot", b.getBoolAttr(ctx.target.int8Dot));
  return params;
}

std::string directCheck(mlir::Operation *op, const PlanContext &ctx, mlir::DictionaryAttr plan) {
  ConvShape conv = convShapeOf(op);
  std::vector<int64_t> out = shapeOf(op->getResult(0));
  std::string problem = checkChoice(plan, "tasks", {"rows", "channels"});
  for (std::string p : {checkInt(plan, "columns", 1, std::min<int64_t>(out[3], 16)),
                        checkInt(plan, "vectors", 1, 4)})
    if (problem.empty())
      problem = p;
  if (problem.empty())
    problem = checkAccumulators(plan, ctx.target);
  if (problem.empty() && computesInBf16(op))
    problem = checkBool(plan, "bf16_dot");
  if (problem.empty() && computesInInt8(op))
    problem = checkBool(plan, "int8_dot");
  if (!problem.empty())
    return problem;
  if (planString(plan, "tasks") == "rows")
    return checkInt(plan, "rows_per_task", 1, out[2]);
  problem = checkInt(plan, "chunk", 1, conv.cin);
  if (problem.empty() && conv.cin % planInt(plan, "chunk") != 0)
    problem = "chunk " + std::to_string(planInt(plan, "chunk")) + " does not divide the " +
              std::to_string(conv.cin) + " input channels";
  return problem;
}

} // namespace

namespace {

/// The channels a packed weight row holds when output channels are
/// innermost over all of them (not block-major): `coutPadded`, plus one
/// more tile where a row would be a multiple of 4 KB. A channel-block task
/// reads one tile's slice from each of `cin` rows, and at a 4 KB stride
/// every slice falls in the same L1 and L2 sets: SqueezeNet's classifier,
/// 512 -> 1000 channels padded to 1024 (4 KB rows of float32, or of BF16
/// pairs or INT8 quads), ran at 145-170 GFLOP/s in tiles of 2 or 4 vectors
/// and 350 in tiles of 3 (1008 channels) before this padding.
int rowChannels(int coutPadded, int block, int bytesPerChannel) {
  return (int64_t{coutPadded} * bytesPerChannel) % 4096 == 0 ? coutPadded + block : coutPadded;
}

} // namespace

/// The bias of a conv with a BatchNorm folded in, zero past `cout`, padded
/// to `coutPadded` channels: the accumulators' initial value.
ImageParam packShift(const ConvShape &conv, EmitContext &ctx, int coutPadded) {
  Var pc("pc");
  Func packB("conv_pack_bias");
  Expr co = clamp(pc, 0, conv.cout - 1);
  packB(pc) = select(pc < conv.cout, foldedScaleAndBias(ctx, co, conv.hasBias).second, 0.0f);
  return ctx.addPack(packB, {coutPadded});
}

namespace {

/// The packed weights and bias of a direct conv, output channels innermost
/// in tiles of `block`: packed(co, ci, kx, ky) = W[co, ci, ky, kx] *
/// bn_scale[co], zero past `cout`. Returns the weight's accessor. `bf16`:
/// rounded to BF16 and stored so, widened as read; with `widenedAtLoad`,
/// stored as the rounded values' float32 (a nested stage reads each weight
/// once per register tile: no conversion in its loop).
///
/// Channel-block tasks read one block of `block` output channels each:
/// their weights are stored block after block, so a task streams its own in
/// order and the hardware prefetcher follows. Channels innermost over all of
/// `cout` put each input channel's few hundred bytes on a page of its own
/// (2048 channels: 8 KB apart), and at batch 1, where layer4's weights come
/// from DRAM, every one was a demand miss. (ResNet-50's layer4 steps, A/B of
/// per-step minima over 3 rounds: 8-14 % faster each, with Winograd's weights
/// stored the same way; the step sum 19.1 -> 18.3 ms.)
std::function<Expr(Expr, Expr, Expr, Expr)> packDirect(const ConvShape &conv, EmitContext &ctx,
                                                        int block, bool blockMajor,
                                                        ImageParam &shift, bool bf16 = false,
                                                        bool widenedAtLoad = false) {
  int cout = conv.cout, cinPerGroup = conv.cin, kh = conv.kernel[0], kw = conv.kernel[1];
  int coutPadded = (cout + block - 1) / block * block;
  Var pc("pc"), pi("pi"), px("px"), py("py"), pb("pb");
  Expr co = clamp(pc, 0, cout - 1);
  Expr channel = blockMajor ? pb * block + pc : co;
  Expr value = convWeight(ctx, px, py, pi, channel) *
               foldedScaleAndBias(ctx, channel, conv.hasBias).first;
  Func packW(bf16 ? "conv_pack_weight_bf16" : "conv_pack_weight");
  ImageParam weight;
  auto stored = [bf16, widenedAtLoad](Expr e) {
    return !bf16 ? e : widenedAtLoad ? cast<float>(roundToBf16(e)) : roundToBf16(e);
  };
  bool narrow = bf16 && !widenedAtLoad;
  DType dtype = narrow ? DType::BF16 : DType::F32;
  if (blockMajor) {
    packW(pc, pi, px, py, pb) = stored(value);
    weight = ctx.addPack(packW, {cout / block, kh, kw, cinPerGroup, block}, dtype);
  } else {
    packW(pc, pi, px, py) = stored(select(pc < cout, value, 0.0f));
    weight = ctx.addPack(packW,
                         {kh, kw, cinPerGroup, rowChannels(coutPadded, block, narrow ? 2 : 4)},
                         dtype);
  }
  shift = packShift(conv, ctx, coutPadded);
  return [=](Expr c, Expr ci, Expr kx, Expr ky) {
    Expr w = blockMajor ? weight(c % block, ci, kx, ky, c / block) : weight(c, ci, kx, ky);
    return narrow ? cast<float>(w) : w;
  };
}

/// The same in BF16 for vdpbf16ps, which sums pairs of adjacent BF16
/// products into each float lane: input channels in pairs innermost, then
/// the output channels, packed(pair, co, ci / 2, kx, ky[, block]) =
/// bf16(W[co, ci, ky, kx] * bn_scale[co]), zero past `cout` and past an odd
/// `cin`. The accessor takes (c, pair, ci / 2, kx, ky) and widens to float.
std::function<Expr(Expr, Expr, Expr, Expr, Expr)>
packDirectBf16(const ConvShape &conv, EmitContext &ctx, int block, bool blockMajor,
               ImageParam &shift) {
  int cout = conv.cout, cin = conv.cin, kh = conv.kernel[0], kw = conv.kernel[1];
  int pairs = (cin + 1) / 2;
  int coutPadded = (cout + block - 1) / block * block;
  Var pp("pp"), pc("pc"), pi("pi"), px("px"), py("py"), pb("pb");
  Expr ci = 2 * pi + pp;
  Expr channel = blockMajor ? pb * block + pc : clamp(pc, 0, cout - 1);
  Expr value = convWeight(ctx, px, py, min(ci, cin - 1), channel) *
               foldedScaleAndBias(ctx, channel, conv.hasBias).first;
  Expr inside = blockMajor ? ci < cin : ci < cin && pc < cout;
  Func packW("conv_pack_weight_bf16");
  ImageParam weight;
  if (blockMajor) {
    packW(pp, pc, pi, px, py, pb) = roundToBf16(select(inside, value, 0.0f));
    weight = ctx.addPack(packW, {cout / block, kh, kw, pairs, block, 2}, DType::BF16);
  } else {
    packW(pp, pc, pi, px, py) = roundToBf16(select(inside, value, 0.0f));
    weight = ctx.addPack(packW, {kh, kw, pairs, rowChannels(coutPadded, block, 4), 2}, DType::BF16);
  }
  shift = packShift(conv, ctx, coutPadded);
  return [=](Expr c, Expr pair, Expr ciPair, Expr kx, Expr ky) {
    return cast<float>(blockMajor ? weight(pair, c % block, ciPair, kx, ky, c / block)
                                  : weight(pair, c, ciPair, kx, ky));
  };
}

/// A direct conv's INT8 weights, input channels in groups of `group`
/// innermost (one int32 lane's quad, 4, for vpdpbusd; a pair, 2, for
/// vpmaddwd, which sums pairs of i16 products), then the output channels:
/// packed(k, co, ci / group, kx, ky[, block]) = the code of W'[co, ci, ky,
/// kx] (int8Codes), zero past `cout` and `cin`.
struct Int8Weights {
  std::function<Expr(Expr, Expr, Expr, Expr, Expr)> at; // (c, k, ci / group, kx, ky): int8
  ImageParam scale;                                    // float [coutPadded]
  ImageParam sum;                                      // int32 [coutPadded]
};

Int8Weights packDirectInt8(const ConvShape &conv, EmitContext &ctx, int block, bool blockMajor,
                           int group, ImageParam &shift) {
  int cout = conv.cout, cin = conv.cin, kh = conv.kernel[0], kw = conv.kernel[1];
  int groups = (cin + group - 1) / group;
  int coutPadded = (cout + block - 1) / block * block;
  Int8Codes codes = int8Codes(conv, ctx, coutPadded);
  Var pk("pk"), pc("pc"), pi("pi"), px("px"), py("py"), pb("pb");
  Expr ci = group * pi + pk;
  Expr channel = blockMajor ? pb * block + pc : clamp(pc, 0, cout - 1);
  Expr inside = blockMajor ? ci < cin : ci < cin && pc < cout;
  Expr value = cast<int8_t>(select(inside, codes.code(channel, min(ci, cin - 1), px, py), 0.0f));
  Func packW("conv_pack_weight_s8");
  ImageParam weight;
  if (blockMajor) {
    packW(pk, pc, pi, px, py, pb) = value;
    weight = ctx.addPack(packW, {cout / block, kh, kw, groups, block, group}, DType::I8);
  } else {
    packW(pk, pc, pi, px, py) = value;
    weight = ctx.addPack(packW, {kh, kw, groups, rowChannels(coutPadded, block, group), group},
                         DType::I8);
  }
  Int8Weights w;
  w.scale = codes.scale;
  w.sum = codes.sum;
  shift = packShift(conv, ctx, coutPadded);
  w.at = [=](Expr c, Expr k, Expr quad, Expr kx, Expr ky) {
    return blockMajor ? weight(k, c % block, quad, kx, ky, c / block) : weight(k, c, quad, kx, ky);
  };
  return w;
}

} // namespace

/// An INT8 conv's input, u8 with input channels innermost, the zero point
/// (real 0) outside the image and past `cin` in its last group of `group`
/// (quantized from float32 where the tensor is float32). `copied`: whether
/// it is a Func to compute (else the u8 input buffer as it is read).
Func int8Input(const ConvShape &conv, const EmitContext &ctx, int group, bool &copied,
               bool always) {
  const Vars &v = vars();
  const std::vector<int64_t> &in = ctx.inputShapes[0]; // N C H W
  // The buffer as it is (not under a prologue, which computes from it).
  bool u8 = ctx.inputParams[0].type() == UInt(8) && !ctx.prologue;
  bool unpadded = conv.pad[0] == 0 && conv.pad[1] == 0;
  copied = always || !(u8 && unpadded && conv.cin % group == 0);
  Func input(copied ? "conv_padded_u8" : "conv_input_u8");
  if (!copied) {
    input(v.x, v.y, v.c, v.n) = ctx.inputParams[0](v.x, v.y, v.c, v.n);
    return input;
  }
  int w = static_cast<int>(in[3]), h = static_cast<int>(in[2]), c = static_cast<int>(in[1]);
  Expr x = clamp(v.x, 0, w - 1), y = clamp(v.y, 0, h - 1), ch = min(v.c, c - 1);
  Expr value = u8 ? Expr(ctx.inputParams[0](x, y, ch, v.n))
                  : quantizeU8(ctx.inputs[0](x, y, ch, v.n), ctx.inputScale(0), ctx.inputZero(0));
  Expr inside = v.x >= 0 && v.x < w && v.y >= 0 && v.y < h && v.c < c;
  input(v.x, v.y, v.c, v.n) = select(inside, value, cast<uint8_t>(ctx.inputZero(0)));
  return input;
}

/// A BF16 conv's input, BF16 with input channels innermost, zero outside
/// the image and past an odd `cin` (rounded from float32 where the tensor
/// is float32). `copied`: whether it is a Func to compute (else the input
/// buffer itself, BF16 and as it is read: no halo, an even `cin`).
Func bf16Input(const ConvShape &conv, const EmitContext &ctx, bool &copied, bool always) {
  const Vars &v = vars();
  const std::vector<int64_t> &in = ctx.inputShapes[0]; // N C H W
  // The buffer as it is (not under a prologue, which computes from it).
  bool bf16 = ctx.inputParams[0].type() == BFloat(16) && !ctx.prologue;
  bool unpadded = conv.pad[0] == 0 && conv.pad[1] == 0;
  copied = always || !(bf16 && unpadded && conv.cin % 2 == 0);
  Func input(copied ? "conv_padded_bf16" : "conv_input_bf16");
  if (!copied) {
    input(v.x, v.y, v.c, v.n) = ctx.inputParams[0](v.x, v.y, v.c, v.n);
    return input;
  }
  int w = static_cast<int>(in[3]), h = static_cast<int>(in[2]), c = static_cast<int>(in[1]);
  Expr x = clamp(v.x, 0, w - 1), y = clamp(v.y, 0, h - 1), ch = min(v.c, c - 1);
  Expr value = bf16 ? Expr(ctx.inputParams[0](x, y, ch, v.n))
                    : roundToBf16(ctx.inputs[0](x, y, ch, v.n));
  Expr inside = v.x >= 0 && v.x < w && v.y >= 0 && v.y < h && v.c < c;
  input(v.x, v.y, v.c, v.n) = reinterpret(
      BFloat(16), select(inside, reinterpret(UInt(16), value), cast(UInt(16), 0)));
  return input;
}

namespace {

Func directEmit(mlir::Operation *op, EmitContext &ctx) {
  const Vars &v = vars();
  ConvShape shape = convShapeOf(op);
  const int V = ctx.vectorWidth;
  const std::vector<int64_t> &out = ctx.outputShape;
  // A nested stage (EmitContext::nested) is computed for a few rows of
  // another step's task: row tiles, whatever the plan says of tasks.
  const bool nested = ctx.nested;
  bool channelBlocksOuter = !nested && planString(ctx.plan, "tasks") == "channels";
  int columns = static_cast<int>(planInt(ctx.plan, "columns"));
  int vectors = static_cast<int>(planInt(ctx.plan, "vectors"));
  int cout = shape.cout, cinPerGroup = shape.cin;
  const int block = V * vectors;
  bool blockMajor = channelBlocksOuter && shape.groups == 1 && cout % block == 0;
  ImageParam shift;

  // Algorithm: the input with a zero halo, then the sum over the group's
  // input channels and the kernel window. In BF16 the input channels go in
  // pairs (r.x, innermost: one vdpbf16ps sums a pair per float lane), so
  // the reduction is (pair, channel pair, kernel column, kernel row).
  // BF16 by vdpbf16ps (`bf16_dot`), or BF16 weights and activations
  // widened to float32 as they are read, for FMAs: where vdpbf16ps runs at
  // half the FMA rate (Sapphire Rapids), BF16 pays only in memory traffic.
  // INT8: u8 activations by s8 weights summed in int32 over groups of input
  // channels (r.x, innermost): quads by vpdpbusd (`int8_dot`), else pairs
  // widened to i16 by vpmaddwd; either way the same integer sums, the
  // accumulator started at
  // -zero_point * sum(q) so that it holds sum((x - zero_point) * q) exactly;
  // the result is that times the input's and the channel's scales, plus the
  // folded bias, in float32 for the epilogue.
  bool int8 = computesInInt8(op);
  int group = int8 ? (planBool(ctx.plan, "int8_dot") ? 4 : 2) : 1;
  bool dot = computesInBf16(op) && planBool(ctx.plan, "bf16_dot");
  bool widened = computesInBf16(op) && !dot;
  bool unpadded = shape.pad[0] == 0 && shape.pad[1] == 0;
  // FP32 stages the input (per task, or once) where it has a halo or a
  // prologue (which a tile would otherwise recompute for every vector of
  // output channels).
  // A nested BF16 stage too: each input value is broadcast once per tile
  // of output channels, which on BF16 would widen it as often.
  bool copied = !unpadded || ctx.prologue ||
                (nested && ctx.inputParams[0].type() == BFloat(16));
  Func padded, conv, result;
  RDom r;
  RVar rci, rkx, rky;
  std::vector<VarOrRVar> pair; // the innermost reduction, vectorized (BF16, INT8)
  if (int8) {
    Int8Weights weights = packDirectInt8(shape, ctx, block, blockMajor, group, shift);
    padded = int8Input(shape, ctx, group, copied);
    r = RDom(0, group, 0, (cinPerGroup + group - 1) / group, 0, shape.kernel[1], 0,
             shape.kernel[0], "r");
    pair = {r.x};
    rci = r.y, rkx = r.z, rky = r.w;
    const int *stride = shape.stride, *pd = shape.pad, *dilation = shape.dilation;
    conv = Func("conv_i32");
    conv(v.x, v.y, v.c, v.n) = -cast<int>(ctx.inputZero(0)) * weights.sum(v.c);
    Expr x = padded(v.x * stride[1] - pd[1] + rkx * dilation[1],
                    v.y * stride[0] - pd[0] + rky * dilation[0], group * rci + r.x, v.n);
    Expr w = weights.at(v.c, r.x, rci, rkx, rky);
    if (group == 2) // i16 x i16 -> i32 pairs: vpmaddwd
      x = cast<int16_t>(x), w = cast<int16_t>(w);
    conv(v.x, v.y, v.c, v.n) += cast<int>(Internal::widening_mul(x, w));
    result = Func("conv");
    // No FMA contraction (strict_float): the epilogue's float arithmetic,
    // which decides the next layer's codes, is the same on every variant.
    result(v.x, v.y, v.c, v.n) = strict_float(
        cast<float>(conv(v.x, v.y, v.c, v.n)) * (ctx.inputScale(0) * weights.scale(v.c)) +
        shift(v.c));
  } else if (dot) {
    auto weightAt = packDirectBf16(shape, ctx, block, blockMajor, shift);
    padded = bf16Input(shape, ctx, copied);
    r = RDom(0, 2, 0, (cinPerGroup + 1) / 2, 0, shape.kernel[1], 0, shape.kernel[0], "r");
    pair = {r.x};
    rci = r.y, rkx = r.z, rky = r.w;
    const int *stride = shape.stride, *pd = shape.pad, *dilation = shape.dilation;
    conv = Func("conv");
    conv(v.x, v.y, v.c, v.n) = shift(v.c);
    conv(v.x, v.y, v.c, v.n) +=
        cast<float>(padded(v.x * stride[1] - pd[1] + rkx * dilation[1],
                           v.y * stride[0] - pd[0] + rky * dilation[0], 2 * rci + r.x, v.n)) *
        weightAt(v.c, r.x, rci, rkx, rky);
  } else {
    auto weightAt = packDirect(shape, ctx, block, blockMajor, shift, widened, nested);
    padded = copied ? zeroHalo(ctx, "conv_padded") : ctx.inputs[0];
    r = RDom(0, cinPerGroup, 0, shape.kernel[1], 0, shape.kernel[0], "r");
    rci = r.x, rkx = r.y, rky = r.z;
    conv = convolve(shape, padded, r, weightAt, shift);
  }
  int reductionChannels = int8  ? (cinPerGroup + group - 1) / group
                          : dot ? (cinPerGroup + 1) / 2
                                : cinPerGroup;
  bool grouped = dot || int8; // the reduction's innermost RVar is a channel pair or quad
  // The reduction's loop order, its pair (BF16) innermost, then `rest`.
  auto ordered = [pair](std::vector<VarOrRVar> rest) {
    std::vector<VarOrRVar> order = pair;
    order.insert(order.end(), rest.begin(), rest.end());
    return order;
  };
  auto dotProducts = [grouped, pair](Stage update) {
    if (grouped)
      update.atomic().vectorize(pair[0]);
  };

  // Schedule: the tile accumulated in registers, tasks as planned.
  Layout inputLayout = ctx.inputLayouts[0];
  // Ragged edges: the last tile of columns, and of channels when there is
  // more than one, shifts inwards and overlaps the one before (recomputing
  // a few outputs), so every tile has the same constant extents and its
  // loops unroll into registers.
  TailStrategy channelTail =
      cout >= V * vectors ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  int rowsPerTask = channelBlocksOuter || nested
                        ? 1
                        : static_cast<int>(planInt(ctx.plan, "rows_per_task"));
  int chunk = channelBlocksOuter ? static_cast<int>(planInt(ctx.plan, "chunk")) : 1;
  if (grouped)
    chunk = std::max(1, chunk / (int8 ? group : 2)); // in channel pairs or quads
  bool blocked = channelBlocksOuter && out[3] % columns == 0;
  // The halo'd input, BF16's with its channels innermost whatever the
  // input's layout (the pair a dot product reads is adjacent).
  auto scheduleInput = [=](Func input) {
    if (grouped && inputLayout == Layout::NCHW) {
      input.reorder_storage(v.c, v.x, v.y, v.n).reorder(v.c, v.x, v.y, v.n);
      if (cinPerGroup <= 8)
        input.unroll(v.c);
      return;
    }
    vectorizeInner(input, grouped ? Layout::NHWC : inputLayout, V);
  };
  ctx.schedule = [=](Func output) mutable {
    Var co("co"), cv("cv"), xo("xo"), xi("xi"), yo("yo"), yi("yi"), task("task");
    if (blocked) {
      output.split(v.c, co, cv, V * vectors, channelTail)
          .reorder(cv, v.x, v.y, co, v.n)
          .fuse(co, v.n, task)
          .parallel(task)
          .vectorize(cv, V)
          .unroll(cv);
      conv.compute_at(output, task)
          .reorder_storage(v.c, v.x, v.y, v.n)
          .reorder(v.c, v.x, v.y, v.n)
          .vectorize(v.c, V, TailStrategy::RoundUp)
          .unroll(v.c);
      RVar rxo("rxo"), rxi("rxi");
      Stage update = conv.update();
      update.split(rci, rxo, rxi, chunk)
          .split(v.x, xo, xi, columns)
          .reorder(ordered({v.c, xi, rxi, xo, v.y, rxo, rkx, rky, v.n}));
      dotProducts(update);
      update.vectorize(v.c, V, TailStrategy::RoundUp).unroll(v.c).unroll(xi);
      if (copied) {
        padded.compute_root().parallel(v.y);
        scheduleInput(padded);
      }
      return;
    }
    output.split(v.c, co, cv, V * vectors, channelTail)
        .split(v.x, xo, xi, columns, TailStrategy::ShiftInwards);
    if (nested) {
      output.reorder_storage(v.c, v.x, v.y, v.n).reorder(cv, xi, xo, co, v.y, v.n);
    } else if (channelBlocksOuter) {
      output.reorder(cv, xi, xo, v.y, co, v.n).fuse(co, v.n, task);
    } else {
      output.split(v.y, yo, yi, rowsPerTask, TailStrategy::GuardWithIf)
          .reorder(cv, xi, xo, co, yi, yo, v.n)
          .fuse(yo, v.n, task);
    }
    if (!nested)
      output.parallel(task);
    output.vectorize(cv, V).unroll(cv).unroll(xi);
    conv.compute_at(output, xo)
        .reorder_storage(v.c, v.x, v.y, v.n)
        .reorder(v.c, v.x, v.y, v.n)
        .vectorize(v.c, V, TailStrategy::RoundUp)
        .unroll(v.c)
        .unroll(v.x);
    Stage update = conv.update();
    update.reorder(ordered({v.c, v.x, rci, rkx, rky, v.y, v.n}));
    // Row tasks: the input-channel loop unrolled by 4 (1x1 convs over 64
    // channels went from 56 % to 82 % of peak), 2 pairs in BF16.
    // Channel-block tasks, whose tiles already hold most of the registers,
    // are left as they are.
    int unrolled = grouped ? 2 : 4;
    if (!channelBlocksOuter && reductionChannels % unrolled == 0) {
      RVar rxo("rxo"), rxi("rxi");
      update.split(rci, rxo, rxi, unrolled)
          .reorder(ordered({v.c, v.x, rxi, rxo}))
          .unroll(rxi);
    }
    dotProducts(update);
    update.vectorize(v.c, V, TailStrategy::RoundUp).unroll(v.c).unroll(v.x);
    // The halo'd input: per task's rows, or once for all tasks (in
    // parallel) when each task spans the whole image.
    if (!copied)
      return;
    if (channelBlocksOuter)
      padded.compute_root().parallel(v.y);
    else if (nested) // (correct, not fast: expansionOf nests only unpadded 1x1s)
      padded.compute_at(output, v.y);
    else
      padded.compute_at(output, task);
    scheduleInput(padded);
  };
  return int8 ? result : conv;
}

//===--- conv.rows ---------------------------------------------------------===//

// Fewer output channels than a vector, written NCHW (LeNet's first conv, 6
// channels): vectorized along the row instead, a register tile of one vector
// of columns by every channel, each weight a broadcast. (LeNet-5's
// features.0: 5.7 -> 2.6 us; 16 lanes of channels kept 6 busy and
// scattered every store.)
bool rowsFits(mlir::Operation *op, const PlanContext &ctx) {
  return !ctx.target.gpu() && !computesInBf16(op) && !computesInInt8(op) &&
         layoutOf(op->getResult(0)) == Layout::NCHW &&
         convShapeOf(op).cout < ctx.target.lanes();
}

PlanParams rowsPlan(mlir::Operation *op, const PlanContext &, mlir::Builder &b) {
  return {{"rows_per_task",
           b.getI64IntegerAttr(rowsPerTask(convShapeOf(op), shapeOf(op->getResult(0))))}};
}

std::string rowsCheck(mlir::Operation *op, const PlanContext &, mlir::DictionaryAttr plan) {
  return checkInt(plan, "rows_per_task", 1, shapeOf(op->getResult(0))[2]);
}

Func rowsEmit(mlir::Operation *op, EmitContext &ctx) {
  const Vars &v = vars();
  ConvShape shape = convShapeOf(op);
  const int V = ctx.vectorWidth;
  const std::vector<int64_t> &out = ctx.outputShape;
  ImageParam shift;
  auto weightAt = packDirect(shape, ctx, V, /*blockMajor=*/false, shift);
  // The input staged per task where it has a halo or a prologue (read once
  // per output channel, it would be recomputed as often).
  bool copied = shape.pad[0] != 0 || shape.pad[1] != 0 || ctx.prologue;
  Func padded = copied ? zeroHalo(ctx, "conv_padded") : ctx.inputs[0];
  RDom r(0, shape.cin, 0, shape.kernel[1], 0, shape.kernel[0], "r");
  Func conv = convolve(shape, padded, r, weightAt, shift);
  int rowsPerTask = static_cast<int>(planInt(ctx.plan, "rows_per_task"));
  Layout inputLayout = ctx.inputLayouts[0];
  ctx.schedule = [=](Func output) mutable {
    Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), task("task");
    TailStrategy rowTail = out[3] >= V ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
    output.split(v.x, xo, xi, V, rowTail)
        .split(v.y, yo, yi, rowsPerTask, TailStrategy::GuardWithIf)
        .reorder(xi, v.c, xo, yi, yo, v.n)
        .fuse(yo, v.n, task)
        .parallel(task)
        .vectorize(xi)
        .unroll(v.c);
    conv.compute_at(output, xo).reorder(v.x, v.c, v.y, v.n).vectorize(v.x).unroll(v.c);
    conv.update().reorder(v.x, v.c, r.x, r.y, r.z, v.y, v.n).vectorize(v.x).unroll(v.c);
    if (copied) {
      padded.compute_at(output, task);
      vectorizeInner(padded, inputLayout, V);
    }
  };
  return conv;
}

} // namespace

Template convDirectTemplate() {
  return {"conv.direct", directFits, directPlan, directCheck, directEmit};
}

Template convRowsTemplate() { return {"conv.rows", rowsFits, rowsPlan, rowsCheck, rowsEmit}; }

} // namespace netc::lowering
