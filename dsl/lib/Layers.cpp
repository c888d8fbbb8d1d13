//===- Layers.cpp - Primitive layers: parameters, shapes, weights ---------===//
//
// Each primitive mirrors its torch.nn module: the same arguments and defaults,
// the same output-size arithmetic (floor, or ceil mode with PyTorch's rule
// that the last window must start inside the input or left padding), and the
// same state_dict leaves.
//
//===----------------------------------------------------------------------===//
#include "ElaboratorImpl.h"

#include "netc/Support/Shapes.h"

#include <algorithm>
#include <map>

namespace netc::dsl {

namespace {

ParamSpec req(const char *name) { return ParamSpec{name, true, std::nullopt}; }
ParamSpec opt(const char *name, Value v) { return ParamSpec{name, false, std::move(v)}; }
ParamSpec none(const char *name) { return ParamSpec{name, false, std::nullopt}; }
Value I(int64_t v) { return Value::ofInt(v); }
Value F(double v) { return Value::ofFloat(v); }
Value B(bool v) { return Value::ofBool(v); }

const std::map<std::string, std::vector<ParamSpec>> &layerTable() {
  static const std::map<std::string, std::vector<ParamSpec>> table = {
      {"conv", {req("out"), req("k"), opt("stride", I(1)), opt("pad", I(0)),
                opt("dilation", I(1)), opt("groups", I(1)), opt("bias", B(true))}},
      {"linear", {req("out"), opt("bias", B(true)), opt("axis", I(-1))}},
      {"maxpool", {req("k"), none("stride"), opt("pad", I(0)), opt("dilation", I(1)),
                   opt("ceil", B(false))}},
      {"avgpool", {req("k"), none("stride"), opt("pad", I(0)), opt("ceil", B(false)),
                   opt("count_include_pad", B(true))}},
      {"adaptive_avgpool", {req("h"), none("w")}},
      {"bn", {opt("eps", F(1e-5)), opt("momentum", F(0.1)), opt("affine", B(true))}},
      {"relu", {}},
      {"sigmoid", {}},
      {"tanh", {}},
      {"relu6", {}},
      {"hardtanh", {opt("min", F(-1.0)), opt("max", F(1.0))}},
      {"hardswish", {}},
      {"hardsigmoid", {}},
      {"silu", {}},
      {"narrow", {req("start"), req("length"), opt("axis", I(1))}},
      {"chunk", {req("chunks"), req("index"), opt("axis", I(1))}},
      {"channel_shuffle", {req("groups")}},
      {"gelu", {}},
      {"layernorm", {opt("eps", F(1e-5))}},
      {"scale", {}},
      {"identity", {}},
      {"dropout", {opt("p", F(0.5))}},
      {"flatten", {opt("start", I(1))}},
      {"softmax", {opt("axis", I(1))}},
      {"lrn", {req("size"), opt("alpha", F(1e-4)), opt("beta", F(0.75)), opt("k", F(1.0))}},
      {"affine", {req("scale"), req("shift")}},
  };
  return table;
}

} // namespace

int64_t windowOutput(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  return shapes::windowOutput(in, k, s, p, d, ceil);
}

namespace {

/// A graph shape for the shared rules: symbolic sizes are unknown.
shapes::Dims toDims(const Shape &shape) {
  shapes::Dims dims;
  for (const Dim &d : shape)
    dims.push_back(d.known() ? d.value : shapes::kUnknown);
  return dims;
}

/// The rules' result as a graph shape: a size copied from the input keeps
/// its symbol ("N", "H"); other unknown sizes are "?".
Shape fromDims(const shapes::Result &r, const Shape &input) {
  Shape out;
  for (size_t i = 0; i < r.dims.size(); ++i) {
    int from = i < r.from.size() ? r.from[i] : -1;
    if (r.dims[i] != shapes::kUnknown)
      out.push_back(Dim::of(r.dims[i]));
    else if (from >= 0 && static_cast<size_t>(from) < input.size())
      out.push_back(input[static_cast<size_t>(from)]);
    else
      out.push_back(Dim::sym("?"));
  }
  return out;
}

} // namespace

bool Elaborator::isBuiltinLayer(const std::string &name) {
  return layerTable().count(name) != 0;
}

std::vector<std::string> Elaborator::builtinLayerNames() {
  std::vector<std::string> names;
  for (const auto &entry : layerTable())
    names.push_back(entry.first);
  return names;
}

const std::vector<ParamSpec> &Elaborator::builtinParams(const std::string &name) {
  return layerTable().at(name);
}

int Elaborator::addLayer(Layer layer) {
  if (static_cast<int64_t>(graph_.layers.size()) >= options_.limits.maxLayers)
    fail(layer.loc, "the net has more than " + std::to_string(options_.limits.maxLayers) +
                        " layers");
  for (const Weight &w : layer.weights) {
    auto [it, inserted] = keys_.emplace(w.key, layer.loc);
    if (!inserted)
      fail(layer.loc, "duplicate parameter key '" + w.key + "' (first defined at " +
                          it->second.str() + ")");
  }
  graph_.layers.push_back(std::move(layer));
  return static_cast<int>(graph_.layers.size()) - 1;
}

int Elaborator::buildLayer(const std::string &op, const BoundArgs &args, SourceLoc loc,
                           const std::string &path, const std::string &scopePath,
                           int input, bool auxiliary) {
  Layer layer;
  layer.path = path;
  layer.scope = scopePath;
  layer.loc = loc;
  layer.inputs = {input};
  layer.auxiliary = auxiliary;
  LayerAttrs &at = layer.attrs;
  const Shape &in = shapeOf(input);
  std::string who = op + (path.empty() ? std::string() : " '" + path + "'");
  // R4: outside a seq an unlabeled layer has no name, so it cannot own weights.
  if (path.empty() && (op == "conv" || op == "linear" || op == "bn"))
    fail(loc, op + " has weights but no name here: label it (name: " + op +
                  "(...)) or put it inside a seq" +
                  (scopePath.empty() ? "" : " (in '" + scopePath + "')"));
  auto weight = [&](const char *leaf, std::vector<int64_t> shape, DType dtype = DType::F32) {
    layer.weights.push_back(Weight{path + "." + leaf, dtype, std::move(shape), {}});
  };
  // The shape rules live in netc/Support/Shapes.h, shared with the nn
  // dialect's verifiers: a failure is reported at the argument at fault.
  //
  // An auxiliary head (side) is dropped at inference, so the input sizes
  // the network runs at need not suit it (torchvision's Inception v3 runs
  // at 75x75, where its training-only head's 5x5 pool would not fit): where
  // a rule fails there, it is applied again with the spatial sizes unknown,
  // as for a symbolic input, and the head's sizes stay unknown until a
  // layer fixes them (an adaptive pool). Its weights' shapes depend on
  // channels only, so they are still checked against a checkpoint.
  shapes::Dims inDims = toDims(in);
  auto apply = [&](auto rule, auto... rest) {
    shapes::Result r = rule(inDims, rest...);
    if (!r.ok() && auxiliary && inDims.size() == 4) {
      shapes::Dims relaxed = inDims;
      relaxed[2] = relaxed[3] = shapes::kUnknown;
      if (shapes::Result retry = rule(relaxed, rest...); retry.ok())
        r = retry;
    }
    if (!r.ok())
      fail(r.culprit.empty() ? loc : args.locOf(r.culprit), who + ": " + r.error);
    layer.shape = fromDims(r, in);
  };
  auto window = [&] {
    shapes::Window w;
    std::copy(at.kernel, at.kernel + 2, w.kernel);
    std::copy(at.stride, at.stride + 2, w.stride);
    std::copy(at.pad, at.pad + 2, w.pad);
    std::copy(at.dilation, at.dilation + 2, w.dilation);
    w.ceilMode = at.ceilMode;
    return w;
  };

  if (op == "conv") {
    layer.kind = OpKind::Conv2d;
    at.features = argInt(args, "out");
    argPair(args, "k", at.kernel);
    argPair(args, "stride", at.stride);
    argPair(args, "pad", at.pad);
    argPair(args, "dilation", at.dilation);
    at.groups = argInt(args, "groups");
    at.bias = argBool(args, "bias");
    apply(shapes::conv2d, at.features, window(), at.groups);
    weight("weight", shapes::conv2dWeight(inDims, at.features, window(), at.groups));
    if (at.bias)
      weight("bias", {at.features});
  } else if (op == "linear") {
    // axis=1: over the channels of NCHW, PyTorch's Linear on the
    // channels-last tensor (ConvNeXt's Permute, Linear, Permute).
    int64_t axis = argInt(args, "axis");
    if (axis != -1 && axis != 1)
      fail(args.locOf("axis"), "linear: axis is -1 (the last, of [N, features]) or 1 (the "
                               "channels of NCHW), got " + std::to_string(axis));
    layer.kind = axis == 1 ? OpKind::ChannelLinear : OpKind::Linear;
    at.features = argInt(args, "out");
    at.bias = argBool(args, "bias");
    apply(axis == 1 ? shapes::channelLinear : shapes::linear, at.features);
    weight("weight", {at.features, in[1].value});
    if (at.bias)
      weight("bias", {at.features});
  } else if (op == "maxpool" || op == "avgpool") {
    bool isMax = op == "maxpool";
    layer.kind = isMax ? OpKind::MaxPool2d : OpKind::AvgPool2d;
    argPair(args, "k", at.kernel);
    if (args.get("stride"))
      argPair(args, "stride", at.stride);
    else
      std::copy(at.kernel, at.kernel + 2, at.stride);
    argPair(args, "pad", at.pad);
    if (isMax)
      argPair(args, "dilation", at.dilation);
    else
      at.countIncludePad = argBool(args, "count_include_pad");
    at.ceilMode = argBool(args, "ceil");
    apply(shapes::pool2d, window());
  } else if (op == "adaptive_avgpool") {
    layer.kind = OpKind::AdaptiveAvgPool2d;
    if (args.get("w")) {
      at.outSize[0] = argInt(args, "h");
      at.outSize[1] = argInt(args, "w");
    } else {
      argPair(args, "h", at.outSize);
    }
    apply(shapes::adaptivePool2d, at.outSize[0], at.outSize[1]);
  } else if (op == "bn") {
    layer.kind = OpKind::BatchNorm2d;
    at.eps = argFloat(args, "eps");
    argFloat(args, "momentum"); // a training setting; accepted for fidelity
    bool affine = argBool(args, "affine");
    apply(shapes::batchNorm, at.eps);
    int64_t c = in[1].value;
    if (affine) {
      weight("weight", {c});
      weight("bias", {c});
    }
    weight("running_mean", {c});
    weight("running_var", {c});
    weight("num_batches_tracked", {}, DType::I64);
  } else if (op == "dropout") {
    layer.kind = OpKind::Dropout;
    at.p = argFloat(args, "p");
    apply(shapes::dropout, at.p);
  } else if (op == "flatten") {
    layer.kind = OpKind::Flatten;
    at.axis = argInt(args, "start");
    apply(shapes::flatten, at.axis);
  } else if (op == "softmax") {
    layer.kind = OpKind::Softmax;
    at.axis = argInt(args, "axis");
    apply(shapes::softmax, at.axis);
  } else if (op == "lrn") {
    layer.kind = OpKind::LocalResponseNorm;
    at.size = argInt(args, "size");
    at.alpha = argFloat(args, "alpha");
    at.beta = argFloat(args, "beta");
    at.k = argFloat(args, "k");
    apply(shapes::localResponseNorm, at.size);
  } else if (op == "affine") {
    layer.kind = OpKind::ChannelAffine;
    at.scale = argFloats(args, "scale");
    at.shift = argFloats(args, "shift");
    apply(shapes::channelAffine, static_cast<int64_t>(at.scale.size()),
          static_cast<int64_t>(at.shift.size()));
  } else if (op == "narrow" || op == "chunk") {
    // chunk(chunks, index): torch.chunk's index-th piece, each piece
    // ceil(size / chunks) long, the last one what remains.
    layer.kind = OpKind::Narrow;
    at.axis = argInt(args, "axis");
    if (op == "narrow") {
      at.start = argInt(args, "start");
      at.length = argInt(args, "length");
    } else {
      int64_t chunks = argInt(args, "chunks"), index = argInt(args, "index");
      int64_t size = at.axis >= 1 && static_cast<size_t>(at.axis) < in.size() &&
                             in[static_cast<size_t>(at.axis)].known()
                         ? in[static_cast<size_t>(at.axis)].value
                         : 0;
      if (chunks < 1)
        fail(args.locOf("chunks"), "chunk: chunks must be at least 1, got " + std::to_string(chunks));
      int64_t piece = (size + chunks - 1) / chunks;
      if (size > 0 && (index < 0 || index * piece >= size))
        fail(args.locOf("index"), "chunk: index " + std::to_string(index) + " is out of range: " +
                                      std::to_string(size) + " entries in pieces of " +
                                      std::to_string(piece) + " make " +
                                      std::to_string((size + piece - 1) / piece) + " chunks");
      at.start = index * piece;
      at.length = std::min(piece, size - at.start);
    }
    apply(shapes::narrow, at.axis, at.start, at.length);
  } else if (op == "channel_shuffle") {
    layer.kind = OpKind::ChannelShuffle;
    at.groups = argInt(args, "groups");
    apply(shapes::channelShuffle, at.groups);
  } else if (op == "layernorm") {
    layer.kind = OpKind::LayerNorm;
    at.eps = argFloat(args, "eps");
    apply(shapes::layerNorm, at.eps);
    weight("weight", {in[1].value});
    weight("bias", {in[1].value});
  } else if (op == "scale") {
    // A learned per-channel scale, [C, 1, 1], that is its module's own
    // parameter: the key is the label (ConvNeXt's layer_scale).
    layer.kind = OpKind::ChannelScale;
    apply(shapes::channelScale);
    if (path.empty())
      fail(loc, "scale() is a parameter of the enclosing module: label it, as in layer_scale: scale()");
    layer.weights.push_back(Weight{path, DType::F32, {in[1].value, 1, 1}, {}});
  } else if (op == "relu6" || op == "hardtanh") {
    // torch.nn.ReLU6 is Hardtanh(0, 6).
    layer.kind = OpKind::Hardtanh;
    at.minValue = op == "relu6" ? 0.0 : argFloat(args, "min");
    at.maxValue = op == "relu6" ? 6.0 : argFloat(args, "max");
    if (!(at.minValue <= at.maxValue))
      fail(args.locOf("max"), "hardtanh: max (" + formatDouble(at.maxValue) +
                                  ") must not be below min (" + formatDouble(at.minValue) + ")");
    layer.shape = in;
  } else {
    static const std::map<std::string, OpKind> pointwise = {
        {"relu", OpKind::Relu},           {"sigmoid", OpKind::Sigmoid},
        {"tanh", OpKind::Tanh},           {"hardswish", OpKind::Hardswish},
        {"hardsigmoid", OpKind::Hardsigmoid}, {"silu", OpKind::Silu}, {"gelu", OpKind::Gelu},
        {"identity", OpKind::Identity}};
    layer.kind = pointwise.at(op);
    layer.shape = in;
  }

  return addLayer(std::move(layer));
}

int Elaborator::joinBranches(OpKind kind, const std::vector<int> &branches, int64_t axis,
                             SourceLoc loc, const std::string &path, bool auxiliary) {
  const char *what = opName(kind);
  if (branches.size() == 1 && kind != OpKind::Mul)
    return branches[0];
  if (branches.empty())
    fail(loc, std::string(what) + " has no branches");
  Layer layer;
  layer.kind = kind;
  layer.path = path;
  layer.loc = loc;
  layer.inputs = branches;
  layer.auxiliary = auxiliary;
  layer.attrs.axis = axis;
  std::vector<shapes::Dims> operands;
  for (int b : branches)
    operands.push_back(toDims(shapeOf(b)));
  auto rule = [&](const std::vector<shapes::Dims> &dims) {
    return kind == OpKind::Concat ? shapes::concat(dims, axis)
           : kind == OpKind::Mul  ? shapes::mul(dims)
                                  : shapes::add(dims);
  };
  shapes::Result r = rule(operands);
  if (!r.ok() && auxiliary) { // as in buildLayer: sizes a dropped head need not fit
    for (shapes::Dims &d : operands)
      for (size_t i = 2; i < d.size(); ++i)
        d[i] = shapes::kUnknown;
    if (shapes::Result retry = rule(operands); retry.ok())
      r = retry;
  }
  if (!r.ok())
    fail(loc, std::string(what) + ": " + r.error);
  Shape out = fromDims(r, shapeOf(branches[0]));
  layer.shape = out;
  return addLayer(std::move(layer));
}

} // namespace netc::dsl
