//===- netc-opt.cpp - Runs nn passes on textual IR -------------------------===//
#include "netc/Dialect/NN/NNDialect.h"
#include "netc/Lowering/Planner.h"
#include "netc/Transforms/Passes.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Dialect.h"
#include "mlir/Support/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  netc::nn::registerNNPasses();
  netc::lowering::registerPlanPass();
  mlir::DialectRegistry registry;
  registry.insert<netc::nn::NNDialect, mlir::StandardOpsDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "netc-opt: nn dialect passes\n", registry));
}
