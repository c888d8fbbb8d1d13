//===- Planner.h - The decisions the back end makes, as IR -------*- C++ -*-===//
//
// One planning step chooses, from each op and the target (TargetInfo), the
// layout of its result and the template that computes it with its
// parameters, and writes them on the op:
//
//   %1 = nn.fused_conv2d %0, %w ... {..., nn.layout = "nhwc",
//          nn.plan = {template = "conv.winograd", tile = 4 : i64,
//                     columns = 7 : i64, vectors = 2 : i64, tasks = "rows"}}
//   %2 = nn.concat %a, %b {axis = 1 : i64, nn.in_place, nn.layout = "nhwc"}
//
// Lowering only reads them, and groups with identical attributes share one
// pipeline. A decision already on the IR wins: `--emit=nn-opt` shows the
// plan, and a plan edited there (or written by a test) is checked and kept.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_LOWERING_PLANNER_H
#define NETC_LOWERING_PLANNER_H

#include "netc/Lowering/Program.h"

#include "mlir/IR/BuiltinOps.h"

#include <memory>

namespace mlir {
class Pass;
}

namespace netc::lowering {

/// Plans every op of the module's function that carries no decision yet,
/// for options.target; checks the decisions it already carries. Returns
/// false after emitting an error at the op whose decision cannot be used.
bool plan(mlir::ModuleOp module, const LowerOptions &options);

/// netc-opt's `nn-plan` pass: --nn-plan="target=x86-64-linux-avx2 winograd=false".
std::unique_ptr<mlir::Pass> createPlanPass();
void registerPlanPass();

} // namespace netc::lowering

#endif // NETC_LOWERING_PLANNER_H
