//===- Concat.cpp - Concatenation along an axis ----------------------------===//
#include "Emit.h"

namespace netc::lowering {

using namespace Halide;

Func emitConcat(nn::ConcatOp op, EmitContext &ctx) {
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
