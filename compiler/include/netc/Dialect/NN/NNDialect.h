//===- NNDialect.h - The nn dialect ------------------------------*- C++ -*-===//
#ifndef NETC_DIALECT_NN_NNDIALECT_H
#define NETC_DIALECT_NN_NNDIALECT_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "netc/Dialect/NN/NNOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "netc/Dialect/NN/NNOps.h.inc"

namespace netc::nn {

/// Attribute names on the function arguments of an nn module.
constexpr const char *kKeyAttr = "nn.key";     // a weight's state_dict key
constexpr const char *kInputAttr = "nn.input"; // the network input's name

} // namespace netc::nn

#endif // NETC_DIALECT_NN_NNDIALECT_H
