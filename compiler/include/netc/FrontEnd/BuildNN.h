//===- BuildNN.h - From an elaborated graph to the nn dialect ----*- C++ -*-===//
#ifndef NETC_FRONTEND_BUILDNN_H
#define NETC_FRONTEND_BUILDNN_H

#include "netc/dsl/Graph.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <string>

namespace netc {

/// Builds a module with one function `name` that takes the input (batch
/// dynamic, other sizes static) and then every weight the inference path
/// reads, each argument tagged with its state_dict key (`nn.key`). Auxiliary
/// (`side`) layers and identities are left out. Every op is located at its
/// spec line, inside a NameLoc holding its module path.
/// Fails with a message in `error` when the graph cannot be compiled (a
/// spatial size still symbolic, an unsupported layer option).
mlir::OwningOpRef<mlir::ModuleOp> buildNNModule(const dsl::Graph &graph,
                                                const std::string &name,
                                                mlir::MLIRContext &context,
                                                std::string &error);

/// Loads the dialects netc's IR uses into `context`.
void loadNetcDialects(mlir::MLIRContext &context);

} // namespace netc

#endif // NETC_FRONTEND_BUILDNN_H
