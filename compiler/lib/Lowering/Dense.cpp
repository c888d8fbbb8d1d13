//===- Dense.cpp - Fully connected layers ----------------------------------===//
#include "Emit.h"

namespace netc::lowering {

using namespace Halide;

Func emitLinear(nn::LinearOp op, EmitContext &ctx) {
  const Vars &v = vars();
  llvm::ArrayRef<int64_t> w = op.weight().getType().cast<mlir::RankedTensorType>().getShape();

  // Algorithm: y(f, n) = b(f) + sum_i x(i, n) * W(i, f); W is [out, in],
  // seen by Halide as (i, f).
  RDom r(0, static_cast<int>(w[1]), "r");
  Func linear("linear");
  linear(v.f, v.n) = ctx.weights.size() > 1 ? ctx.weights[1](v.f) : Expr(0.0f);
  linear(v.f, v.n) += ctx.inputs[0](r.x, v.n) * ctx.weights[0](r.x, v.f);

  // Schedule: vectors across output features, the reduction inside them.
  Var fo("fo"), fi("fi");
  linear.vectorize(v.f, ctx.vectorWidth, TailStrategy::GuardWithIf);
  linear.update()
      .split(v.f, fo, fi, ctx.vectorWidth, TailStrategy::GuardWithIf)
      .reorder(fi, r.x, fo)
      .vectorize(fi);
  return linear;
}

} // namespace netc::lowering
