//===- Dense.cpp - Fully connected layers ----------------------------------===//
//
// A linear layer is a stream over its weights: each output feature is a dot
// product along a contiguous row of W ([out, in], as in the checkpoint), so
// nothing is packed. A task takes a few rows of W and a few batch items:
// each vector of W read feeds every item, each vector of the input every
// row, and the partial sums (one vector per row and item) stay in registers
// until they are reduced across lanes at the end.
//
//===----------------------------------------------------------------------===//
#include "Emit.h"

namespace netc::lowering {

using namespace Halide;

Func emitLinear(nn::LinearOp op, EmitContext &ctx) {
  const Vars &v = vars();
  llvm::ArrayRef<int64_t> w = op.weight().getType().cast<mlir::RankedTensorType>().getShape();
  const int V = ctx.vectorWidth;
  const int rows = 4, items = 4; // a task's tile: 16 vector accumulators
  int inFeatures = static_cast<int>(w[1]);
  int blocks = inFeatures / V, rest = inFeatures % V;
  ImageParam weight = ctx.weights[0]; // (i, f)

  // The input at a batch item clamped into the batch: a tile's items past
  // the end repeat the last one and are never stored.
  Expr lastItem = ctx.inputParams[0].dim(1).extent() - 1;
  auto x = [&](Expr i, Expr n) { return ctx.inputs[0](i, clamp(n, 0, lastItem)); };

  // Algorithm: y(f, n) = b(f) + sum_i x(i, n) * W(i, f), the sum split into
  // V lanes of partial sums over whole vectors plus the scalar remainder.
  Var lane("lane");
  Func partial("linear_partial");
  Expr total = op.bias() ? Expr(ctx.weights[1](v.f)) : Expr(0.0f);
  RDom r(0, std::max(blocks, 1), "r");
  if (blocks > 0) {
    partial(lane, v.f, v.n) = 0.0f;
    partial(lane, v.f, v.n) += x(r * V + lane, v.n) * weight(r * V + lane, v.f);
    RDom l(0, V, "l");
    total = total + sum(partial(l, v.f, v.n));
  }
  if (rest > 0) {
    RDom t(blocks * V, rest, "t");
    total = total + sum(x(t, v.n) * weight(t, v.f));
  }
  Func linear("linear");
  linear(v.f, v.n) = total;

  // Schedule: tasks of `rows` features by `items` batch items; the partial
  // sums of a task's tile live in registers while its rows of W stream.
  // A task takes several tiles when a tile is small (LeNet's layers), so
  // each has at least ~64K multiply-adds to amortize waking a thread.
  int tilesPerTask = std::max(1, 65536 / (inFeatures * rows * items));
  ctx.schedule = [=](Func output) mutable {
    Var fo("fo"), fi("fi"), no("no"), ni("ni"), ft("ft"), task("task");
    output.split(v.f, fo, fi, rows, TailStrategy::GuardWithIf)
        .split(v.n, no, ni, items, TailStrategy::GuardWithIf)
        .split(fo, fo, ft, tilesPerTask, TailStrategy::GuardWithIf)
        .reorder(fi, ni, ft, fo, no)
        .fuse(fo, no, task)
        .parallel(task);
    if (blocks > 0) {
      Var pn("pn"), pi("pi");
      partial.compute_at(output, task)
          .split(v.n, pn, pi, items, TailStrategy::RoundUp)
          .reorder(lane, v.f, pi, pn)
          .vectorize(lane)
          .unroll(v.f)
          .unroll(pi);
      partial.update()
          .split(v.n, pn, pi, items, TailStrategy::RoundUp)
          .reorder(lane, v.f, pi, r.x, pn)
          .vectorize(lane)
          .unroll(v.f)
          .unroll(pi);
    }
  };
  return linear;
}

} // namespace netc::lowering
