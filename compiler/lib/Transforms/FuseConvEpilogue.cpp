//===- FuseConvEpilogue.cpp - conv2d + BatchNorm + sum + activation -------===//
#include "netc/Dialect/NN/NNDialect.h"
#include "netc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/SmallVector.h"

namespace netc::nn {
namespace {

#define GEN_PASS_CLASSES
#include "netc/Transforms/Passes.h.inc"

/// The op that alone reads `v`, if exactly one reads it, once.
mlir::Operation *soleUser(mlir::Value v) {
  return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
}

llvm::StringRef activationOf(mlir::Operation *op) {
  if (mlir::isa<ReluOp>(op))
    return "relu";
  if (mlir::isa<SigmoidOp>(op))
    return "sigmoid";
  if (mlir::isa<TanhOp>(op))
    return "tanh";
  return "";
}

void fuse(Conv2dOp conv) {
  llvm::SmallVector<mlir::Operation *, 4> chain = {conv};
  mlir::Value out = conv.result();
  BatchNormOp bn = mlir::dyn_cast_or_null<BatchNormOp>(soleUser(out));
  if (bn && bn.input() == out) {
    chain.push_back(bn);
    out = bn.result();
  } else {
    bn = nullptr;
  }
  llvm::SmallVector<mlir::Value, 2> residuals;
  if (auto add = mlir::dyn_cast_or_null<AddOp>(soleUser(out))) {
    for (mlir::Value operand : add.inputs())
      if (operand != out)
        residuals.push_back(operand);
    chain.push_back(add);
    out = add.result();
  }
  llvm::StringRef activation = "none";
  if (mlir::Operation *user = soleUser(out); user && !activationOf(user).empty()) {
    activation = activationOf(user);
    chain.push_back(user);
    out = user->getResult(0);
  }
  if (chain.size() == 1)
    return;

  // At the last op's place: the sum's other operands are computed by then.
  mlir::OpBuilder b(chain.back());
  llvm::SmallVector<mlir::Value, 4> bnOperands;
  mlir::FloatAttr eps;
  if (bn) {
    bnOperands = {bn.weight(), bn.bias(), bn.mean(), bn.variance()};
    eps = bn.epsAttr();
  }
  auto fused = b.create<FusedConv2dOp>(conv.getLoc(), out.getType(), conv.input(), conv.weight(),
                                       conv.bias(), bnOperands, residuals, conv.stride(),
                                       conv.pad(), conv.dilation(), conv.groupsAttr(), eps,
                                       b.getStringAttr(activation));
  out.replaceAllUsesWith(fused.result());
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    (*it)->erase();
}

struct FuseConvEpiloguePass : public FuseConvEpilogueBase<FuseConvEpiloguePass> {
  void runOnOperation() override {
    llvm::SmallVector<Conv2dOp, 64> convs;
    getOperation().walk([&](Conv2dOp conv) { convs.push_back(conv); });
    for (Conv2dOp conv : convs)
      fuse(conv);
  }
};

} // namespace

std::unique_ptr<mlir::Pass> createFuseConvEpiloguePass() {
  return std::make_unique<FuseConvEpiloguePass>();
}

} // namespace netc::nn
