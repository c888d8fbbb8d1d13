//===- Shapes.cpp - The shape rules of every layer, once ------------------===//
#include "netc/Support/Shapes.h"

namespace netc::shapes {

namespace {

std::string str(int64_t v) { return v == kUnknown ? "?" : std::to_string(v); }

Result fail(std::string error, std::string culprit = "") {
  Result r;
  r.error = std::move(error);
  r.culprit = std::move(culprit);
  return r;
}

/// The input, unchanged: every dimension copied.
Result same(const Dims &input) {
  Result r;
  r.dims = input;
  for (size_t i = 0; i < input.size(); ++i)
    r.from.push_back(static_cast<int>(i));
  return r;
}

std::string pairText(const int64_t v[2]) {
  return v[0] == v[1] ? std::to_string(v[0])
                      : "(" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ")";
}

/// The input must have this rank.
std::string rankError(const Dims &input, size_t rank, const char *layout) {
  if (input.size() == rank)
    return "";
  return "expects a " + std::to_string(rank) + "-d " + layout + " input, got " + format(input);
}

/// A channel (or feature) count the weights are sized by must be known.
std::string knownChannels(const Dims &input, const char *what) {
  if (input.size() < 2)
    return std::string("needs a ") + what + " dimension, got input " + format(input);
  if (input[1] == kUnknown)
    return std::string("the input's ") + what +
           " count is not known (it depends on a symbolic input size), but the weights need it";
  return "";
}

/// Checks a window's arguments; on success fills the spatial output sizes.
Result window2d(const Dims &input, const Window &w, const char *kind, Result r) {
  struct Bound {
    const char *name;
    const int64_t *v;
    int64_t min;
  } bounds[] = {{"k", w.kernel, 1}, {"stride", w.stride, 1}, {"pad", w.pad, 0},
                {"dilation", w.dilation, 1}};
  for (const Bound &b : bounds)
    if (b.v[0] < b.min || b.v[1] < b.min)
      return fail(std::string(b.name) + " must be at least " + std::to_string(b.min) +
                      ", got " + pairText(b.v),
                  b.name);
  for (int axis = 0; axis < 2; ++axis) {
    int64_t size = input[2 + axis];
    if (size == kUnknown) {
      r.dims.push_back(kUnknown);
      r.from.push_back(-1);
      continue;
    }
    int64_t o = windowOutput(size, w.kernel[axis], w.stride[axis], w.pad[axis],
                             w.dilation[axis], w.ceilMode);
    if (o < 1)
      return fail(std::string("input ") + (axis ? "width " : "height ") + std::to_string(size) +
                  " is too small for " + kind + " " + std::to_string(w.kernel[axis]) +
                  (w.dilation[axis] > 1 ? " (dilation " + std::to_string(w.dilation[axis]) + ")"
                                        : "") +
                  " with padding " + std::to_string(w.pad[axis]) +
                  "; the output would be empty");
    r.dims.push_back(o);
    r.from.push_back(-1);
  }
  return r;
}

} // namespace

int64_t windowOutput(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  __int128 span = (__int128)in + 2 * (__int128)p - (__int128)d * (k - 1) - 1;
  if (ceil)
    span += s - 1;
  if (span < 0)
    return 0;
  __int128 out = span / s + 1;
  // In ceil mode the last window must start inside the input or left padding.
  if (ceil && (out - 1) * s >= (__int128)in + p)
    --out;
  return out > INT32_MAX ? INT32_MAX : static_cast<int64_t>(out);
}

std::string format(const Dims &dims) {
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    out += (i ? "," : "") + (i == 0 && dims[i] == kUnknown ? std::string("N") : str(dims[i]));
  return out + "]";
}

Result conv2d(const Dims &input, int64_t out, const Window &w, int64_t groups) {
  std::string error = rankError(input, 4, "NCHW");
  if (error.empty())
    error = knownChannels(input, "channel");
  if (!error.empty())
    return fail(error);
  int64_t cin = input[1];
  if (out < 1)
    return fail("output channels must be at least 1, got " + std::to_string(out), "out");
  if (groups < 1)
    return fail("groups must be at least 1, got " + std::to_string(groups), "groups");
  if (cin % groups != 0)
    return fail("input has " + std::to_string(cin) + " channels, groups=" +
                    std::to_string(groups) + " does not divide it",
                "groups");
  if (out % groups != 0)
    return fail(std::to_string(out) + " output channels, groups=" + std::to_string(groups) +
                    " does not divide them",
                "groups");
  Result r;
  r.dims = {input[0], out};
  r.from = {0, -1};
  return window2d(input, w, "kernel", r);
}

Dims conv2dWeight(const Dims &input, int64_t out, const Window &w, int64_t groups) {
  return {out, input[1] / groups, w.kernel[0], w.kernel[1]};
}

Result linear(const Dims &input, int64_t out) {
  std::string error = rankError(input, 2, "[N, features]");
  if (!error.empty())
    return fail(error + (input.size() == 4 ? "; add flatten(1) before it" : ""));
  error = knownChannels(input, "feature");
  if (!error.empty())
    return fail(error);
  if (out < 1)
    return fail("output features must be at least 1, got " + std::to_string(out), "out");
  Result r;
  r.dims = {input[0], out};
  r.from = {0, -1};
  return r;
}

Result pool2d(const Dims &input, const Window &w) {
  std::string error = rankError(input, 4, "NCHW");
  if (!error.empty())
    return fail(error);
  for (int axis = 0; axis < 2; ++axis)
    if (w.kernel[axis] >= 1 && w.pad[axis] * 2 > w.kernel[axis])
      return fail("pad " + std::to_string(w.pad[axis]) + " is more than half the kernel " +
                      std::to_string(w.kernel[axis]),
                  "pad");
  Result r;
  r.dims = {input[0], input[1]};
  r.from = {0, 1};
  return window2d(input, w, "window", r);
}

Result adaptivePool2d(const Dims &input, int64_t outH, int64_t outW) {
  std::string error = rankError(input, 4, "NCHW");
  if (!error.empty())
    return fail(error);
  if (outH < 1 || outW < 1) {
    int64_t v[2] = {outH, outW};
    return fail("h must be at least 1, got " + pairText(v), "h");
  }
  Result r;
  r.dims = {input[0], input[1], outH, outW};
  r.from = {0, 1, -1, -1};
  return r;
}

Result batchNorm(const Dims &input, double eps) {
  Result r = channelScale(input); // NCHW, channels known
  if (!r.ok())
    return r;
  if (!(eps > 0))
    return fail("eps must be positive, got " + std::to_string(eps), "eps");
  return same(input);
}

Result channelLinear(const Dims &input, int64_t out) {
  Result r = channelScale(input); // NCHW, channels known
  if (!r.ok())
    return r;
  if (out < 1)
    return fail("output features must be at least 1, got " + std::to_string(out), "out");
  r.dims[1] = out;
  r.from[1] = -1;
  return r;
}

Result channelScale(const Dims &input) {
  std::string error = rankError(input, 4, "NCHW");
  if (error.empty())
    error = knownChannels(input, "channel");
  return error.empty() ? same(input) : fail(error);
}

Result layerNorm(const Dims &input, double eps) {
  std::string error = input.size() == 2 || input.size() == 4
                          ? knownChannels(input, "channel")
                          : "expects an NCHW or [N, features] input, got " + format(input);
  if (!error.empty())
    return fail(error);
  if (!(eps > 0))
    return fail("eps must be positive, got " + std::to_string(eps), "eps");
  return same(input);
}

Result channelAffine(const Dims &input, int64_t scaleCount, int64_t shiftCount) {
  std::string error = knownChannels(input, "channel");
  if (!error.empty())
    return fail(error);
  if (scaleCount != input[1] || shiftCount != input[1])
    return fail("scale and shift need one value per channel (" + std::to_string(input[1]) +
                "), got " + std::to_string(scaleCount) + " and " + std::to_string(shiftCount));
  return same(input);
}

Result dropout(const Dims &input, double p) {
  if (!(p >= 0 && p <= 1))
    return fail("p must be between 0 and 1, got " + std::to_string(p), "p");
  return same(input);
}

/// Dimension 0 is the batch, which every layer keeps separate.
static std::string axisError(const char *name, int64_t axis, const Dims &input) {
  int64_t rank = static_cast<int64_t>(input.size());
  if (axis >= 1 && axis < rank)
    return "";
  return std::string(name) + " " + std::to_string(axis) + " is out of range [1, " +
         std::to_string(rank) + ") for input " + format(input) +
         (axis == 0 ? " (dimension 0 is the batch)" : "");
}

Result flatten(const Dims &input, int64_t start) {
  std::string error = axisError("start", start, input);
  if (!error.empty())
    return fail(error, "start");
  Result r;
  for (int64_t i = 0; i < start; ++i) {
    r.dims.push_back(input[i]);
    r.from.push_back(static_cast<int>(i));
  }
  int64_t product = 1;
  for (size_t i = start; i < input.size(); ++i) {
    if (input[i] == kUnknown) {
      product = kUnknown;
      break;
    }
    if (__builtin_mul_overflow(product, input[i], &product))
      return fail("the flattened size overflows");
  }
  r.dims.push_back(product);
  r.from.push_back(static_cast<size_t>(start) + 1 == input.size() ? static_cast<int>(start) : -1);
  return r;
}

Result softmax(const Dims &input, int64_t axis) {
  std::string error = axisError("axis", axis, input);
  if (!error.empty())
    return fail(error, "axis");
  return same(input);
}

Result narrow(const Dims &input, int64_t axis, int64_t start, int64_t length) {
  std::string error = axisError("axis", axis, input);
  if (!error.empty())
    return fail(error, "axis");
  int64_t size = input[static_cast<size_t>(axis)];
  if (size == kUnknown)
    return fail("dimension " + std::to_string(axis) + " of input " + format(input) +
                " is not known (it depends on a symbolic input size)", "axis");
  if (start < 0 || start >= size)
    return fail("start " + std::to_string(start) + " is out of range [0, " +
                    std::to_string(size) + ") of dimension " + std::to_string(axis) +
                    " of input " + format(input),
                "start");
  if (length < 1 || length > size - start)
    return fail("length " + std::to_string(length) + " from " + std::to_string(start) +
                    " runs past dimension " + std::to_string(axis) + "'s " +
                    std::to_string(size) + " entries (input " + format(input) + ")",
                "length");
  Result r = same(input);
  r.dims[static_cast<size_t>(axis)] = length;
  r.from[static_cast<size_t>(axis)] = -1;
  return r;
}

Result channelShuffle(const Dims &input, int64_t groups) {
  std::string error = knownChannels(input, "channel");
  if (!error.empty())
    return fail(error);
  if (groups < 1 || input[1] % groups != 0)
    return fail("groups " + std::to_string(groups) + " must be at least 1 and divide the " +
                    std::to_string(input[1]) + " channels",
                "groups");
  return same(input);
}

Result pad2d(const Dims &input, const int64_t pads[4]) {
  std::string error = rankError(input, 4, "NCHW");
  if (!error.empty())
    return fail(error);
  for (int i = 0; i < 4; ++i)
    if (pads[i] < 0)
      return fail("pads must not be negative, got " + std::to_string(pads[i]), "pads");
  Result r = same(input);
  for (int a = 0; a < 2; ++a)
    if (input[2 + a] != kUnknown) {
      r.dims[2 + a] = input[2 + a] + pads[a] + pads[a + 2];
      r.from[2 + a] = -1;
    }
  return r;
}

Result localResponseNorm(const Dims &input, int64_t size) {
  std::string error = rankError(input, 4, "NCHW");
  if (!error.empty())
    return fail(error);
  if (size < 1)
    return fail("size must be at least 1, got " + std::to_string(size), "size");
  return same(input);
}

namespace {

/// Operands must have equal sizes except along `axis` (-1: none).
Result join(const std::vector<Dims> &inputs, int64_t axis) {
  if (inputs.size() < 2)
    return fail("needs at least two inputs, got " + std::to_string(inputs.size()));
  Result r = same(inputs[0]);
  for (size_t b = 1; b < inputs.size(); ++b) {
    const Dims &s = inputs[b];
    bool compatible = s.size() == r.dims.size();
    for (size_t i = 0; compatible && i < s.size(); ++i)
      compatible = static_cast<int64_t>(i) == axis || s[i] == kUnknown ||
                   inputs[0][i] == kUnknown || s[i] == inputs[0][i];
    if (!compatible)
      return fail("input " + std::to_string(b) + " has shape " + format(s) +
                  " but input 0 has " + format(inputs[0]) +
                  (axis >= 0 ? "; only dimension " + std::to_string(axis) + " may differ" : ""));
    for (size_t i = 0; i < s.size(); ++i)
      if (r.dims[i] == kUnknown && s[i] != kUnknown && static_cast<int64_t>(i) != axis)
        r.dims[i] = s[i];
    if (axis >= 0) {
      int64_t &d = r.dims[static_cast<size_t>(axis)];
      r.from[static_cast<size_t>(axis)] = -1;
      if (d == kUnknown || s[static_cast<size_t>(axis)] == kUnknown)
        d = kUnknown;
      else if (__builtin_add_overflow(d, s[static_cast<size_t>(axis)], &d))
        return fail("the concatenated size overflows");
    }
  }
  return r;
}

} // namespace

Result add(const std::vector<Dims> &inputs) { return join(inputs, -1); }

Result mul(const std::vector<Dims> &inputs) {
  if (inputs.size() != 2)
    return fail("multiplies two inputs, got " + std::to_string(inputs.size()));
  const Dims &a = inputs[0], &b = inputs[1];
  if (a.size() != b.size())
    return fail("input 1 has shape " + format(b) + " but input 0 has " + format(a) +
                "; the inputs need one rank");
  Result r = same(a);
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i] || b[i] == 1)
      continue;
    if (a[i] == 1 || (a[i] == kUnknown) != (b[i] == kUnknown)) {
      // The size comes from input 1 (broadcast over input 0's 1), or one
      // side is unknown: the known size where one is not 1.
      if (a[i] == 1 || a[i] == kUnknown) {
        r.dims[i] = b[i];
        r.from[i] = -1;
      }
      continue;
    }
    return fail("input 1 has shape " + format(b) + " but input 0 has " + format(a) +
                "; each dimension must be equal or 1 in one of them (dimension " +
                std::to_string(i) + ")");
  }
  return r;
}

Result concat(const std::vector<Dims> &inputs, int64_t axis) {
  if (!inputs.empty()) {
    std::string error = axisError("axis", axis, inputs[0]);
    if (!error.empty())
      return fail(error, "axis");
  }
  return join(inputs, axis);
}

} // namespace netc::shapes
