//===- Shapes.h - The shape rules of every layer, once ------------*- C++ -*-===//
//
// One function per layer kind checks its arguments against its input shape
// and computes the output shape, or says in words what does not fit. The
// spec elaborator (dsl/) and the nn dialect's verifiers (compiler/) both call
// these, so a spec the front end accepts always builds a module that
// verifies, and both report the same message. Plain C++17: no LLVM.
//
// Shapes are NCHW or [N, F]; a size that is not known (the batch, or a size
// derived from a symbolic input size) is kUnknown, which is MLIR's
// ShapedType::kDynamicSize.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_SUPPORT_SHAPES_H
#define NETC_SUPPORT_SHAPES_H

#include <cstdint>
#include <string>
#include <vector>

namespace netc::shapes {

constexpr int64_t kUnknown = -1;
using Dims = std::vector<int64_t>;

/// An output shape, or the reason there is none.
struct Result {
  Dims dims;
  /// For each output dimension, the input dimension it is a copy of, or -1
  /// (so the front end can keep a symbolic size's name).
  std::vector<int> from;
  std::string error;   // empty on success
  std::string culprit; // the argument at fault ("groups", "pad", ...) or ""
  bool ok() const { return error.empty(); }
};

/// A 2-d sliding window; each field a [height, width] pair.
struct Window {
  int64_t kernel[2] = {1, 1};
  int64_t stride[2] = {1, 1};
  int64_t pad[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
  bool ceilMode = false;
};

/// Output size of a window along one axis of size `in`, as PyTorch computes
/// it, ceil mode included; below 1 when no window fits.
int64_t windowOutput(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil);

/// Output channels `out`, weight [out, C / groups, kh, kw].
Result conv2d(const Dims &input, int64_t out, const Window &window, int64_t groups);
Dims conv2dWeight(const Dims &input, int64_t out, const Window &window, int64_t groups);
/// Weight [out, F].
Result linear(const Dims &input, int64_t out);
Result pool2d(const Dims &input, const Window &window);
Result adaptivePool2d(const Dims &input, int64_t outH, int64_t outW);
/// A linear layer over the channels of NCHW, weight [out, C]: torch.nn.Linear
/// on the channels-last tensor (ConvNeXt's permute, Linear, permute).
Result channelLinear(const Dims &input, int64_t out);
/// LayerNorm over the channels (of NCHW, or the features of [N, F]); eps > 0.
Result layerNorm(const Dims &input, double eps);
/// A per-channel scale of shape [C, 1, 1]: NCHW with a known channel count.
Result channelScale(const Dims &input);
/// BatchNorm: NCHW with a known channel count; eps > 0.
Result batchNorm(const Dims &input, double eps);
/// Per-channel scale and shift of `count` values each.
Result channelAffine(const Dims &input, int64_t scaleCount, int64_t shiftCount);
Result dropout(const Dims &input, double p);
Result flatten(const Dims &input, int64_t start);
Result softmax(const Dims &input, int64_t axis);
Result localResponseNorm(const Dims &input, int64_t size);
/// Operands of equal shape (unknown sizes match anything).
Result add(const std::vector<Dims> &inputs);
/// Two operands of one rank multiplied elementwise, each dimension equal or
/// 1 in one of them (broadcast, as PyTorch's `*`: squeeze-excitation's
/// [N, C, 1, 1] gate times its [N, C, H, W] input).
Result mul(const std::vector<Dims> &inputs);
/// `length` entries of `axis` from `start` (torch.narrow; ShuffleNet's
/// channel split).
Result narrow(const Dims &input, int64_t axis, int64_t start, int64_t length);
/// NCHW with `pads` (top, left, bottom, right; none negative) added around
/// each image.
Result pad2d(const Dims &input, const int64_t pads[4]);
/// The channels regrouped: `groups` groups interleaved (ShuffleNet).
Result channelShuffle(const Dims &input, int64_t groups);
/// Operands equal except along `axis`.
Result concat(const std::vector<Dims> &inputs, int64_t axis);

/// "[N,3,224,224]"-style text with "?" for unknown sizes: "[?,3,224,224]".
std::string format(const Dims &dims);

} // namespace netc::shapes

#endif // NETC_SUPPORT_SHAPES_H
