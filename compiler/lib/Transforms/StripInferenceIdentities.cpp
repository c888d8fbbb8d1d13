//===- StripInferenceIdentities.cpp - Drop training-only ops --------------===//
#include "netc/Dialect/NN/NNDialect.h"
#include "netc/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace netc::nn {
namespace {

#define GEN_PASS_CLASSES
#include "netc/Transforms/Passes.h.inc"

struct StripInferenceIdentitiesPass
    : public StripInferenceIdentitiesBase<StripInferenceIdentitiesPass> {
  void runOnOperation() override {
    getOperation().walk([](DropoutOp op) {
      op.result().replaceAllUsesWith(op.input());
      op.erase();
    });
  }
};

} // namespace

std::unique_ptr<mlir::Pass> createStripInferenceIdentitiesPass() {
  return std::make_unique<StripInferenceIdentitiesPass>();
}

} // namespace netc::nn
