//===- Passes.h - Graph passes on the nn dialect -----------------*- C++ -*-===//
#ifndef NETC_TRANSFORMS_PASSES_H
#define NETC_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace netc::nn {

std::unique_ptr<mlir::Pass> createStripInferenceIdentitiesPass();
std::unique_ptr<mlir::Pass> createFuseConvEpiloguePass();

#define GEN_PASS_REGISTRATION
#include "netc/Transforms/Passes.h.inc"

} // namespace netc::nn

#endif // NETC_TRANSFORMS_PASSES_H
