//===- Conv.cpp - 2-d convolution ------------------------------------------===//
#include "Emit.h"

namespace netc::lowering {

using namespace Halide;

Func emitConv2d(nn::Conv2dOp op, EmitContext &ctx) {
  const Vars &v = vars();
  llvm::ArrayRef<int64_t> w = op.weight().getType().cast<mlir::RankedTensorType>().getShape();
  const std::vector<int64_t> &in = ctx.inputShapes[0]; // N C H W
  int64_t stride[2], pad[2], dilation[2];
  readPair(op.stride(), stride);
  readPair(op.pad(), pad);
  readPair(op.dilation(), dilation);
  int64_t groups = op.groups();
  int cinPerGroup = static_cast<int>(w[1]);
  int coutPerGroup = static_cast<int>(w[0] / groups);

  // Algorithm: zero padding outside the input, then the direct sum over the
  // kernel window and the group's input channels. The weight is OIHW, seen
  // by Halide as (kx, ky, ci, co).
  Func padded = BoundaryConditions::constant_exterior(
      ctx.inputs[0], 0.0f, {{0, static_cast<int>(in[3])}, {0, static_cast<int>(in[2])}});
  ImageParam weight = ctx.weights[0];
  RDom r(0, static_cast<int>(w[3]), 0, static_cast<int>(w[2]), 0, cinPerGroup, "r");
  Expr ci = groups == 1 ? Expr(r.z) : (v.c / coutPerGroup) * cinPerGroup + r.z;
  Func conv("conv");
  conv(v.x, v.y, v.c, v.n) = ctx.weights.size() > 1 ? ctx.weights[1](v.c) : Expr(0.0f);
  conv(v.x, v.y, v.c, v.n) +=
      padded(v.x * static_cast<int>(stride[1]) - static_cast<int>(pad[1]) +
                 r.x * static_cast<int>(dilation[1]),
             v.y * static_cast<int>(stride[0]) - static_cast<int>(pad[0]) +
                 r.y * static_cast<int>(dilation[0]),
             ci, v.n) *
      weight(r.x, r.y, r.z, v.c);

  // Schedule: vectors along x, the reduction inside them.
  Var xo("xo"), xi("xi");
  conv.vectorize(v.x, ctx.vectorWidth, TailStrategy::GuardWithIf);
  conv.update()
      .split(v.x, xo, xi, ctx.vectorWidth, TailStrategy::GuardWithIf)
      .reorder(xi, r.x, r.y, r.z, xo)
      .vectorize(xi);
  return conv;
}

} // namespace netc::lowering
