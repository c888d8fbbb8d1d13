//===- Pool.cpp - Max, average and adaptive average pooling ----------------===//
#include "Emit.h"

#include <limits>

namespace netc::lowering {

using namespace Halide;

namespace {
Region spatial(const std::vector<int64_t> &nchw) {
  return {{0, static_cast<int>(nchw[3])}, {0, static_cast<int>(nchw[2])}};
}
/// A pool that reads channels innermost and writes NCHW (before a flatten)
/// runs vectorized along the channels it reads: k x k contiguous loads and
/// one scattered store per output, instead of k x k strided gathers.
void vectorizeAlongInput(EmitContext &ctx) {
  if (ctx.gpu || ctx.inputLayouts[0] != Layout::NHWC || ctx.outputLayout == Layout::NHWC)
    return;
  std::vector<int64_t> shape = ctx.outputShape;
  int V = ctx.vectorWidth;
  ctx.schedule = [shape, V](Func output) { scheduleOutput(output, shape, V, Layout::NHWC); };
}

} // namespace

Func emitMaxPool2d(nn::MaxPool2dOp op, EmitContext &ctx) {
  const Vars &v = vars();
  int64_t k[2], s[2], p[2], d[2];
  readPair(op.kernel(), k);
  readPair(op.stride(), s);
  readPair(op.pad(), p);
  readPair(op.dilation(), d);
  // Padding and the ceil-mode overhang read -inf, so they never win. A NaN
  // in the window wins, as in PyTorch: max() alone may drop it, so a window
  // holding one gives NaN (in a large window, once the running value or the
  // candidate is NaN, their sum is kept).
  Func padded = BoundaryConditions::constant_exterior(ctx.inputs[0], Float(32).min(),
                                                      spatial(ctx.inputShapes[0]));
  auto candidate = [&](Expr i, Expr j) {
    return padded(v.x * static_cast<int>(s[1]) - static_cast<int>(p[1]) + i * static_cast<int>(d[1]),
                  v.y * static_cast<int>(s[0]) - static_cast<int>(p[0]) + j * static_cast<int>(d[0]),
                  v.c, v.n);
  };
  auto larger = [](Expr current, Expr next) {
    return strict_float(select(isNan(current) || isNan(next), current + next, max(current, next)));
  };
  Func pool("max_pool");
  if (k[0] * k[1] <= 16) {
    // A small window as one expression: no running buffer to initialize,
    // update and copy out (LeNet-5's pools: ~2 us each, mostly that).
    // The maximum, and whether any candidate is NaN, tested once each.
    Expr best = candidate(0, 0), anyNan = isNan(best);
    for (int j = 0; j < k[0]; ++j)
      for (int i = 0; i < k[1]; ++i)
        if (i || j) {
          Expr c = candidate(i, j);
          best = strict_float(max(best, c));
          anyNan = anyNan || isNan(c);
        }
    pool(v.x, v.y, v.c, v.n) =
        strict_float(select(anyNan, Expr(std::numeric_limits<float>::quiet_NaN()), best));
    vectorizeAlongInput(ctx);
  } else {
    RDom r(0, static_cast<int>(k[1]), 0, static_cast<int>(k[0]), "r");
    pool(v.x, v.y, v.c, v.n) = Float(32).min();
    pool(v.x, v.y, v.c, v.n) = larger(pool(v.x, v.y, v.c, v.n), candidate(r.x, r.y));
    if (!ctx.gpu)
      vectorizeInner(pool, ctx.outputLayout, ctx.vectorWidth);
  }
  return pool;
}

Func emitAvgPool2d(nn::AvgPool2dOp op, EmitContext &ctx) {
  const Vars &v = vars();
  int64_t k[2], s[2], p[2];
  readPair(op.kernel(), k);
  readPair(op.stride(), s);
  readPair(op.pad(), p);
  const std::vector<int64_t> &in = ctx.inputShapes[0];
  int H = static_cast<int>(in[2]), W = static_cast<int>(in[3]);
  Func padded = BoundaryConditions::constant_exterior(ctx.inputs[0], 0.0f, spatial(in));
  RDom r(0, static_cast<int>(k[1]), 0, static_cast<int>(k[0]), "r");
  Expr hs = v.y * static_cast<int>(s[0]) - static_cast<int>(p[0]);
  Expr ws = v.x * static_cast<int>(s[1]) - static_cast<int>(p[1]);
  Func total("avg_pool_sum");
  total(v.x, v.y, v.c, v.n) = sum(padded(ws + r.x, hs + r.y, v.c, v.n));
  // PyTorch's divisor: the window clipped to the padded input (with
  // count_include_pad) or to the input itself (without).
  Expr count;
  if (op.count_include_pad()) {
    Expr he = min(hs + static_cast<int>(k[0]), H + static_cast<int>(p[0]));
    Expr we = min(ws + static_cast<int>(k[1]), W + static_cast<int>(p[1]));
    count = (he - hs) * (we - ws);
  } else {
    count = (min(hs + static_cast<int>(k[0]), H) - max(hs, 0)) *
            (min(ws + static_cast<int>(k[1]), W) - max(ws, 0));
  }
  Func pool("avg_pool");
  pool(v.x, v.y, v.c, v.n) = total(v.x, v.y, v.c, v.n) / cast<float>(count);
  vectorizeAlongInput(ctx);
  if (!ctx.schedule && !ctx.gpu)
    vectorizeInner(pool, ctx.outputLayout, ctx.vectorWidth);
  return pool;
}

Func emitAdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOp op, EmitContext &ctx) {
  const Vars &v = vars();
  int64_t out[2];
  readPair(op.output_size(), out);
  const std::vector<int64_t> &in = ctx.inputShapes[0];
  int64_t H = in[2], W = in[3];
  // Bin i spans [floor(i*H/O), ceil((i+1)*H/O)); the widest bin bounds the RDom.
  auto widest = [](int64_t size, int64_t bins) {
    int64_t best = 0;
    for (int64_t i = 0; i < bins; ++i)
      best = std::max(best, ((i + 1) * size + bins - 1) / bins - (i * size) / bins);
    return static_cast<int>(best);
  };
  Expr hs = (v.y * static_cast<int>(H)) / static_cast<int>(out[0]);
  Expr he = ((v.y + 1) * static_cast<int>(H) + static_cast<int>(out[0]) - 1) / static_cast<int>(out[0]);
  Expr ws = (v.x * static_cast<int>(W)) / static_cast<int>(out[1]);
  Expr we = ((v.x + 1) * static_cast<int>(W) + static_cast<int>(out[1]) - 1) / static_cast<int>(out[1]);
  Func clamped = BoundaryConditions::constant_exterior(ctx.inputs[0], 0.0f, spatial(in));
  RDom r(0, widest(W, out[1]), 0, widest(H, out[0]), "r");
  r.where(r.x < we - ws && r.y < he - hs);
  Func total("adaptive_sum");
  total(v.x, v.y, v.c, v.n) = 0.0f;
  total(v.x, v.y, v.c, v.n) += clamped(ws + r.x, hs + r.y, v.c, v.n);
  Func pool("adaptive_avg_pool");
  pool(v.x, v.y, v.c, v.n) = total(v.x, v.y, v.c, v.n) / cast<float>((he - hs) * (we - ws));
  // From channels-last input, the sums run along the channels, a vector at
  // a time, inside the output's parallel loop, whatever the output's
  // layout: the global pool after SqueezeNet's classifier (1000 channels
  // at 13x13, NHWC, into NCHW) summed one channel at a time along a
  // 4000-byte stride took 0.22 ms, 7 % of the network.
  if (!ctx.gpu && ctx.inputLayouts[0] == Layout::NHWC) {
    std::vector<int64_t> shape = ctx.outputShape;
    Layout layout = ctx.outputLayout;
    int V = ctx.vectorWidth;
    ctx.schedule = [=](Func output) mutable {
      Var loop = scheduleOutput(output, shape, V, layout);
      total.compute_at(output, loop);
      vectorizeInner(total, Layout::NHWC, V);
    };
  }
  return pool;
}

} // namespace netc::lowering
