//===- NNShapes.cpp - Shape inference for the nn ops ----------------------===//
//
// The layer rules themselves are netc::shapes (support/), which the spec
// elaborator calls too; here the operands' types are read into them and the
// weight operands are checked against the shapes the rules imply.
//
//===----------------------------------------------------------------------===//
#include "netc/Dialect/NN/NNShapes.h"

#include "netc/Support/Shapes.h"

#include "mlir/IR/BuiltinTypes.h"

namespace netc::nn {

static_assert(shapes::kUnknown == mlir::ShapedType::kDynamicSize,
              "the shape rules' unknown size must be MLIR's dynamic size");

namespace {

shapes::Dims dims(llvm::ArrayRef<int64_t> a) { return shapes::Dims(a.begin(), a.end()); }

ShapeOrError from(const shapes::Result &r) {
  if (!r.ok())
    return ShapeOrError::fail(r.error);
  return ShapeOrError{Dims(r.dims.begin(), r.dims.end()), ""};
}

/// A bias must be [out].
std::string biasError(llvm::Optional<llvm::ArrayRef<int64_t>> bias, int64_t out,
                      const char *what) {
  if (!bias || (bias->size() == 1 && (*bias)[0] == out))
    return "";
  return "bias " + formatDims(*bias) + " does not match " + std::to_string(out) + " " + what;
}

} // namespace

std::string formatDims(llvm::ArrayRef<int64_t> d) {
  std::string out;
  for (size_t i = 0; i < d.size(); ++i)
    out += (i ? "x" : "") + (d[i] == shapes::kUnknown ? std::string("?") : std::to_string(d[i]));
  return out;
}

ShapeOrError inferConv2d(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                         llvm::Optional<llvm::ArrayRef<int64_t>> bias, const Window &w,
                         int64_t groups) {
  if (weight.size() != 4)
    return ShapeOrError::fail("weight must be 4-d OIHW, got " + formatDims(weight));
  Window withKernel = w;
  withKernel.kernel[0] = weight[2];
  withKernel.kernel[1] = weight[3];
  shapes::Result r = shapes::conv2d(dims(input), weight[0], withKernel, groups);
  if (!r.ok())
    return from(r);
  shapes::Dims expected = shapes::conv2dWeight(dims(input), weight[0], withKernel, groups);
  if (dims(weight) != expected)
    return ShapeOrError::fail("input has " + std::to_string(input[1]) + " channels but the weight " +
                              formatDims(weight) + " with groups=" + std::to_string(groups) +
                              " expects " + std::to_string(weight[1] * groups));
  std::string error = biasError(bias, weight[0], "output channels");
  return error.empty() ? from(r) : ShapeOrError::fail(error);
}

namespace {
/// A linear layer's [out, in] weight and bias against the input's size
/// along the axis it runs over (features of [N, F], channels of NCHW),
/// `rule` the output's shape.
ShapeOrError checkLinear(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                         llvm::Optional<llvm::ArrayRef<int64_t>> bias,
                         shapes::Result (*rule)(const shapes::Dims &, int64_t),
                         const char *what) {
  if (weight.size() != 2)
    return ShapeOrError::fail("weight must be 2-d [out, in], got " + formatDims(weight));
  shapes::Result r = rule(dims(input), weight[0]);
  if (!r.ok())
    return from(r);
  if (input[1] != weight[1])
    return ShapeOrError::fail("input has " + std::to_string(input[1]) + " " + what +
                              " but the weight " + formatDims(weight) + " expects " +
                              std::to_string(weight[1]));
  std::string error = biasError(bias, weight[0], (std::string("output ") + what).c_str());
  return error.empty() ? from(r) : ShapeOrError::fail(error);
}
} // namespace

ShapeOrError inferLinear(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                         llvm::Optional<llvm::ArrayRef<int64_t>> bias) {
  return checkLinear(input, weight, bias, shapes::linear, "features");
}

ShapeOrError inferChannelLinear(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> weight,
                                llvm::Optional<llvm::ArrayRef<int64_t>> bias) {
  return checkLinear(input, weight, bias, shapes::channelLinear, "channels");
}

ShapeOrError inferLayerNorm(llvm::ArrayRef<int64_t> input, double eps,
                            llvm::ArrayRef<int64_t> weight, llvm::ArrayRef<int64_t> bias) {
  shapes::Result r = shapes::layerNorm(dims(input), eps);
  if (!r.ok())
    return from(r);
  for (auto [name, p] : {std::pair{"weight", weight}, std::pair{"bias", bias}})
    if (p.size() != 1 || p[0] != input[1])
      return ShapeOrError::fail(std::string(name) + " " + formatDims(p) + " does not match " +
                                std::to_string(input[1]) + " channels");
  return from(r);
}

ShapeOrError inferChannelScale(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> scale) {
  shapes::Result r = shapes::channelScale(dims(input));
  if (!r.ok())
    return from(r);
  if (scale.size() != 3 || scale[0] != input[1] || scale[1] != 1 || scale[2] != 1)
    return ShapeOrError::fail("scale " + formatDims(scale) + " is not " +
                              std::to_string(input[1]) + "x1x1");
  return from(r);
}

ShapeOrError inferPool2d(llvm::ArrayRef<int64_t> input, const Window &w) {
  return from(shapes::pool2d(dims(input), w));
}

ShapeOrError inferAdaptivePool2d(llvm::ArrayRef<int64_t> input, int64_t outH, int64_t outW) {
  return from(shapes::adaptivePool2d(dims(input), outH, outW));
}

ShapeOrError inferBatchNorm(llvm::ArrayRef<int64_t> input, double eps,
                            llvm::ArrayRef<llvm::ArrayRef<int64_t>> perChannel,
                            llvm::ArrayRef<const char *> names) {
  shapes::Result r = shapes::batchNorm(dims(input), eps);
  if (!r.ok())
    return from(r);
  for (size_t i = 0; i < perChannel.size(); ++i)
    if (perChannel[i].size() != 1 || perChannel[i][0] != input[1])
      return ShapeOrError::fail(std::string(names[i]) + " " + formatDims(perChannel[i]) +
                                " does not match " + std::to_string(input[1]) + " channels");
  return from(r);
}

ShapeOrError inferChannelAffine(llvm::ArrayRef<int64_t> input, int64_t scales, int64_t shifts) {
  return from(shapes::channelAffine(dims(input), scales, shifts));
}

ShapeOrError inferDropout(llvm::ArrayRef<int64_t> input, double p) {
  return from(shapes::dropout(dims(input), p));
}

ShapeOrError inferSoftmax(llvm::ArrayRef<int64_t> input, int64_t axis) {
  return from(shapes::softmax(dims(input), axis));
}

ShapeOrError inferLocalResponseNorm(llvm::ArrayRef<int64_t> input, int64_t size) {
  return from(shapes::localResponseNorm(dims(input), size));
}

ShapeOrError inferAdd(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs) {
  std::vector<shapes::Dims> all;
  for (llvm::ArrayRef<int64_t> i : inputs)
    all.push_back(dims(i));
  return from(shapes::add(all));
}

ShapeOrError inferPad(llvm::ArrayRef<int64_t> input, llvm::ArrayRef<int64_t> pads) {
  if (pads.size() != 4)
    return ShapeOrError::fail("pads must be [top, left, bottom, right], got " +
                              std::to_string(pads.size()) + " values");
  return from(shapes::pad2d(dims(input), pads.data()));
}

ShapeOrError inferNarrow(llvm::ArrayRef<int64_t> input, int64_t axis, int64_t start,
                         int64_t length) {
  return from(shapes::narrow(dims(input), axis, start, length));
}

ShapeOrError inferChannelShuffle(llvm::ArrayRef<int64_t> input, int64_t groups) {
  return from(shapes::channelShuffle(dims(input), groups));
}

ShapeOrError inferMul(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs) {
  return from(shapes::mul({dims(lhs), dims(rhs)}));
}

ShapeOrError inferConcat(llvm::ArrayRef<llvm::ArrayRef<int64_t>> inputs, int64_t axis) {
  std::vector<shapes::Dims> all;
  for (llvm::ArrayRef<int64_t> i : inputs)
    all.push_back(dims(i));
  return from(shapes::concat(all, axis));
}

ShapeOrError inferFlatten(llvm::ArrayRef<int64_t> input, int64_t start) {
  return from(shapes::flatten(dims(input), start));
}

} // namespace netc::nn
