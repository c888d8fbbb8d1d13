//===- Dense.cpp - Fully connected layers ----------------------------------===//
//
// At batch 1 a linear layer is a stream over its weights: each output
// feature is a dot product along a contiguous row of W ([out, in], as in the
// checkpoint), so nothing is packed. A few rows at a time share each vector
// of the input; the vector partial sums are reduced across lanes at the end.
//
//===----------------------------------------------------------------------===//
#include "Emit.h"

namespace netc::lowering {

using namespace Halide;

Func emitLinear(nn::LinearOp op, EmitContext &ctx) {
  const Vars &v = vars();
  llvm::ArrayRef<int64_t> w = op.weight().getType().cast<mlir::RankedTensorType>().getShape();
  const int V = ctx.vectorWidth;
  int inFeatures = static_cast<int>(w[1]);
  int blocks = inFeatures / V, rest = inFeatures % V;
  Func x = ctx.inputs[0];
  ImageParam weight = ctx.weights[0]; // (i, f)

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

  // Schedule: tasks of `rows` output features; their partial sums live in
  // registers while the rows of W stream through.
  const int rows = 4;
  ctx.schedule = [=](Func output) mutable {
    Var fo("fo"), fi("fi"), task("task");
    output.split(v.f, fo, fi, rows, TailStrategy::GuardWithIf)
        .reorder(fi, fo, v.n)
        .fuse(fo, v.n, task)
        .parallel(task)
        .unroll(fi);
    if (blocks > 0) {
      partial.compute_at(output, task).vectorize(lane).unroll(v.f);
      partial.update().reorder(lane, v.f, r.x).vectorize(lane).unroll(v.f);
    }
  };
  return linear;
}

} // namespace netc::lowering
