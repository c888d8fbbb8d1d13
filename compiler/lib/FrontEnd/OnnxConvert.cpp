//===- OnnxConvert.cpp - One conversion per ONNX op -----------------------===//
//
// Each reads its node's attributes (the schema's defaults at the model's
// opset), checks its inputs and builds the layer(s) or the constant it
// stands for; an error names the node and what netc would take instead.
//
//===----------------------------------------------------------------------===//
#include "OnnxImporter.h"

#include <limits>

namespace netc::onnx::detail {

namespace {

/// A layer's window attributes (kernel, stride, padding, dilation, ceil).
dsl::LayerAttrs windowAttrs(const shapes::Window &window) {
  dsl::LayerAttrs a;
  for (int k = 0; k < 2; ++k) {
    a.kernel[k] = window.kernel[k];
    a.stride[k] = window.stride[k];
    a.pad[k] = window.pad[k];
    a.dilation[k] = window.dilation[k];
  }
  a.ceilMode = window.ceilMode;
  return a;
}

} // namespace

//===----------------------------------------------------------------------===//
// Layers with weights
//===----------------------------------------------------------------------===//

/// The window's padding from pads / auto_pad (plus `extra` zeros a Pad node
/// added): in `window` where it is the same on both sides of each axis, as
/// netc's layers take it; else all of it in `uneven` (top, left, bottom,
/// right; zeros otherwise), for a pad layer before the window.
bool Importer::windowPads(const NodeProto &n, const Dims &input, const int64_t kernel[2],
                          shapes::Window &window, const int64_t extra[2], int64_t uneven[4]) {
  std::string autoPad = attrString(n, "auto_pad", "NOTSET");
  std::vector<int64_t> pads = attrInts(n, "pads");
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    pads.assign(4, 0);
    for (int a = 0; a < 2; ++a) {
      int64_t in = input[2 + a], s = window.stride[a];
      int64_t out = (in + s - 1) / s;
      int64_t total = std::max<int64_t>(
          0, (out - 1) * s + (kernel[a] - 1) * window.dilation[a] + 1 - in);
      int64_t small = total / 2, large = total - small;
      pads[a] = autoPad == "SAME_UPPER" ? small : large;
      pads[a + 2] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad == "VALID") {
    pads.assign(4, 0);
  } else if (autoPad != "NOTSET") {
    return fail("auto_pad '" + autoPad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  }
  if (pads.empty())
    pads.assign(4, 0);
  if (pads.size() != 4)
    return fail("pads has " + std::to_string(pads.size()) + " values; a 2-d window takes 4");
  for (int i = 0; i < 4; ++i) {
    pads[i] += extra[i % 2];
    if (pads[i] < 0)
      return fail("pads " + formatDims(attrInts(n, "pads")) + " are negative");
    uneven[i] = 0;
  }
  if (pads[0] != pads[2] || pads[1] != pads[3]) {
    std::copy(pads.begin(), pads.end(), uneven);
    window.pad[0] = window.pad[1] = 0;
    return true;
  }
  window.pad[0] = pads[0];
  window.pad[1] = pads[1];
  return true;
}

/// A layer padding `input` with `value` (top, left, bottom, right).
int Importer::padLayer(const NodeProto &n, int input, const int64_t pads[4], double value) {
  dsl::LayerAttrs a;
  std::copy(pads, pads + 4, a.pads);
  a.padValue = value;
  return addLayer(dsl::OpKind::Pad, n, {input}, shapes::pad2d(dims_[input], pads), a);
}

bool Importer::convConv(const NodeProto &n) {
  if (!needActivationOrPadded(n))
    return false;
  const Value &x = in(n, 0);
  if (x.dims.size() != 4)
    return fail("its input has rank " + std::to_string(x.dims.size()) + "; netc converts 2-d "
                "convolutions (NCHW) only");
  const Value &w = in(n, 1);
  if (w.kind != Value::Constant || w.c.dims.size() != 4)
    return fail("its weight must be a 4-d initializer [M, C/group, kH, kW]");
  int64_t groups = attrInt(n, "group", 1);
  shapes::Window window;
  std::vector<int64_t> strides = attrInts(n, "strides"), dilations = attrInts(n, "dilations");
  std::vector<int64_t> kernelShape = attrInts(n, "kernel_shape");
  int64_t kernel[2] = {w.c.dims[2], w.c.dims[3]};
  if (!kernelShape.empty() && (kernelShape.size() != 2 || kernelShape[0] != kernel[0] ||
                               kernelShape[1] != kernel[1]))
    return fail("kernel_shape " + formatDims(kernelShape) + " does not match its weight " +
                formatDims(w.c.dims));
  for (int a = 0; a < 2; ++a) {
    window.kernel[a] = kernel[a];
    window.stride[a] = strides.size() == 2 ? strides[a] : 1;
    window.dilation[a] = dilations.size() == 2 ? dilations[a] : 1;
  }
  int64_t uneven[4];
  if (!windowPads(n, x.dims, kernel, window, x.pad, uneven))
    return false;
  int input = x.layer;
  if (std::any_of(uneven, uneven + 4, [](int64_t p) { return p != 0; }))
    input = padLayer(n, x.layer, uneven, 0.0); // uneven zeros: a layer of their own
  const Dims &in = dims_[input];
  int64_t out = w.c.dims[0];
  shapes::Result r = shapes::conv2d(in, out, window, groups);
  if (!shapeOk(r))
    return false;
  std::vector<dsl::Weight> weights;
  if (!weight(n, 1, "weight", shapes::conv2dWeight(in, out, window, groups), weights))
    return false;
  bool bias = hasInput(n, 2);
  if (bias && !weight(n, 2, "bias", {out}, weights))
    return false;
  dsl::LayerAttrs a = windowAttrs(window);
  a.groups = groups;
  a.features = out;
  a.bias = bias;
  define(n, 0, activation(addLayer(dsl::OpKind::Conv2d, n, {input}, r, a, weights)));
  return true;
}

bool Importer::convGemm(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  const Value &x = in(n, 0);
  if (attrInt(n, "transA", 0) != 0)
    return fail("transA=1 transposes the batch away; netc's linear layers take [N, K]");
  if (!near(attrFloat(n, "alpha", 1.0), 1.0) || !near(attrFloat(n, "beta", 1.0), 1.0))
    return fail("alpha and beta must be 1 (netc takes the weights as stored)");
  if (x.dims.size() != 2)
    return fail("its input A has rank " + std::to_string(x.dims.size()) + "; Gemm takes [N, K]");
  const Value &b = in(n, 1);
  if (b.kind != Value::Constant || b.c.dims.size() != 2)
    return fail("its B must be a 2-d initializer");
  // B is [M, K] with transB=1 (torch.nn.Linear's weight, as torch.onnx
  // writes it), else [K, M].
  bool transB = attrInt(n, "transB", 0) != 0;
  int64_t out = b.c.dims[transB ? 0 : 1];
  shapes::Result r = shapes::linear(x.dims, out);
  if (!shapeOk(r))
    return false;
  std::vector<dsl::Weight> weights;
  if (!weight(n, 1, "weight", {out, x.dims[1]}, weights, !transB))
    return false;
  bool bias = hasInput(n, 2);
  if (bias && !weight(n, 2, "bias", {out}, weights))
    return false;
  dsl::LayerAttrs a;
  a.features = out;
  a.bias = bias;
  define(n, 0, activation(addLayer(dsl::OpKind::Linear, n, {x.layer}, r, a, weights)));
  return true;
}

bool Importer::convBatchNorm(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  if (attrInt(n, "training_mode", 0) != 0)
    return fail("training_mode=1 normalizes by the batch's statistics; netc converts "
                "inference BatchNormalization (training_mode=0)");
  for (int k = 1; k < n.output_size(); ++k)
    if (!n.output(k).empty())
      return fail("its running statistics are outputs (training); netc converts inference "
                  "BatchNormalization, which has one output");
  if (m_.opset < 9 && attrInt(n, "spatial", 1) != 1)
    return fail("spatial=0 normalizes each position apart; netc converts spatial=1");
  const Value &x = in(n, 0);
  double eps = attrFloat(n, "epsilon", 1e-5);
  shapes::Result r = shapes::batchNorm(x.dims, eps);
  if (!shapeOk(r))
    return false;
  std::vector<dsl::Weight> weights;
  const char *leaves[] = {"weight", "bias", "running_mean", "running_var"};
  for (int k = 0; k < 4; ++k) {
    if (!hasInput(n, k + 1))
      return fail("it has no " + std::string(leaves[k]));
    if (!weight(n, k + 1, leaves[k], {x.dims[1]}, weights))
      return false;
  }
  // Where the exporter kept torchvision's names (PATH.weight, PATH.bias,
  // PATH.running_mean, PATH.running_var), the checkpoint also holds
  // PATH.num_batches_tracked, training bookkeeping the graph does not read:
  // expected too, as a spec's BatchNorm expects it, so that the checkpoint
  // loads as it is.
  std::string module = weights[0].key.substr(0, weights[0].key.rfind('.') + 1);
  bool torchNames = module.size() > 1;
  for (int k = 0; k < 4; ++k)
    torchNames = torchNames && weights[k].key == module + leaves[k];
  if (torchNames && !keyUsers_.count(module + "num_batches_tracked")) {
    keyUsers_[module + "num_batches_tracked"] = n.name();
    weights.push_back(dsl::Weight{module + "num_batches_tracked", dsl::DType::I64, {},
                                  "num_batches_tracked"});
  }
  dsl::LayerAttrs a;
  a.eps = eps;
  define(n, 0, activation(addLayer(dsl::OpKind::BatchNorm2d, n, {x.layer}, r, a, weights)));
  return true;
}

//===----------------------------------------------------------------------===//
// Pools and normalizations
//===----------------------------------------------------------------------===//

bool Importer::convPool(const NodeProto &n) {
  bool max = n.op_type() == "MaxPool";
  if (max ? !needActivation(n, 0) : !needActivationOrPadded(n))
    return false;
  const Value &x = in(n, 0);
  if (x.dims.size() != 4)
    return fail("its input has rank " + std::to_string(x.dims.size()) + "; netc converts 2-d "
                "pools (NCHW) only");
  if (max && n.output_size() > 1 && !n.output(1).empty())
    return fail("its Indices output is not supported");
  std::vector<int64_t> kernel = attrInts(n, "kernel_shape"), strides = attrInts(n, "strides"),
                       dilations = attrInts(n, "dilations");
  if (kernel.size() != 2)
    return fail("kernel_shape " + formatDims(kernel) + " is not 2-d");
  shapes::Window window;
  for (int a = 0; a < 2; ++a) {
    window.kernel[a] = kernel[a];
    window.stride[a] = strides.size() == 2 ? strides[a] : 1;
    window.dilation[a] = dilations.size() == 2 ? dilations[a] : 1;
  }
  window.ceilMode = attrInt(n, "ceil_mode", 0) != 0;
  if (!max && (window.dilation[0] != 1 || window.dilation[1] != 1))
    return fail("a dilated AveragePool is not supported");
  bool countIncludePad = !max && attrInt(n, "count_include_pad", 0) != 0;
  if (x.pattern == Value::Padded) {
    // Zeros a Pad added count in the average, as count_include_pad's do.
    std::vector<int64_t> pads = attrInts(n, "pads");
    bool ownPads = std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; });
    if (ownPads || window.ceilMode || attrString(n, "auto_pad", "NOTSET") != "NOTSET")
      return fail("it reads the output of Pad node '" + x.patternNode + "' and pads (or "
                  "rounds up) itself too; netc folds a Pad only into an AveragePool without "
                  "padding of its own");
    countIncludePad = true;
  }
  int64_t uneven[4];
  if (!windowPads(n, x.dims, window.kernel, window, x.pad, uneven))
    return false;
  int input = x.layer;
  if (std::any_of(uneven, uneven + 4, [](int64_t p) { return p != 0; })) {
    // Uneven padding as a layer of its own: -inf for a max pool; zeros for
    // an average that counts them (and ends inside them: no ceil mode).
    if (!max && (!countIncludePad || window.ceilMode))
      return fail("its padding " + formatDims({uneven, uneven + 4}) + " differs at the start "
                  "and end of an axis; netc averages over uneven padding only where the pads "
                  "count (count_include_pad=1) and without ceil_mode");
    input = padLayer(n, x.layer, uneven, max ? -INFINITY : 0.0);
  }
  shapes::Result r = shapes::pool2d(dims_[input], window);
  if (!shapeOk(r))
    return false;
  dsl::LayerAttrs a = windowAttrs(window);
  a.countIncludePad = countIncludePad;
  define(n, 0, activation(addLayer(max ? dsl::OpKind::MaxPool2d : dsl::OpKind::AvgPool2d, n,
                                   {input}, r, a)));
  return true;
}

/// The mean over each image, [N, C, 1, 1]; -1 after an error.
int Importer::spatialMean(const NodeProto &n, const Value &x) {
  shapes::Result r = shapes::adaptivePool2d(x.dims, 1, 1);
  if (!shapeOk(r))
    return -1;
  dsl::LayerAttrs a;
  a.outSize[0] = a.outSize[1] = 1;
  return addLayer(dsl::OpKind::AdaptiveAvgPool2d, n, {x.layer}, r, a);
}

bool Importer::convGlobalAveragePool(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  int pool = spatialMean(n, in(n, 0));
  if (pool < 0)
    return false;
  define(n, 0, activation(pool));
  return true;
}

bool Importer::convReduceMean(const NodeProto &n) {
  const Value &x = in(n, 0);
  std::vector<int64_t> axes = attrInts(n, "axes");
  for (int64_t &a : axes)
    a = normalizeAxis(a, x.dims.size());
  std::sort(axes.begin(), axes.end());
  // The means of a layer norm over the channels: of x, then of its squared
  // deviation from the first.
  if (x.kind == Value::Activation &&
      (x.pattern == Value::None || x.pattern == Value::NormSquared) && axes.size() == 1 &&
      overChannels(x, axes[0]) && attrInt(n, "keepdims", 1) != 0) {
    Value v = x;
    if (x.pattern == Value::None) {
      v.pattern = Value::NormMean;
      v.patternNode = n.name().empty() ? nodeName(n, nodeIndex_) : n.name();
      v.patternInput = x.layer;
    } else {
      v.pattern = Value::NormVariance;
    }
    define(n, 0, std::move(v));
    return true;
  }
  if (!needActivation(n, 0))
    return false;
  if (x.dims.size() != 4 || axes != std::vector<int64_t>{2, 3})
    return fail("it averages over axes " + formatDims(attrInts(n, "axes")) + " of a rank-" +
                std::to_string(x.dims.size()) + " tensor; netc converts the spatial mean "
                "(axes [2,3] of NCHW)");
  int pool = spatialMean(n, x);
  if (pool < 0)
    return false;
  if (attrInt(n, "keepdims", 1) != 0) {
    define(n, 0, activation(pool));
    return true;
  }
  shapes::Result flat = shapes::flatten(dims_[pool], 1);
  dsl::LayerAttrs f;
  f.axis = 1;
  define(n, 0, activation(addLayer(dsl::OpKind::Flatten, n, {pool}, flat, f)));
  return true;
}

bool Importer::convLrn(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  const Value &x = in(n, 0);
  dsl::LayerAttrs a;
  a.size = attrInt(n, "size", 0);
  a.alpha = attrFloat(n, "alpha", 1e-4);
  a.beta = attrFloat(n, "beta", 0.75);
  a.k = attrFloat(n, "bias", 1.0);
  shapes::Result r = shapes::localResponseNorm(x.dims, a.size);
  if (!shapeOk(r))
    return false;
  define(n, 0, activation(addLayer(dsl::OpKind::LocalResponseNorm, n, {x.layer}, r, a)));
  return true;
}

bool Importer::convSoftmax(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  const Value &x = in(n, 0);
  int64_t axis = normalizeAxis(attrInt(n, "axis", m_.opset >= 13 ? -1 : 1), x.dims.size());
  // Before opset 13 Softmax normalized over every axis from `axis` on.
  if (m_.opset < 13 && axis != static_cast<int64_t>(x.dims.size()) - 1)
    return fail("at opset " + std::to_string(m_.opset) + " it normalizes over axes " +
                std::to_string(axis) + " to the last together; netc's softmax takes one axis");
  if (axis != 1)
    return fail("it normalizes along axis " + std::to_string(axis) + "; netc's softmax runs "
                "along axis 1 (the channels, or the features of [N, F])");
  shapes::Result r = shapes::softmax(x.dims, axis);
  if (!shapeOk(r))
    return false;
  dsl::LayerAttrs a;
  a.axis = axis;
  auto kind = n.op_type() == "LogSoftmax" ? dsl::OpKind::LogSoftmax : dsl::OpKind::Softmax;
  define(n, 0, activation(addLayer(kind, n, {x.layer}, r, a)));
  return true;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

bool Importer::convHardSigmoid(const NodeProto &n) {
  double alpha = attrFloat(n, "alpha", 0.2), beta = attrFloat(n, "beta", 0.5);
  if (!near(alpha, 1.0 / 6.0) || !near(beta, 0.5))
    return fail("alpha " + std::to_string(alpha) + " and beta " + std::to_string(beta) +
                ": netc's hardsigmoid is PyTorch's, alpha 1/6 and beta 0.5");
  return unary(n, dsl::OpKind::Hardsigmoid);
}

bool Importer::convClip(const NodeProto &n) {
  double lo = -std::numeric_limits<double>::infinity(), hi = -lo;
  if (m_.opset < 11) {
    lo = attrFloat(n, "min", lo);
    hi = attrFloat(n, "max", hi);
  } else {
    std::vector<double> v;
    if (hasInput(n, 1)) {
      if (!constInput(n, 1, "min", v))
        return false;
      lo = v.at(0);
    }
    if (hasInput(n, 2)) {
      if (!constInput(n, 2, "max", v))
        return false;
      hi = v.at(0);
    }
  }
  if (lo == 0 && std::isinf(hi) && hi > 0)
    return unary(n, dsl::OpKind::Relu);
  if (!(lo <= hi))
    return fail("min " + std::to_string(lo) + " exceeds max " + std::to_string(hi));
  dsl::LayerAttrs a;
  a.minValue = lo;
  a.maxValue = hi;
  return unary(n, dsl::OpKind::Hardtanh, a);
}

bool Importer::convErf(const NodeProto &n) {
  // The Erf of GELU: erf(x / sqrt 2), the division a channel affine by now.
  const Value &v = in(n, 0);
  if (v.kind == Value::Activation && v.pattern == Value::None) {
    const dsl::Layer &div = layers_[v.layer];
    bool scaled = div.kind == dsl::OpKind::ChannelAffine && !div.attrs.scale.empty();
    for (size_t c = 0; scaled && c < div.attrs.scale.size(); ++c)
      scaled = near(div.attrs.scale[c], M_SQRT1_2) && div.attrs.shift[c] == 0;
    if (scaled) {
      Value e = v;
      e.pattern = Value::Erf;
      e.patternNode = n.name();
      e.patternInput = div.inputs[0];
      define(n, 0, e);
      return true;
    }
  }
  return fail("netc converts Erf only inside GELU, x * 0.5 * (1 + erf(x / sqrt(2)))");
}

bool Importer::convPow(const NodeProto &n) {
  // The square of a layer norm's deviation from the mean.
  const Value &x = in(n, 0);
  std::vector<double> exponent;
  if (x.pattern == Value::NormCentered && hasInput(n, 1) &&
      in(n, 1).kind == Value::Constant && in(n, 1).c.count() == 1 &&
      constInput(n, 1, "exponent", exponent) && exponent[0] == 2) {
    Value v = x;
    v.pattern = Value::NormSquared;
    define(n, 0, std::move(v));
    return true;
  }
  return fail(std::string("netc converts Pow only inside a layer norm, ") + kLayerNormSpelling);
}

bool Importer::convSqrt(const NodeProto &n) {
  // A layer norm's deviation, from its variance + eps.
  const Value &x = in(n, 0);
  if (x.pattern == Value::NormVarianceEps) {
    Value v = x;
    v.pattern = Value::NormDeviation;
    define(n, 0, std::move(v));
    return true;
  }
  return fail(std::string("netc converts Sqrt only inside a layer norm, ") + kLayerNormSpelling);
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

/// GELU, step by step after its Erf: erf + 1, x * that, then * 0.5 (or
/// 0.5 * x first). Empty where `p` (op) `q` is not one of its steps.
std::optional<bool> Importer::geluStep(const NodeProto &n, const Value &p, const Value &q) {
  const std::string &op = n.op_type();
  if (p.pattern == Value::Erf && op == "Add" && q.kind == Value::Constant) {
    std::vector<double> one;
    if (q.c.count() == 1 && !q.c.atLoad && valuesOf(q.c, one, "addend") && one[0] == 1) {
      Value v = p;
      v.pattern = Value::ErfPlusOne;
      define(n, 0, v);
      return true;
    }
  }
  if (p.pattern == Value::ErfPlusOne && op == "Mul" && q.kind == Value::Activation &&
      q.pattern == Value::None) {
    int x = q.layer;
    bool half = false;
    const dsl::Layer &l = layers_[q.layer];
    if (l.kind == dsl::OpKind::ChannelAffine && l.inputs[0] == p.patternInput) {
      half = true;
      for (size_t c = 0; c < l.attrs.scale.size(); ++c)
        half = half && near(l.attrs.scale[c], 0.5) && l.attrs.shift[c] == 0;
      x = l.inputs[0];
    }
    if (x == p.patternInput) {
      if (half) {
        shapes::Result r;
        r.dims = dims_[x];
        define(n, 0, activation(addLayer(dsl::OpKind::Gelu, n, {x}, r), p.channelsLast));
        return true;
      }
      Value v = p;
      v.pattern = Value::XTimesErf;
      define(n, 0, v);
      return true;
    }
  }
  if (p.pattern == Value::XTimesErf && op == "Mul" && q.kind == Value::Constant) {
    std::vector<double> half;
    if (q.c.count() == 1 && !q.c.atLoad && valuesOf(q.c, half, "factor") && half[0] == 0.5) {
      shapes::Result r;
      r.dims = dims_[p.patternInput];
      define(n, 0, activation(addLayer(dsl::OpKind::Gelu, n, {p.patternInput}, r),
                              p.channelsLast));
      return true;
    }
  }
  return std::nullopt;
}

/// A layer norm over the channels, step by step after its first mean (see
/// kLayerNormSpelling): x - mean, the variance + eps, the deviation's
/// quotient, * weight, + bias (the layer). Empty where `p` (op) `q` is not
/// one of its steps.
std::optional<bool> Importer::layerNormStep(const NodeProto &n, const Value &p,
                                            const Value &q) {
  const std::string &op = n.op_type();
  bool pFirst = &p == &in(n, 0);
  auto next = [&](const Value &from, Value::Pattern pattern) {
    Value v = from;
    v.pattern = pattern;
    define(n, 0, std::move(v));
    return true;
  };
  if (op == "Sub" && pFirst && p.kind == Value::Activation && p.pattern == Value::None &&
      q.pattern == Value::NormMean && q.patternInput == p.layer)
    return next(q, Value::NormCentered);
  if (op == "Div" && pFirst && p.pattern == Value::NormCentered &&
      q.pattern == Value::NormDeviation && q.patternInput == p.patternInput)
    return next(q, Value::Normalized);
  if (q.kind != Value::Constant)
    return std::nullopt;
  if (op == "Add" && p.pattern == Value::NormVariance) {
    if (q.c.count() != 1)
      return fail("it adds '" + q.c.name + "' " + formatDims(q.c.dims) + " to a variance; "
                  "netc converts a layer norm (" + kLayerNormSpelling + ") with a scalar eps");
    std::vector<double> eps;
    if (!valuesOf(q.c, eps, "epsilon"))
      return false;
    Value v = p;
    v.eps = eps[0];
    return next(v, Value::NormVarianceEps);
  }
  if (p.pattern != Value::Normalized && p.pattern != Value::NormScaled)
    return std::nullopt;
  int qi = pFirst ? 1 : 0;
  int64_t channels = dims_[p.patternInput][1]; // rank 4 (NHWC) or 2 (features)
  if (op == "Mul" && p.pattern == Value::Normalized) {
    Value v = p;
    if (!weight(n, qi, "weight", {channels}, v.normWeights))
      return false;
    return next(v, Value::NormScaled);
  }
  if (op == "Add" && p.pattern == Value::NormScaled) {
    std::vector<dsl::Weight> weights = p.normWeights;
    if (!weight(n, qi, "bias", {channels}, weights))
      return false;
    shapes::Result r = shapes::layerNorm(dims_[p.patternInput], p.eps);
    if (!shapeOk(r))
      return false;
    dsl::LayerAttrs a;
    a.eps = p.eps;
    define(n, 0, activation(addLayer(dsl::OpKind::LayerNorm, n, {p.patternInput}, r, a,
                                     std::move(weights)),
                            p.channelsLast));
    return true;
  }
  return std::nullopt;
}

bool Importer::convBinary(const NodeProto &n) {
  const std::string &op = n.op_type();
  Value &a = in(n, 0), &b = in(n, 1);
  if (a.kind == Value::Constant && b.kind == Value::Constant)
    return binaryConsts(n, a.c, b.c);
  // Steps of GELU and of a layer norm, either operand first.
  for (auto step : {&Importer::geluStep, &Importer::layerNormStep}) {
    if (std::optional<bool> done = (this->*step)(n, a, b))
      return *done;
    if (std::optional<bool> done = (this->*step)(n, b, a))
      return *done;
  }
  // A linear layer's bias, added after the MatMul (torch.onnx's Linear on
  // more than two axes): the layer's own, keeping the bias's name.
  for (int k = 0; k < 2 && op == "Add"; ++k) {
    Value &x = k ? b : a;
    const Value &c = k ? a : b;
    if (x.kind != Value::Activation || x.pattern != Value::None || c.kind != Value::Constant ||
        uses_[n.input(k)] != 1)
      continue;
    dsl::Layer &layer = layers_[x.layer];
    if ((layer.kind != dsl::OpKind::ChannelLinear && layer.kind != dsl::OpKind::Linear) ||
        layer.attrs.bias || c.c.dims != Dims{layer.attrs.features} || !c.c.proto)
      continue;
    if (!weight(n, k ? 0 : 1, "bias", {layer.attrs.features}, layer.weights))
      return false;
    layer.attrs.bias = true;
    define(n, 0, x);
    return true;
  }
  if (a.kind == Value::Constant)
    return needActivation(n, 1, true) && binaryWithConst(n, b, a.c, true);
  if (b.kind == Value::Constant)
    return needActivation(n, 0, true) && binaryWithConst(n, a, b.c, false);
  if (!needActivation(n, 0, true) || !needActivation(n, 1, true))
    return false;
  if (a.channelsLast != b.channelsLast)
    return fail("one operand is channels-last (NHWC), the other NCHW");
  if (op == "Add") {
    shapes::Result r = shapes::add({a.dims, b.dims});
    if (!shapeOk(r))
      return false;
    define(n, 0, activation(addLayer(dsl::OpKind::Add, n, {a.layer, b.layer}, r),
                            a.channelsLast));
    return true;
  }
  if (op != "Mul")
    return fail("netc converts " + op + " of two activations only where one of them is a "
                "constant");
  // x * sigmoid(x) is SiLU, x * hardsigmoid(x) Hardswish.
  for (int k = 0; k < 2; ++k) {
    const Value &x = k ? b : a, &gate = k ? a : b;
    const dsl::Layer &g = layers_[gate.layer];
    if ((g.kind == dsl::OpKind::Sigmoid || g.kind == dsl::OpKind::Hardsigmoid) &&
        g.inputs[0] == x.layer) {
      shapes::Result r;
      r.dims = x.dims;
      auto kind = g.kind == dsl::OpKind::Sigmoid ? dsl::OpKind::Silu : dsl::OpKind::Hardswish;
      define(n, 0, activation(addLayer(kind, n, {x.layer}, r)));
      return true;
    }
  }
  if (a.channelsLast)
    return fail("netc multiplies channels-last (NHWC) activations only by a constant");
  // A gate broadcast over the other operand (squeeze-excitation) goes second.
  bool swap = false;
  for (size_t d = 0; d < a.dims.size() && d < b.dims.size(); ++d)
    swap = swap || (a.dims[d] == 1 && b.dims[d] != 1);
  const Value &lhs = swap ? b : a, &rhs = swap ? a : b;
  shapes::Result r = shapes::mul({lhs.dims, rhs.dims});
  if (!shapeOk(r))
    return false;
  define(n, 0, activation(addLayer(dsl::OpKind::Mul, n, {lhs.layer, rhs.layer}, r)));
  return true;
}

/// x (op) c, or c (op) x: a per-channel affine with constant scale and
/// shift; Mul by a [C,1,1] initializer is a learned scale (ConvNeXt's
/// layer_scale), kept a weight.
bool Importer::binaryWithConst(const NodeProto &n, const Value &x, const Const &c,
                               bool constFirst) {
  const std::string &op = n.op_type();
  size_t rank = x.dims.size();
  if (rank < 2)
    return fail("its activation has rank " + std::to_string(rank));
  int64_t channels = x.dims[1];
  // The constant must vary along the channel axis at most (the last of
  // NHWC), broadcast as ONNX does (aligned at the last axis).
  Dims logical = x.dims;
  size_t channelAxis = 1;
  if (x.channelsLast) {
    logical = {x.dims[0], x.dims[2], x.dims[3], x.dims[1]};
    channelAxis = 3;
  }
  if (c.dims.size() > rank)
    return fail("its constant '" + c.name + "' " + formatDims(c.dims) + " has a higher rank "
                "than the activation " + shapes::format(logical));
  size_t offset = rank - c.dims.size();
  bool perChannel = false;
  for (size_t d = 0; d < c.dims.size(); ++d) {
    size_t axis = d + offset;
    if (c.dims[d] == 1)
      continue;
    if (axis == channelAxis && c.dims[d] == channels) {
      perChannel = true;
      continue;
    }
    return fail("its constant '" + c.name + "' " + formatDims(c.dims) + " varies along axis " +
                std::to_string(axis) + " of " + (x.channelsLast ? "NHWC " : "") +
                shapes::format(logical) + "; netc converts " + op +
                " by a scalar or a per-channel constant");
  }
  if (op == "Mul" && perChannel && c.proto && rank == 4 && c.dims.size() == 3 &&
      !x.channelsLast) {
    std::vector<dsl::Weight> weights;
    if (!weight(n, constFirst ? 0 : 1, "scale", {channels, 1, 1}, weights))
      return false;
    shapes::Result r = shapes::channelScale(x.dims);
    if (!shapeOk(r))
      return false;
    define(n, 0, activation(addLayer(dsl::OpKind::ChannelScale, n, {x.layer}, r, {}, weights)));
    return true;
  }
  std::vector<double> v;
  if (!valuesOf(c, v, "constant"))
    return false;
  if (channels == kUnknown)
    return fail("its activation's channel count is not known");
  dsl::LayerAttrs a;
  a.scale.assign(channels, 1.0);
  a.shift.assign(channels, 0.0);
  for (int64_t ch = 0; ch < channels; ++ch) {
    double k = v[perChannel ? ch : 0];
    if (op == "Add") {
      a.shift[ch] = k;
    } else if (op == "Sub") {
      a.scale[ch] = constFirst ? -1.0 : 1.0;
      a.shift[ch] = constFirst ? k : -k;
    } else if (op == "Mul") {
      a.scale[ch] = k;
    } else if (constFirst) {
      return fail("netc converts Div of a constant by an activation only the other way "
                  "round");
    } else {
      a.scale[ch] = 1.0 / k;
    }
  }
  shapes::Result r = shapes::channelAffine(x.dims, channels, channels);
  if (!shapeOk(r))
    return false;
  define(n, 0, activation(addLayer(dsl::OpKind::ChannelAffine, n, {x.layer}, r, a),
                          x.channelsLast));
  return true;
}

/// Arithmetic on constants (shape computations), elementwise with
/// broadcasting of a scalar.
bool Importer::binaryConsts(const NodeProto &n, const Const &a, const Const &b) {
  std::vector<double> x, y;
  // The batch size is not known: values derived from it stay marked.
  std::vector<bool> bx, by;
  if (!constValues(a, x, bx, "operand") || !constValues(b, y, by, "operand"))
    return false;
  if (x.size() != y.size() && x.size() != 1 && y.size() != 1)
    return fail("its constant operands " + formatDims(a.dims) + " and " + formatDims(b.dims) +
                " do not broadcast (netc computes constants of one shape, or with a scalar)");
  Const out;
  out.dtype = a.dtype;
  // An empty operand makes an empty result (broadcast from a scalar too).
  bool empty = x.empty() || y.empty();
  out.dims = empty ? (x.empty() ? a.dims : b.dims) : x.size() >= y.size() ? a.dims : b.dims;
  out.name = n.output(0);
  size_t count = empty ? 0 : std::max(x.size(), y.size());
  bool integer = a.dtype != TensorProto::FLOAT && a.dtype != TensorProto::DOUBLE;
  const std::string &op = n.op_type();
  for (size_t i = 0; i < count; ++i) {
    double p = x[x.size() == 1 ? 0 : i], q = y[y.size() == 1 ? 0 : i];
    double r = op == "Add" ? p + q : op == "Sub" ? p - q : op == "Mul" ? p * q
               : integer  ? (q == 0 ? 0 : std::trunc(p / q))
                          : p / q;
    out.values.push_back(r);
    out.batch.push_back(bx[bx.size() == 1 ? 0 : i] || by[by.size() == 1 ? 0 : i]);
  }
  define(n, 0, constant(std::move(out)));
  return true;
}

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

bool Importer::convConcat(const NodeProto &n) {
  bool consts = true;
  for (int i = 0; i < n.input_size(); ++i)
    consts = consts && in(n, i).kind == Value::Constant;
  if (consts) {
    // Shape arithmetic: 1-d int64 pieces end to end.
    Const out;
    out.dtype = in(n, 0).c.dtype;
    out.name = n.output(0);
    for (int i = 0; i < n.input_size(); ++i) {
      const Const &c = in(n, i).c;
      if (c.dims.size() > 1)
        return fail("netc concatenates constants of rank 1 only");
      std::vector<double> v;
      std::vector<bool> batch;
      if (!constValues(c, v, batch, "input"))
        return false;
      out.values.insert(out.values.end(), v.begin(), v.end());
      out.batch.insert(out.batch.end(), batch.begin(), batch.end());
    }
    out.dims = {static_cast<int64_t>(out.values.size())};
    define(n, 0, constant(std::move(out)));
    return true;
  }
  std::vector<int> inputs;
  std::vector<Dims> shapes;
  for (int i = 0; i < n.input_size(); ++i) {
    if (!needActivation(n, i))
      return false;
    inputs.push_back(in(n, i).layer);
    shapes.push_back(in(n, i).dims);
  }
  if (inputs.size() == 1) { // torch.cat([x])
    define(n, 0, in(n, 0));
    return true;
  }
  int64_t axis = normalizeAxis(attrInt(n, "axis", 1), shapes[0].size());
  shapes::Result r = shapes::concat(shapes, axis);
  if (!shapeOk(r))
    return false;
  dsl::LayerAttrs a;
  a.axis = axis;
  define(n, 0, activation(addLayer(dsl::OpKind::Concat, n, inputs, r, a)));
  return true;
}

bool Importer::convSplit(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  const Value &x = in(n, 0);
  int64_t axis = normalizeAxis(attrInt(n, "axis", 0), x.dims.size());
  if (axis <= 0 || axis >= static_cast<int64_t>(x.dims.size()))
    return fail("it splits axis " + std::to_string(axis) + "; netc splits a non-batch axis");
  std::vector<int64_t> sizes;
  if (m_.opset >= 13) {
    if (hasInput(n, 1)) {
      std::vector<double> v;
      if (!constInput(n, 1, "split", v))
        return false;
      sizes = toInts(v);
    }
  } else {
    sizes = attrInts(n, "split");
  }
  int64_t total = x.dims[axis];
  if (sizes.empty())
    sizes.assign(n.output_size(), total / n.output_size());
  int64_t start = 0;
  for (int k = 0; k < n.output_size(); ++k) {
    if (k >= static_cast<int>(sizes.size()))
      return fail("it has more outputs than split sizes");
    shapes::Result r = shapes::narrow(x.dims, axis, start, sizes[k]);
    if (!shapeOk(r))
      return false;
    dsl::LayerAttrs a;
    a.axis = axis;
    a.start = start;
    a.length = sizes[k];
    define(n, k, activation(addLayer(dsl::OpKind::Narrow, n, {x.layer}, r, a)));
    start += sizes[k];
  }
  if (start != total)
    return fail("its split sizes add up to " + std::to_string(start) + ", not the axis's " +
                std::to_string(total));
  return true;
}

bool Importer::sliceValues(const NodeProto &n, std::vector<int64_t> &starts,
                           std::vector<int64_t> &ends, std::vector<int64_t> &axes,
                           std::vector<int64_t> &steps) {
  if (m_.opset < 10) {
    starts = attrInts(n, "starts");
    ends = attrInts(n, "ends");
    axes = attrInts(n, "axes");
    return true;
  }
  auto ints = [&](int i, const char *role, std::vector<int64_t> &out) {
    if (!hasInput(n, i))
      return true;
    std::vector<double> v;
    if (!constInput(n, i, role, v))
      return false;
    out = toInts(v);
    return true;
  };
  return ints(1, "starts", starts) && ints(2, "ends", ends) && ints(3, "axes", axes) &&
         ints(4, "steps", steps);
}

/// The most elements netc computes in one constant (shape arithmetic and
/// the pads torch.onnx builds with ConstantOfShape are a handful).
constexpr int64_t kMaxConstElements = 1 << 20;

/// Row-major strides of `dims`.
static std::vector<int64_t> stridesOf(const Dims &dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t a = dims.size(); a-- > 1;)
    strides[a - 1] = strides[a] * dims[a];
  return strides;
}

/// A strided view of constant `c` as a constant of shape `out`: element k
/// of output axis a is element begin[a] + k * step[a] of input axis
/// axisOf[a] (a Slice: axisOf the identity; a Transpose: the permutation).
bool Importer::stridedConst(const NodeProto &n, const Const &c, const Dims &out,
                            const std::vector<int64_t> &axisOf,
                            const std::vector<int64_t> &begin,
                            const std::vector<int64_t> &step) {
  std::vector<double> values;
  std::vector<bool> batch;
  if (!constValues(c, values, batch, "input"))
    return false;
  Const result;
  result.dtype = c.dtype;
  result.name = n.output(0);
  result.dims = out;
  std::vector<int64_t> from = stridesOf(c.dims), to = stridesOf(out);
  for (int64_t i = 0, count = result.count(); i < count; ++i) {
    int64_t source = 0;
    for (size_t a = 0; a < out.size(); ++a)
      source += (begin[a] + (i / to[a]) % out[a] * step[a]) * from[axisOf[a]];
    result.values.push_back(values[source]);
    result.batch.push_back(batch[source]);
  }
  define(n, 0, constant(std::move(result)));
  return true;
}

/// Slice of a constant, any axes and steps (torch.onnx reverses F.pad's
/// pads with step -1), with ONNX's clamping of starts and ends.
bool Importer::sliceConst(const NodeProto &n, const Const &c, const std::vector<int64_t> &starts,
                          const std::vector<int64_t> &ends, const std::vector<int64_t> &axes,
                          const std::vector<int64_t> &steps) {
  const int64_t rank = static_cast<int64_t>(c.dims.size());
  std::vector<int64_t> begin(rank, 0), step(rank, 1);
  Dims out = c.dims;
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = normalizeAxis(axes[k], rank);
    if (a < 0 || a >= rank)
      return fail("axis " + std::to_string(axes[k]) + " is out of range for its constant " +
                  formatDims(c.dims));
    int64_t dim = c.dims[a];
    if (steps[k] == 0)
      return fail("a step is 0");
    // A step past the dimension takes one element, as one just past it does.
    int64_t st = std::clamp(steps[k], -dim - 1, dim + 1);
    int64_t s = starts[k] < 0 ? std::max(starts[k], -dim) + dim : starts[k];
    int64_t e = ends[k] < 0 ? std::max(ends[k], -dim - 1) + dim : ends[k];
    int64_t length = 0;
    if (st > 0) {
      s = std::min(s, dim);
      e = std::min(e, dim);
      length = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::min(s, dim - 1);
      e = std::min(e, dim - 1);
      length = s > e ? (s - e - st - 1) / -st : 0;
    }
    begin[a] = s;
    step[a] = st;
    out[a] = length;
  }
  std::vector<int64_t> axisOf(rank);
  for (int64_t a = 0; a < rank; ++a)
    axisOf[a] = a;
  return stridedConst(n, c, out, axisOf, begin, step);
}

bool Importer::convSlice(const NodeProto &n) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (!sliceValues(n, starts, ends, axes, steps))
    return false;
  if (starts.size() != ends.size())
    return fail("starts and ends differ in length");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(static_cast<int64_t>(i));
  if (axes.size() != starts.size() || (!steps.empty() && steps.size() != starts.size()))
    return fail("its starts, ends, axes and steps differ in length");
  steps.resize(starts.size(), 1);
  const Value &v = in(n, 0);
  if (v.kind == Value::Constant)
    return sliceConst(n, v.c, starts, ends, axes, steps);
  if (!needActivation(n, 0))
    return false;
  // On an activation: one axis narrowed, with step 1.
  int64_t axis = -1, start = 0, length = 0;
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = normalizeAxis(axes[k], v.dims.size());
    if (a < 0 || a >= static_cast<int64_t>(v.dims.size()))
      return fail("axis " + std::to_string(axes[k]) + " is out of range");
    int64_t size = v.dims[a];
    if (size == kUnknown) { // the batch, left open: only the whole of it
      if (starts[k] == 0 && ends[k] == std::numeric_limits<int64_t>::max() && steps[k] == 1)
        continue;
      return fail("it slices the batch axis; netc converts a Slice of one non-batch axis with "
                  "step 1 (torch.narrow)");
    }
    int64_t s = std::clamp(starts[k] < 0 ? std::max(starts[k], -size) + size : starts[k],
                           int64_t(0), size);
    int64_t e = std::clamp(ends[k] < 0 ? std::max(ends[k], -size) + size : ends[k],
                           int64_t(0), size);
    if (s == 0 && e == size && steps[k] == 1)
      continue;
    if (axis >= 0 || steps[k] != 1 || a == 0)
      return fail("netc converts a Slice of one non-batch axis with step 1 (torch.narrow)");
    axis = a;
    start = s;
    length = e - s;
  }
  if (axis < 0) {
    define(n, 0, v);
    return true;
  }
  shapes::Result r = shapes::narrow(v.dims, axis, start, length);
  if (!shapeOk(r))
    return false;
  dsl::LayerAttrs a;
  a.axis = axis;
  a.start = start;
  a.length = length;
  define(n, 0, activation(addLayer(dsl::OpKind::Narrow, n, {v.layer}, r, a)));
  return true;
}

bool Importer::convReshape(const NodeProto &n) {
  const Value &x = in(n, 0);
  if (x.kind == Value::Constant) {
    Const c = x.c;
    std::vector<double> shape;
    if (!constInput(n, 1, "shape", shape))
      return false;
    c.dims = toInts(shape);
    int64_t known = 1, unknownAt = -1;
    for (size_t i = 0; i < c.dims.size(); ++i) {
      if (c.dims[i] == 0 && i >= x.c.dims.size())
        return fail("its shape " + formatDims(c.dims) + " copies dimension " +
                    std::to_string(i) + " (a 0), which its input " + formatDims(x.c.dims) +
                    " lacks");
      if (c.dims[i] == 0)
        c.dims[i] = x.c.dims[i];
      if (c.dims[i] < -1 || (c.dims[i] == -1 && unknownAt >= 0) ||
          (c.dims[i] > 0 && known > x.c.count() / c.dims[i]))
        return fail("it reshapes " + formatDims(x.c.dims) + " to " + formatDims(c.dims));
      if (c.dims[i] == -1)
        unknownAt = static_cast<int64_t>(i);
      else
        known *= c.dims[i];
    }
    if (unknownAt >= 0)
      c.dims[unknownAt] = known ? x.c.count() / known : 0;
    if (c.count() != x.c.count())
      return fail("it reshapes " + formatDims(x.c.dims) + " to " + formatDims(c.dims));
    if (c.proto || c.atLoad)
      return fail("netc reshapes computed constants only");
    c.name = n.output(0);
    define(n, 0, constant(std::move(c)));
    return true;
  }
  if (x.kind != Value::Activation || (x.pattern != Value::None && x.pattern != Value::Shuffled))
    return needActivation(n, 0);
  Const shapeConst;
  std::vector<double> target;
  if (!constInputAllowingBatch(n, 1, target, shapeConst))
    return false;
  bool allowZero = attrInt(n, "allowzero", 0) != 0;
  // The target with the batch (and sizes copied by 0) resolved; -1 inferred.
  Dims to;
  int64_t inferAt = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    bool batch = i < shapeConst.batch.size() && shapeConst.batch[i];
    int64_t t = toInt(target[i]);
    if (i == 0 && (batch || (fileBatch_ != kUnknown && t == fileBatch_) ||
                   (t == 0 && !allowZero))) {
      to.push_back(kUnknown);
      continue;
    }
    if (batch)
      return fail("its shape uses the batch size in dimension " + std::to_string(i) +
                  "; netc keeps the batch in dimension 0");
    if (t == 0 && !allowZero) {
      if (i >= x.dims.size())
        return fail("its shape copies dimension " + std::to_string(i) + ", which the input "
                    "lacks");
      t = x.dims[i];
    }
    if (t == -1)
      inferAt = static_cast<int64_t>(i);
    to.push_back(t);
  }
  if (to.empty() || to[0] != kUnknown)
    return fail("its shape " + formatDims(std::vector<int64_t>(target.begin(), target.end())) +
                " does not keep the batch in dimension 0 (dynamic in netc)");
  int64_t perSample = 1, known = 1;
  for (size_t i = 1; i < x.dims.size(); ++i)
    perSample *= x.dims[i];
  auto mismatch = [&] {
    return fail("it reshapes " + shapes::format(x.dims) + " to " + shapes::format(to) +
                ", which holds a different number of values");
  };
  for (size_t i = 1; i < to.size(); ++i) {
    if (static_cast<int64_t>(i) == inferAt)
      continue;
    if (to[i] < 0 || (to[i] > 0 && known > perSample / to[i])) // a second -1, or too many
      return mismatch();
    known *= to[i];
  }
  if (inferAt > 0)
    to[inferAt] = known ? perSample / known : 0;
  int64_t product = 1;
  for (size_t i = 1; i < to.size(); ++i)
    product *= to[i];
  if (product != perSample)
    return mismatch();
  if (x.pattern == Value::Shuffled) {
    // The shuffle's last step: back to [N, C, H, W].
    const Dims &orig = dims_[x.layer];
    if (to != orig)
      return fail(patternError(x));
    shapes::Result r = shapes::channelShuffle(orig, x.groups);
    if (!shapeOk(r))
      return false;
    dsl::LayerAttrs a;
    a.groups = x.groups;
    define(n, 0, activation(addLayer(dsl::OpKind::ChannelShuffle, n, {x.layer}, r, a)));
    return true;
  }
  if (to == x.dims) {
    define(n, 0, x);
    return true;
  }
  if (to.size() == 2) {
    shapes::Result r = shapes::flatten(x.dims, 1);
    if (!shapeOk(r))
      return false;
    dsl::LayerAttrs a;
    a.axis = 1;
    define(n, 0, activation(addLayer(dsl::OpKind::Flatten, n, {x.layer}, r, a)));
    return true;
  }
  if (x.dims.size() == 4 && to.size() == 5 && to[1] * to[2] == x.dims[1] &&
      to[3] == x.dims[2] && to[4] == x.dims[3]) {
    Value v = x;
    v.pattern = Value::Reshaped5d;
    v.patternNode = n.name();
    v.groups = to[1];
    define(n, 0, v);
    return true;
  }
  return fail("it reshapes " + shapes::format(x.dims) + " to " + shapes::format(to) +
              "; netc converts a Reshape that flattens to [N, K] or begins a channel shuffle");
}

/// Transpose of a constant computed here (shape arithmetic: torch.onnx
/// pairs F.pad's pads by a Transpose).
bool Importer::transposeConst(const NodeProto &n, const Const &c, std::vector<int64_t> perm) {
  const size_t rank = c.dims.size();
  if (perm.empty())
    for (size_t a = rank; a-- > 0;)
      perm.push_back(static_cast<int64_t>(a));
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool permutation = sorted.size() == rank;
  for (size_t a = 0; permutation && a < rank; ++a)
    permutation = sorted[a] == static_cast<int64_t>(a);
  if (!permutation)
    return fail("perm " + formatDims(perm) + " is no permutation of its constant's " +
                std::to_string(rank) + " axes");
  Dims out;
  for (int64_t p : perm)
    out.push_back(c.dims[p]);
  return stridedConst(n, c, out, perm, std::vector<int64_t>(rank, 0),
                      std::vector<int64_t>(rank, 1));
}

bool Importer::convTranspose(const NodeProto &n) {
  const Value &x = in(n, 0);
  std::vector<int64_t> perm = attrInts(n, "perm");
  if (x.kind == Value::Activation && x.pattern == Value::Reshaped5d &&
      perm == std::vector<int64_t>{0, 2, 1, 3, 4}) {
    Value v = x;
    v.pattern = Value::Shuffled;
    define(n, 0, v);
    return true;
  }
  if (x.kind == Value::Constant && !x.c.proto && !x.c.atLoad)
    return transposeConst(n, x.c, perm);
  if (x.kind == Value::Constant) {
    // A weight read transposed (torch.onnx's Linear on NHWC without constant
    // folding: MatMul(x, Transpose(W))); the layer takes W itself.
    if (x.c.dims.size() != 2 || (!perm.empty() && perm != std::vector<int64_t>{1, 0}) ||
        !x.c.proto || x.c.transposed)
      return fail("netc transposes a 2-d initializer only (for a MatMul to read)");
    Value v = x;
    std::swap(v.c.dims[0], v.c.dims[1]);
    v.c.transposed = true;
    define(n, 0, v);
    return true;
  }
  if (!needActivation(n, 0, true))
    return false;
  Value v = x;
  if (x.dims.size() == 4 && !x.channelsLast && perm == std::vector<int64_t>{0, 2, 3, 1}) {
    v.channelsLast = true;
  } else if (x.dims.size() == 4 && x.channelsLast && perm == std::vector<int64_t>{0, 3, 1, 2}) {
    v.channelsLast = false;
  } else {
    return fail("perm " + formatDims(perm) + ": netc converts a Transpose from NCHW to NHWC "
                "and back (perm [0,2,3,1], [0,3,1,2]) and inside a channel shuffle (Reshape "
                "[N,g,C/g,H,W], Transpose perm [0,2,1,3,4], Reshape [N,C,H,W])");
  }
  define(n, 0, v);
  return true;
}

bool Importer::convLayerNorm(const NodeProto &n) {
  if (!needActivation(n, 0, true))
    return false;
  const Value &x = in(n, 0);
  for (int k = 1; k < n.output_size(); ++k)
    if (!n.output(k).empty() && uses_[n.output(k)] > 0)
      return fail("its mean or inverse deviation is read; netc computes the normalized output "
                  "only");
  // Over the channels: the last axis of NHWC (ConvNeXt), or the features
  // of [N, F].
  int64_t axis = normalizeAxis(attrInt(n, "axis", -1), x.dims.size());
  if (!overChannels(x, axis))
    return fail("it normalizes from axis " + std::to_string(axis) + " of " +
                (x.channelsLast ? "NHWC " : "") + shapes::format(x.dims) + "; netc's layer "
                "norm runs over the channels (the last axis of NHWC, or the features of [N, F])");
  double eps = attrFloat(n, "epsilon", 1e-5);
  shapes::Result r = shapes::layerNorm(x.dims, eps);
  if (!shapeOk(r))
    return false;
  std::vector<dsl::Weight> weights;
  if (!weight(n, 1, "weight", {x.dims[1]}, weights))
    return false;
  if (!hasInput(n, 2))
    return fail("it has no bias B; netc's layer norm takes one");
  if (!weight(n, 2, "bias", {x.dims[1]}, weights))
    return false;
  dsl::LayerAttrs a;
  a.eps = eps;
  define(n, 0, activation(addLayer(dsl::OpKind::LayerNorm, n, {x.layer}, r, a, weights),
                          x.channelsLast));
  return true;
}

bool Importer::convMatMul(const NodeProto &n) {
  if (!needActivation(n, 0, true))
    return false;
  const Value &x = in(n, 0), &b = in(n, 1);
  bool rows = !x.channelsLast && x.dims.size() == 2;
  if (!x.channelsLast && !rows)
    return fail("its A is " + shapes::format(x.dims) + "; netc converts MatMul of [N, K] or of "
                "NHWC's channels by a weight");
  if (b.kind != Value::Constant || b.c.dims.size() != 2 || (!b.c.proto && !b.c.atLoad))
    return fail("its B must be a 2-d initializer [K, M] (or the Transpose of one)");
  const Const &c = b.c;
  int64_t features = x.dims[1], out = c.dims[1];
  if (c.dims[0] != features)
    return fail("its B '" + c.name + "' is " + formatDims(c.dims) + " but A has " +
                std::to_string(features) + (rows ? " features" : " channels"));
  // The layer's weight is [M, K], torch.nn.Linear's: the Transpose's source
  // as it is, or B [K, M] written transposed (by --export-weights).
  std::vector<dsl::Weight> weights;
  if (!weight(n, 1, "weight", {out, features}, weights, true))
    return false;
  shapes::Result r = rows ? shapes::linear(x.dims, out) : shapes::channelLinear(x.dims, out);
  if (!shapeOk(r))
    return false;
  dsl::LayerAttrs a;
  a.features = out;
  a.bias = false;
  auto kind = rows ? dsl::OpKind::Linear : dsl::OpKind::ChannelLinear;
  define(n, 0, activation(addLayer(kind, n, {x.layer}, r, a, weights), x.channelsLast));
  return true;
}

bool Importer::convFlatten(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  const Value &x = in(n, 0);
  int64_t axis = normalizeAxis(attrInt(n, "axis", 1), x.dims.size());
  if (axis != 1)
    return fail("axis " + std::to_string(axis) + ": netc flattens from axis 1 (keeping the "
                "batch)");
  if (x.dims.size() == 2) {
    define(n, 0, x);
    return true;
  }
  shapes::Result r = shapes::flatten(x.dims, 1);
  if (!shapeOk(r))
    return false;
  dsl::LayerAttrs a;
  a.axis = 1;
  define(n, 0, activation(addLayer(dsl::OpKind::Flatten, n, {x.layer}, r, a)));
  return true;
}

bool Importer::convIdentity(const NodeProto &n) {
  // A constant keeps its source's data under this name: torch.onnx writes
  // one initializer for equal tensors and an Identity for each other name.
  Value v = in(n, 0);
  if (v.kind == Value::Constant)
    v.c.name = n.output(0);
  define(n, 0, v);
  return true;
}

bool Importer::convDropout(const NodeProto &n) {
  if (n.output_size() > 1 && !n.output(1).empty())
    return fail("its mask output is read; netc converts inference Dropout (an identity)");
  if (m_.opset >= 12 && hasInput(n, 2)) {
    std::vector<double> training;
    if (!constInput(n, 2, "training_mode", training))
      return false;
    if (!training.empty() && training[0] != 0)
      return fail("training_mode is true; netc converts inference Dropout");
  }
  if (!needActivation(n, 0))
    return false;
  define(n, 0, in(n, 0));
  return true;
}

//===----------------------------------------------------------------------===//
// Constants and shape arithmetic
//===----------------------------------------------------------------------===//

bool Importer::convConstant(const NodeProto &n) {
  Const c;
  c.name = n.output(0);
  for (const AttributeProto &a : n.attribute()) {
    if (a.name() == "value") {
      c.dtype = a.t().data_type();
      c.dims.assign(a.t().dims().begin(), a.t().dims().end());
      c.proto = &a.t();
    } else if (a.name() == "value_float" || a.name() == "value_int") {
      c.dtype = a.name() == "value_float" ? TensorProto::FLOAT : TensorProto::INT64;
      c.values = {a.name() == "value_float" ? a.f() : static_cast<double>(a.i())};
    } else if (a.name() == "value_floats") {
      c.dtype = TensorProto::FLOAT;
      c.values.assign(a.floats().begin(), a.floats().end());
      c.dims = {a.floats_size()};
    } else if (a.name() == "value_ints") {
      c.dtype = TensorProto::INT64;
      for (int64_t v : a.ints())
        c.values.push_back(static_cast<double>(v));
      c.dims = {a.ints_size()};
    } else {
      return fail("its " + a.name() + " is not supported");
    }
  }
  define(n, 0, constant(std::move(c)));
  return true;
}

bool Importer::convConstantOfShape(const NodeProto &n) {
  // A constant filled with `value` (float 0 by default): torch.onnx builds
  // F.pad's pads with one.
  std::vector<double> shape;
  if (!constInput(n, 0, "shape", shape))
    return false;
  Const c;
  c.name = n.output(0);
  c.dims = toInts(shape);
  double fill = 0;
  for (const AttributeProto &a : n.attribute()) {
    if (a.name() != "value")
      continue;
    Const v;
    v.dtype = a.t().data_type();
    v.dims.assign(a.t().dims().begin(), a.t().dims().end());
    v.proto = &a.t();
    v.name = c.name;
    std::vector<double> one;
    if (!valuesOf(v, one, "value"))
      return false;
    if (one.size() != 1)
      return fail("its value has " + std::to_string(one.size()) + " elements; ONNX takes one");
    c.dtype = v.dtype;
    fill = one[0];
  }
  int64_t count = 1;
  for (int64_t d : c.dims) {
    if (d < 0 || (d > 0 && count > kMaxConstElements / d))
      return fail("its shape " + formatDims(c.dims) + " is negative or larger than the " +
                  std::to_string(kMaxConstElements) + " elements netc computes in a constant");
    count *= d;
  }
  c.values.assign(static_cast<size_t>(count), fill);
  c.batch.assign(static_cast<size_t>(count), false);
  define(n, 0, constant(std::move(c)));
  return true;
}

/// Input `i` as values, the batch size allowed (marked in `c.batch`).
bool Importer::constInputAllowingBatch(const NodeProto &n, int i, std::vector<double> &out,
                                       Const &c) {
  if (!hasInput(n, i))
    return fail("its shape input is missing");
  const Value &v = in(n, i);
  if (v.kind != Value::Constant)
    return fail("its shape '" + n.input(i) + "' is computed from the network's input; netc "
                "needs it as a constant");
  c = v.c;
  if (!c.proto && !c.atLoad) {
    out = c.values;
    c.batch.resize(out.size(), false);
    return true;
  }
  c.batch.assign(static_cast<size_t>(c.count()), false);
  return valuesOf(c, out, "shape");
}

bool Importer::convShape(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  const Value &x = in(n, 0);
  int64_t rank = static_cast<int64_t>(x.dims.size());
  int64_t start = normalizeAxis(attrInt(n, "start", 0), x.dims.size());
  int64_t end = hasAttr(n, "end") ? normalizeAxis(attrInt(n, "end", rank), x.dims.size()) : rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  Const c;
  c.dtype = TensorProto::INT64;
  c.name = n.output(0);
  for (int64_t i = start; i < end; ++i) {
    c.values.push_back(static_cast<double>(x.dims[i]));
    c.batch.push_back(x.dims[i] == kUnknown);
  }
  c.dims = {static_cast<int64_t>(c.values.size())};
  define(n, 0, constant(std::move(c)));
  return true;
}

bool Importer::convGather(const NodeProto &n) {
  const Value &data = in(n, 0);
  if (data.kind != Value::Constant)
    return fail("it gathers from an activation; netc converts Gather on constants (shapes) "
                "only");
  std::vector<double> values, indices;
  Const c = data.c;
  if (c.dims.size() != 1 || normalizeAxis(attrInt(n, "axis", 0), 1) != 0)
    return fail("netc gathers from constants of rank 1 only");
  if (!c.proto && !c.atLoad)
    values = c.values;
  else if (!valuesOf(c, values, "data"))
    return false;
  Const idx;
  if (!constInput(n, 1, "indices", indices, &idx))
    return false;
  std::vector<bool> batch = c.batch;
  batch.resize(values.size(), false);
  Const out;
  out.dtype = c.dtype;
  out.name = n.output(0);
  out.dims = idx.dims;
  for (double i : indices) {
    int64_t k = static_cast<int64_t>(i);
    if (k < 0)
      k += static_cast<int64_t>(values.size());
    if (k < 0 || k >= static_cast<int64_t>(values.size()))
      return fail("index " + std::to_string(static_cast<int64_t>(i)) + " is out of range");
    out.values.push_back(values[k]);
    out.batch.push_back(batch[k]);
  }
  define(n, 0, constant(std::move(out)));
  return true;
}

bool Importer::axesOf(const NodeProto &n, int inputIndex, std::vector<int64_t> &axes) {
  if (m_.opset < 13) {
    axes = attrInts(n, "axes");
    return true;
  }
  if (!hasInput(n, inputIndex))
    return true;
  std::vector<double> v;
  if (!constInput(n, inputIndex, "axes", v))
    return false;
  axes = toInts(v);
  return true;
}

bool Importer::convUnsqueeze(const NodeProto &n) {
  const Value &x = in(n, 0);
  if (x.kind != Value::Constant)
    return fail("it unsqueezes an activation; netc converts Unsqueeze on constants (shapes) "
                "only");
  std::vector<int64_t> axes;
  if (!axesOf(n, 1, axes))
    return false;
  Const c = x.c;
  size_t rank = c.dims.size() + axes.size();
  for (int64_t &a : axes)
    a = normalizeAxis(a, rank);
  std::sort(axes.begin(), axes.end());
  for (int64_t a : axes) {
    if (a < 0 || a > static_cast<int64_t>(c.dims.size()))
      return fail("axis " + std::to_string(a) + " is out of range");
    c.dims.insert(c.dims.begin() + a, 1);
  }
  c.name = n.output(0);
  define(n, 0, constant(std::move(c)));
  return true;
}

bool Importer::convSqueeze(const NodeProto &n) {
  const Value &x = in(n, 0);
  if (x.kind != Value::Constant)
    return fail("it squeezes an activation; netc converts Squeeze on constants (shapes) only");
  std::vector<int64_t> axes;
  if (!axesOf(n, 1, axes))
    return false;
  Const c = x.c;
  Dims dims;
  for (size_t d = 0; d < c.dims.size(); ++d) {
    bool drop = axes.empty() ? c.dims[d] == 1
                             : std::any_of(axes.begin(), axes.end(), [&](int64_t a) {
                                 return normalizeAxis(a, c.dims.size()) ==
                                        static_cast<int64_t>(d);
                               });
    if (drop && c.dims[d] != 1)
      return fail("it squeezes axis " + std::to_string(d) + " of " + formatDims(c.dims) +
                  ", which is not 1");
    if (!drop)
      dims.push_back(c.dims[d]);
  }
  c.dims = dims;
  c.name = n.output(0);
  define(n, 0, constant(std::move(c)));
  return true;
}

bool Importer::convCast(const NodeProto &n) {
  const Value &x = in(n, 0);
  int64_t to = attrInt(n, "to", TensorProto::FLOAT);
  if (x.kind == Value::Activation) {
    if (to != TensorProto::FLOAT)
      return fail(std::string("it casts the network's activations to ") +
                  dataTypeName(static_cast<int32_t>(to)) + "; netc computes in float32");
    return needActivation(n, 0) && (define(n, 0, x), true);
  }
  Const c = x.c;
  if (c.proto || c.atLoad) {
    std::vector<double> v;
    if (!valuesOf(c, v, "input"))
      return false;
    c.values = v;
    c.batch.assign(v.size(), false);
    c.proto = nullptr;
  }
  bool integer = to != TensorProto::FLOAT && to != TensorProto::DOUBLE &&
                 to != TensorProto::FLOAT16 && to != TensorProto::BFLOAT16;
  if (integer)
    for (double &v : c.values)
      v = std::trunc(v);
  c.dtype = static_cast<int32_t>(to);
  c.name = n.output(0);
  define(n, 0, constant(std::move(c)));
  return true;
}

bool Importer::convPad(const NodeProto &n) {
  std::string mode = attrString(n, "mode", "constant");
  if (mode != "constant")
    return fail("mode '" + mode + "': netc converts Pad with zeros (mode constant)");
  std::vector<int64_t> pads;
  double value = 0;
  if (m_.opset < 11) {
    pads = attrInts(n, "pads");
    value = attrFloat(n, "value", 0.0);
  } else {
    std::vector<double> v;
    if (!constInput(n, 1, "pads", v))
      return false;
    pads = toInts(v);
    if (hasInput(n, 2)) {
      if (!constInput(n, 2, "constant_value", v))
        return false;
      value = v.empty() ? 0.0 : v[0];
    }
    if (hasInput(n, 3))
      return fail("its axes input (opset 18) is not supported");
  }
  if (!needActivation(n, 0))
    return false;
  const Value &x = in(n, 0);
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; })) {
    define(n, 0, x);
    return true;
  }
  if (x.dims.size() != 4 || pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5] ||
      std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; }))
    return fail("pads " + formatDims(pads) + ": netc pads the height and width of NCHW (by "
                "none negative)");
  // The same zeros on both sides of each axis, read by convs and average
  // pools only, become their padding; otherwise a pad layer.
  bool foldable = value == 0 && pads[2] == pads[6] && pads[3] == pads[7];
  for (const NodeProto *reader : readers_[n.output(0)]) {
    bool pool = reader->op_type() == "AveragePool";
    std::vector<int64_t> own = attrInts(*reader, "pads");
    foldable = foldable && (reader->op_type() == "Conv" ||
                            (pool && attrInt(*reader, "ceil_mode", 0) == 0 &&
                             attrString(*reader, "auto_pad", "NOTSET") == "NOTSET" &&
                             std::all_of(own.begin(), own.end(), [](int64_t p) { return !p; })));
  }
  for (const ::onnx::ValueInfoProto &out : graphProto_.output())
    foldable = foldable && out.name() != n.output(0);
  if (!foldable) {
    int64_t sides[4] = {pads[2], pads[3], pads[6], pads[7]};
    define(n, 0, activation(padLayer(n, x.layer, sides, value)));
    return true;
  }
  Value v = x;
  v.pattern = Value::Padded;
  v.patternNode = n.name();
  v.pad[0] = pads[2];
  v.pad[1] = pads[3];
  define(n, 0, v);
  return true;
}

} // namespace netc::onnx::detail
