//===- NNDialect.h - The nn dialect ------------------------------*- C++ -*-===//
#ifndef NETC_DIALECT_NN_NNDIALECT_H
#define NETC_DIALECT_NN_NNDIALECT_H

#include "mlir/IR/Builders.h"
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
/// On the function: the checkpoint's manifest, every tensor the weights file
/// must hold in state_dict order, as [{key = "...", dtype = "F32"|"I64",
/// shape = [...]}, ...]. Weight arguments (nn.key) must be F32 entries of it.
constexpr const char *kWeightsAttr = "nn.weights";
/// The back end's planner's decisions (netc/Lowering/Planner.h), on ops:
/// the layout the op's step writes, "nchw" or "nhwc" (rank-4 results); its
/// template and parameters, {template = "conv.winograd", tile = 4, ...};
/// and, on a concat, that its producers write its slices in place.
constexpr const char *kLayoutAttr = "nn.layout";
constexpr const char *kPlanAttr = "nn.plan";
constexpr const char *kInPlaceAttr = "nn.in_place";
/// On the function, once planned: the instruction set the plan is for,
/// "avx2", "avx512", "avx512-vnni" (netc_isa_name), "cuda" or "opencl". A
/// plan is only used for its own: a library from planned IR has that one
/// variant.
constexpr const char *kIsaAttr = "nn.isa";
/// Reduced precision: on a conv or (channel) linear, the element type of its
/// operands, "bf16", "int8" or "fp32" (absent: fp32; BF16 accumulates in
/// float32, INT8 in int32, and the epilogues are float32); on the op whose
/// result a step stores, "bf16" or "u8" when that tensor is kept in BF16 or
/// quantized (absent: float32).
constexpr const char *kPrecisionAttr = "nn.precision";
constexpr const char *kStorageAttr = "nn.storage";
/// The ops nn.precision belongs on: convs, linears and channel linears.
bool takesPrecision(mlir::Operation *op);
/// INT8: a tensor's quantization, {scale = S : f64, zero_point = Z : i64}
/// (real = S * (q - Z), q in [0, 255]), on the op that stores it or, for
/// the network's input, on the function's argument 0; present where the
/// tensor is stored as u8 or an INT8 layer reads it.
constexpr const char *kQuantAttr = "nn.quant";
/// Reads an nn.quant value; false when it is malformed (a scale that is not
/// positive and finite, a zero point outside [0, 255]).
bool readQuant(mlir::Attribute attr, double &scale, int64_t &zeroPoint);

/// One entry of the nn.weights manifest.
mlir::DictionaryAttr manifestEntry(mlir::Builder &b, llvm::StringRef key, llvm::StringRef dtype,
                                   llvm::ArrayRef<int64_t> shape);
/// Reads one entry; false when it is malformed.
bool readManifestEntry(mlir::Attribute entry, std::string &key, std::string &dtype,
                       std::vector<int64_t> &shape);

} // namespace netc::nn

#endif // NETC_DIALECT_NN_NNDIALECT_H
