//===- NNShapes.h - Shape inference for the nn ops ---------------*- C++ -*-===//
//
// One function per op computes the result shape from operand shapes and
// attributes, or says in words why they do not fit together. The rules are
// netc::shapes (netc/Support/Shapes.h), shared with the spec elaborator, so
// the two can never disagree; these adapters also check weight operands.
// Dimension sizes are static except the batch, which may be
// mlir::ShapedType::kDynamicSize.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_DIALECT_NN_NNSHAPES_H
#define NETC_DIALECT_NN_NNSHAPES_H

#include "netc/Support/Shapes.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/Optional.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <string>

namespace netc::nn {

using Dims = llvm::SmallVector<int64_t, 4>;

/// A result shape, or the reason there is none.
struct ShapeOrError {
  Dims shape;
  std::string error; // empty on success
  bool ok() const { return error.empty(); }
  static ShapeOrError fail(std::string message) { return ShapeOrError{{}, std::move(message)}; }
};

/// Attributes of a 2-d sliding window, each a [height, width] pair.
using Window = shapes::Window;

ShapeOrError inferConv2d(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                         llvm::Optional<llvm::ArrayRef<int64_t>> bias, const Window &window,
                         int64_t groups);
ShapeOrError inferLinear(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                         llvm::Optional<llvm::ArrayRef<int64_t>> bias);
ShapeOrError inferChannelLinear(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                                llvm::Optional<llvm::ArrayRef<int64_t>> bias);
ShapeOrError inferLayerNorm(llvm::ArrayRef<int64_t> input, double eps,
                            llvm::ArrayRef<int64_t> weight, llvm::ArrayRef<int64_t> bias);
ShapeOrError inferChannelScale(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> scale);
ShapeOrError inferPool2d(llvm::ArrayRef<int64_t> input, const Window &window);
ShapeOrError inferAdaptivePool2d(llvm::ArrayRef<int64_t> input, int64_t outH, int64_t outW);
/// Every per-channel operand must have the input's channel count.
ShapeOrError inferBatchNorm(llvm::ArrayRef<int64_t> input, double eps,
                            llvm::ArrayRef<llvm::ArrayRef<int64_t>> perChannel,
                            llvm::ArrayRef<const char *> names);
ShapeOrError inferChannelAffine(llvm::ArrayRef<int64_t> input, int64_t scales, int64_t shifts);
ShapeOrError inferDropout(llvm::ArrayRef<int64_t> input, double p);
ShapeOrError inferSoftmax(llvm::ArrayRef<int64_t> input, int64_t axis);
ShapeOrError inferLocalResponseNorm(llvm::ArrayRef<int64_t> input, int64_t size);
ShapeOrError inferAdd(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs);
ShapeOrError inferNarrow(llvm::ArrayRef<int64_t> input, int64_t axis, int64_t start,
                         int64_t length);
ShapeOrError inferChannelShuffle(llvm::ArrayRef<int64_t> input, int64_t groups);
ShapeOrError inferPad(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> pads);
ShapeOrError inferMul(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);
ShapeOrError inferConcat(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs, int64_t axis);
ShapeOrError inferFlatten(llvm::ArrayRef<int64_t> input, int64_t start);

/// "?x3x224x224", as MLIR writes a shape.
std::string formatDims(llvm::ArrayRef<int64_t> dims);

} // namespace netc::nn

#endif // NETC_DIALECT_NN_NNSHAPES_H
