//===- Concat.cpp - Concatenation along an axis ----------------------------===//
#include "Emit.h"

namespace netc::lowering {

using namespace Halide;

namespace {

/// A channel concat into a channels-last tensor, one update per input over
/// its own channels: each reads its input densely. (As one select over the
/// inputs, every output vector read every input at a clamped index, and
/// Halide gathers a vector whose index it cannot prove contiguous: DenseNet's
/// 58 concats took 27 % of its time.) Computed a row at a time inside the
/// output's parallel loop, the row (56 x 256 channels: 57 KB) staying in L2
/// until the output copies it.
Func channelsLastConcat(EmitContext &ctx) {
  const Vars &v = vars();
  Func cat("concat_rows");
  cat(v.x, v.y, v.c, v.n) = undef<float>();
  std::vector<RDom> ranges;
  int start = 0;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    int size = static_cast<int>(ctx.inputShapes[i][1]);
    RDom r(0, size, "r" + std::to_string(i));
    cat(v.x, v.y, start + r.x, v.n) = ctx.inputs[i](v.x, v.y, r.x, v.n);
    ranges.push_back(r);
    start += size;
  }
  std::vector<int64_t> shape = ctx.outputShape;
  int V = ctx.vectorWidth;
  ctx.schedule = [=](Func output) mutable {
    Var loop = scheduleOutput(output, shape, V, Layout::NHWC);
    cat.compute_at(output, loop).reorder_storage(v.c, v.x, v.y, v.n);
    for (size_t i = 0; i < ranges.size(); ++i)
      cat.update(static_cast<int>(i))
          .reorder(ranges[i].x, v.x, v.y, v.n)
          .vectorize(ranges[i].x, V, TailStrategy::GuardWithIf);
  };
  return cat;
}

} // namespace

Func emitConcat(nn::ConcatOp op, EmitContext &ctx) {
  if (!ctx.gpu && op.axis() == 1 && ctx.inputShapes[0].size() == 4 &&
      ctx.outputLayout == Layout::NHWC)
    return channelsLastConcat(ctx);
  size_t rank = ctx.inputShapes[0].size();
  std::vector<Var> coords = coordsFor(rank);
  // NCHW axis a is Halide dimension rank-1-a.
  size_t dim = rank - 1 - static_cast<size_t>(op.axis());
  Func cat("concat");
  Expr value = Expr(0.0f);
  int64_t end = 0;
  std::vector<std::pair<Expr, Expr>> cases;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    int64_t size = ctx.inputShapes[i][static_cast<size_t>(op.axis())];
    std::vector<Expr> at(coords.begin(), coords.end());
    // Clamped so both sides of the select stay inside each input.
    at[dim] = clamp(coords[dim] - static_cast<int>(end), 0, static_cast<int>(size - 1));
    end += size;
    cases.emplace_back(coords[dim] < static_cast<int>(end), ctx.inputs[i](at));
  }
  value = cases.back().second;
  for (size_t i = cases.size() - 1; i-- > 0;)
    value = select(cases[i].first, cases[i].second, value);
  cat(coords) = value;
  return cat;
}

} // namespace netc::lowering
