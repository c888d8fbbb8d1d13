//===- NNShapes.cpp - Shape inference for the nn ops ----------------------===//
#include "netc/Dialect/NN/NNShapes.h"

#include "netc/dsl/Graph.h"

#include "mlir/IR/BuiltinTypes.h"

namespace netc::nn {

namespace {
constexpr int64_t kDynamic = mlir::ShapedType::kDynamicSize;

std::string str(int64_t v) { return v == kDynamic ? "?" : std::to_string(v); }

bool isDynamic(int64_t d) { return d == kDynamic; }

/// Checks a [height, width] attribute pair against a lower bound.
std::string checkPair(const char *name, const int64_t v[2], int64_t min) {
  if (v[0] >= min && v[1] >= min)
    return "";
  return std::string(name) + " must be at least " + std::to_string(min) + ", got [" +
         std::to_string(v[0]) + ", " + std::to_string(v[1]) + "]";
}

/// Spatial output sizes of a window over an NCHW input.
std::string windowOutput(llvm::ArrayRef<int64_t> input, const Window &w, Dims &out) {
  for (const char *name : {"kernel", "stride", "dilation"}) {
    const int64_t *v = name[0] == 'k' ? w.kernel : name[0] == 's' ? w.stride : w.dilation;
    std::string error = checkPair(name, v, 1);
    if (!error.empty())
      return error;
  }
  std::string error = checkPair("pad", w.pad, 0);
  if (!error.empty())
    return error;
  for (int axis = 0; axis < 2; ++axis) {
    int64_t size = input[2 + axis];
    if (isDynamic(size)) {
      out.push_back(kDynamic);
      continue;
    }
    int64_t o = ::netc::dsl::windowOutput(size, w.kernel[axis], w.stride[axis], w.pad[axis],
                                          w.dilation[axis], w.ceilMode);
    if (o < 1)
      return std::string("input ") + (axis ? "width " : "height ") + std::to_string(size) +
             " is too small for kernel " + std::to_string(w.kernel[axis]) + " with padding " +
             std::to_string(w.pad[axis]);
    out.push_back(o);
  }
  return "";
}
} // namespace

std::string formatDims(llvm::ArrayRef<int64_t> dims) {
  std::string out;
  for (size_t i = 0; i < dims.size(); ++i)
    out += (i ? "x" : "") + str(dims[i]);
  return out;
}

ShapeOrError inferConv2d(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                         llvm::Optional<llvm::ArrayRef<int64_t>> bias, const Window &window,
                         int64_t groups) {
  if (input.size() != 4)
    return ShapeOrError::fail("input must be 4-d NCHW, got " + formatDims(input));
  if (weight.size() != 4)
    return ShapeOrError::fail("weight must be 4-d OIHW, got " + formatDims(weight));
  if (groups < 1)
    return ShapeOrError::fail("groups must be at least 1, got " + std::to_string(groups));
  if (isDynamic(input[1]) || input[1] != weight[1] * groups)
    return ShapeOrError::fail("input has " + str(input[1]) + " channels but the weight " +
                              formatDims(weight) + " with groups=" + std::to_string(groups) +
                              " expects " + std::to_string(weight[1] * groups));
  if (weight[0] % groups != 0)
    return ShapeOrError::fail(std::to_string(weight[0]) + " output channels, groups=" +
                              std::to_string(groups) + " does not divide them");
  if (weight[2] != window.kernel[0] || weight[3] != window.kernel[1])
    return ShapeOrError::fail("internal: kernel does not match the weight");
  if (bias && (bias->size() != 1 || (*bias)[0] != weight[0]))
    return ShapeOrError::fail("bias " + formatDims(*bias) + " does not match " +
                              std::to_string(weight[0]) + " output channels");
  Dims out = {input[0], weight[0]};
  std::string error = windowOutput(input, window, out);
  if (!error.empty())
    return ShapeOrError::fail(error);
  return ShapeOrError{out, ""};
}

ShapeOrError inferLinear(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                         llvm::Optional<llvm::ArrayRef<int64_t>> bias) {
  if (input.size() != 2)
    return ShapeOrError::fail("input must be 2-d [N, features], got " + formatDims(input));
  if (weight.size() != 2)
    return ShapeOrError::fail("weight must be 2-d [out, in], got " + formatDims(weight));
  if (input[1] != weight[1])
    return ShapeOrError::fail("input has " + str(input[1]) + " features but the weight " +
                              formatDims(weight) + " expects " + std::to_string(weight[1]));
  if (bias && (bias->size() != 1 || (*bias)[0] != weight[0]))
    return ShapeOrError::fail("bias " + formatDims(*bias) + " does not match " +
                              std::to_string(weight[0]) + " output features");
  return ShapeOrError{{input[0], weight[0]}, ""};
}

ShapeOrError inferPool2d(llvm::ArrayRef<int64_t> input, const Window &window) {
  if (input.size() != 4)
    return ShapeOrError::fail("input must be 4-d NCHW, got " + formatDims(input));
  for (int axis = 0; axis < 2; ++axis)
    if (window.pad[axis] * 2 > window.kernel[axis])
      return ShapeOrError::fail("pad " + std::to_string(window.pad[axis]) +
                                " is more than half the kernel " +
                                std::to_string(window.kernel[axis]));
  Dims out = {input[0], input[1]};
  std::string error = windowOutput(input, window, out);
  if (!error.empty())
    return ShapeOrError::fail(error);
  return ShapeOrError{out, ""};
}

ShapeOrError inferAdaptivePool2d(llvm::ArrayRef<int64_t> input, int64_t outH, int64_t outW) {
  if (input.size() != 4)
    return ShapeOrError::fail("input must be 4-d NCHW, got " + formatDims(input));
  if (outH < 1 || outW < 1)
    return ShapeOrError::fail("output_size must be at least 1, got [" + std::to_string(outH) +
                              ", " + std::to_string(outW) + "]");
  return ShapeOrError{{input[0], input[1], outH, outW}, ""};
}

ShapeOrError inferPerChannel(llvm::ArrayRef<int64_t> input,
                             llvm::ArrayRef<llvm::ArrayRef<int64_t>> perChannel,
                             llvm::ArrayRef<const char *> names) {
  if (input.size() < 2)
    return ShapeOrError::fail("input needs a channel dimension, got " + formatDims(input));
  for (size_t i = 0; i < perChannel.size(); ++i)
    if (perChannel[i].size() != 1 || perChannel[i][0] != input[1])
      return ShapeOrError::fail(std::string(names[i]) + " " + formatDims(perChannel[i]) +
                                " does not match " + str(input[1]) + " channels");
  return ShapeOrError{Dims(input.begin(), input.end()), ""};
}

ShapeOrError inferAdd(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs) {
  if (inputs.size() < 2)
    return ShapeOrError::fail("needs at least two operands, got " +
                              std::to_string(inputs.size()));
  for (size_t i = 1; i < inputs.size(); ++i)
    if (inputs[i] != inputs[0])
      return ShapeOrError::fail("operand " + std::to_string(i) + " has shape " +
                                formatDims(inputs[i]) + " but operand 0 has " +
                                formatDims(inputs[0]));
  return ShapeOrError{Dims(inputs[0].begin(), inputs[0].end()), ""};
}

ShapeOrError inferConcat(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs, int64_t axis) {
  if (inputs.size() < 2)
    return ShapeOrError::fail("needs at least two operands, got " +
                              std::to_string(inputs.size()));
  int64_t rank = static_cast<int64_t>(inputs[0].size());
  if (axis < 1 || axis >= rank)
    return ShapeOrError::fail("axis " + std::to_string(axis) + " is out of range [1, " +
                              std::to_string(rank) + ")");
  Dims out(inputs[0].begin(), inputs[0].end());
  for (size_t i = 1; i < inputs.size(); ++i) {
    bool same = static_cast<int64_t>(inputs[i].size()) == rank;
    for (int64_t d = 0; same && d < rank; ++d)
      same = d == axis || inputs[i][d] == inputs[0][d];
    if (!same)
      return ShapeOrError::fail("operand " + std::to_string(i) + " has shape " +
                                formatDims(inputs[i]) + " but operand 0 has " +
                                formatDims(inputs[0]) + "; only dimension " +
                                std::to_string(axis) + " may differ");
    out[axis] += inputs[i][axis];
  }
  return ShapeOrError{out, ""};
}

ShapeOrError inferFlatten(llvm::ArrayRef<int64_t> input, int64_t start) {
  int64_t rank = static_cast<int64_t>(input.size());
  if (start < 1 || start >= rank)
    return ShapeOrError::fail("start " + std::to_string(start) + " is out of range [1, " +
                              std::to_string(rank) + ")");
  Dims out(input.begin(), input.begin() + start);
  int64_t product = 1;
  for (int64_t d = start; d < rank; ++d)
    product *= input[d];
  out.push_back(product);
  return ShapeOrError{out, ""};
}

} // namespace netc::nn
