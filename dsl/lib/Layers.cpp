//===- Layers.cpp - Primitive layers: parameters, shapes, weights ---------===//
//
// Each primitive mirrors its torch.nn module: the same arguments and defaults,
// the same output-size arithmetic (floor, or ceil mode with PyTorch's rule
// that the last window must start inside the input or left padding), and the
// same state_dict leaves.
//
//===----------------------------------------------------------------------===//
#include "ElaboratorImpl.h"

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
      {"linear", {req("out"), opt("bias", B(true))}},
      {"maxpool", {req("k"), none("stride"), opt("pad", I(0)), opt("dilation", I(1)),
                   opt("ceil", B(false))}},
      {"avgpool", {req("k"), none("stride"), opt("pad", I(0)), opt("ceil", B(false)),
                   opt("count_include_pad", B(true))}},
      {"adaptive_avgpool", {req("h"), none("w")}},
      {"bn", {opt("eps", F(1e-5)), opt("momentum", F(0.1)), opt("affine", B(true))}},
      {"relu", {}},
      {"sigmoid", {}},
      {"tanh", {}},
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
  auto inputIs = [&](size_t rank, const char *layout) {
    if (in.size() != rank)
      fail(loc, who + " expects a " + std::to_string(rank) + "-d " + layout +
                    " input, got " + formatShape(in) +
                    (op == "linear" && in.size() == 4 ? "; add flatten(1) before it" : ""));
  };
  auto channels = [&](const char *what) -> int64_t {
    if (in.size() < 2)
      fail(loc, who + " needs a channel dimension, got input " + formatShape(in));
    if (!in[1].known())
      fail(loc, who + ": the input's " + what + " count is symbolic ('" + in[1].symbol +
                    "'); it must be known to size the weights");
    return in[1].value;
  };
  auto positive = [&](const char *name, const int64_t v[2], int64_t min) {
    if (v[0] < min || v[1] < min)
      fail(args.locOf(name), who + ": " + name + " must be at least " +
                                 std::to_string(min) + ", got " +
                                 (v[0] == v[1] ? std::to_string(v[0])
                                               : "(" + std::to_string(v[0]) + ", " +
                                                     std::to_string(v[1]) + ")"));
  };
  auto weight = [&](const char *leaf, std::vector<int64_t> shape, DType dtype = DType::F32) {
    layer.weights.push_back(Weight{path + "." + leaf, dtype, std::move(shape)});
  };
  /// Spatial output of a windowed op; shrinking below 1 is an error.
  auto spatial = [&](const char *kind) {
    Shape out = {in[0], in[1], Dim{}, Dim{}};
    for (int axis = 0; axis < 2; ++axis) {
      const Dim &d = in[2 + axis];
      if (!d.known()) {
        out[2 + axis] = Dim::sym("?");
        continue;
      }
      int64_t o = windowOutput(d.value, at.kernel[axis], at.stride[axis], at.pad[axis],
                               at.dilation[axis], at.ceilMode);
      if (o < 1)
        fail(loc, who + ": input " + (axis ? "width " : "height ") +
                      std::to_string(d.value) + " is too small for " + kind + " " +
                      std::to_string(at.kernel[axis]) +
                      (at.dilation[axis] > 1 ? " (dilation " + std::to_string(at.dilation[axis]) + ")" : "") +
                      " with padding " + std::to_string(at.pad[axis]) +
                      "; the output would be empty");
      out[2 + axis] = Dim::of(o);
    }
    return out;
  };

  if (op == "conv") {
    layer.kind = OpKind::Conv2d;
    inputIs(4, "NCHW");
    int64_t cin = channels("channel");
    at.features = argInt(args, "out");
    argPair(args, "k", at.kernel);
    argPair(args, "stride", at.stride);
    argPair(args, "pad", at.pad);
    argPair(args, "dilation", at.dilation);
    at.groups = argInt(args, "groups");
    at.bias = argBool(args, "bias");
    if (at.features < 1)
      fail(args.locOf("out"), who + ": output channels must be at least 1, got " +
                                  std::to_string(at.features));
    positive("k", at.kernel, 1);
    positive("stride", at.stride, 1);
    positive("pad", at.pad, 0);
    positive("dilation", at.dilation, 1);
    if (at.groups < 1)
      fail(args.locOf("groups"), who + ": groups must be at least 1, got " +
                                     std::to_string(at.groups));
    if (cin % at.groups != 0)
      fail(args.locOf("groups"), who + ": input has " + std::to_string(cin) +
                                     " channels, groups=" + std::to_string(at.groups) +
                                     " does not divide it");
    if (at.features % at.groups != 0)
      fail(args.locOf("groups"), who + ": " + std::to_string(at.features) +
                                     " output channels, groups=" + std::to_string(at.groups) +
                                     " does not divide them");
    layer.shape = spatial("kernel");
    layer.shape[1] = Dim::of(at.features);
    weight("weight", {at.features, cin / at.groups, at.kernel[0], at.kernel[1]});
    if (at.bias)
      weight("bias", {at.features});
  } else if (op == "linear") {
    layer.kind = OpKind::Linear;
    inputIs(2, "[N, features]");
    int64_t fin = channels("feature");
    at.features = argInt(args, "out");
    at.bias = argBool(args, "bias");
    if (at.features < 1)
      fail(args.locOf("out"), who + ": output features must be at least 1, got " +
                                  std::to_string(at.features));
    layer.shape = {in[0], Dim::of(at.features)};
    weight("weight", {at.features, fin});
    if (at.bias)
      weight("bias", {at.features});
  } else if (op == "maxpool" || op == "avgpool") {
    bool isMax = op == "maxpool";
    layer.kind = isMax ? OpKind::MaxPool2d : OpKind::AvgPool2d;
    inputIs(4, "NCHW");
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
    positive("k", at.kernel, 1);
    positive("stride", at.stride, 1);
    positive("pad", at.pad, 0);
    positive("dilation", at.dilation, 1);
    for (int axis = 0; axis < 2; ++axis)
      if (at.pad[axis] * 2 > at.kernel[axis])
        fail(args.locOf("pad"), who + ": pad " + std::to_string(at.pad[axis]) +
                                    " is more than half the kernel " +
                                    std::to_string(at.kernel[axis]));
    layer.shape = spatial("window");
  } else if (op == "adaptive_avgpool") {
    layer.kind = OpKind::AdaptiveAvgPool2d;
    inputIs(4, "NCHW");
    if (args.get("w")) {
      at.outSize[0] = argInt(args, "h");
      at.outSize[1] = argInt(args, "w");
    } else {
      argPair(args, "h", at.outSize);
    }
    positive("h", at.outSize, 1);
    layer.shape = {in[0], in[1], Dim::of(at.outSize[0]), Dim::of(at.outSize[1])};
  } else if (op == "bn") {
    layer.kind = OpKind::BatchNorm2d;
    inputIs(4, "NCHW");
    int64_t c = channels("channel");
    at.eps = argFloat(args, "eps");
    argFloat(args, "momentum"); // a training setting; accepted for fidelity
    bool affine = argBool(args, "affine");
    if (!(at.eps > 0))
      fail(args.locOf("eps"), who + ": eps must be positive, got " + formatDouble(at.eps));
    layer.shape = in;
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
    if (at.p < 0 || at.p > 1)
      fail(args.locOf("p"), who + ": p must be between 0 and 1, got " + formatDouble(at.p));
    layer.shape = in;
  } else if (op == "flatten") {
    layer.kind = OpKind::Flatten;
    at.axis = argInt(args, "start");
    int64_t rank = static_cast<int64_t>(in.size());
    if (at.axis < 0 || at.axis >= rank)
      fail(args.locOf("start"), who + ": start " + std::to_string(at.axis) +
                                    " is out of range for input " + formatShape(in));
    layer.shape.assign(in.begin(), in.begin() + at.axis);
    Dim product = Dim::of(1);
    for (int64_t i = at.axis; i < rank; ++i) {
      if (!in[i].known()) {
        product = Dim::sym("?");
        break;
      }
      if (__builtin_mul_overflow(product.value, in[i].value, &product.value))
        fail(loc, who + ": flattened size overflows");
    }
    layer.shape.push_back(product);
  } else if (op == "softmax") {
    layer.kind = OpKind::Softmax;
    at.axis = argInt(args, "axis");
    if (at.axis < 0 || at.axis >= static_cast<int64_t>(in.size()))
      fail(args.locOf("axis"), who + ": axis " + std::to_string(at.axis) +
                                   " is out of range for input " + formatShape(in));
    layer.shape = in;
  } else if (op == "lrn") {
    layer.kind = OpKind::LocalResponseNorm;
    inputIs(4, "NCHW");
    at.size = argInt(args, "size");
    at.alpha = argFloat(args, "alpha");
    at.beta = argFloat(args, "beta");
    at.k = argFloat(args, "k");
    if (at.size < 1)
      fail(args.locOf("size"), who + ": size must be at least 1, got " +
                                   std::to_string(at.size));
    layer.shape = in;
  } else if (op == "affine") {
    layer.kind = OpKind::ChannelAffine;
    int64_t c = channels("channel");
    at.scale = argFloats(args, "scale");
    at.shift = argFloats(args, "shift");
    if (static_cast<int64_t>(at.scale.size()) != c || static_cast<int64_t>(at.shift.size()) != c)
      fail(loc, who + ": scale and shift need one value per channel (" + std::to_string(c) +
                    "), got " + std::to_string(at.scale.size()) + " and " +
                    std::to_string(at.shift.size()));
    layer.shape = in;
  } else {
    static const std::map<std::string, OpKind> pointwise = {
        {"relu", OpKind::Relu}, {"sigmoid", OpKind::Sigmoid},
        {"tanh", OpKind::Tanh}, {"identity", OpKind::Identity}};
    layer.kind = pointwise.at(op);
    layer.shape = in;
  }

  return addLayer(std::move(layer));
}

int Elaborator::joinBranches(OpKind kind, const std::vector<int> &branches, int64_t axis,
                             SourceLoc loc, const std::string &path, bool auxiliary) {
  const char *what = kind == OpKind::Add ? "add" : "cat";
  if (branches.size() == 1)
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
  Shape out = shapeOf(branches[0]);
  if (kind == OpKind::Concat && (axis < 0 || axis >= static_cast<int64_t>(out.size())))
    fail(loc, "cat: axis " + std::to_string(axis) + " is out of range for branch shape " +
                  formatShape(out));
  for (size_t b = 1; b < branches.size(); ++b) {
    const Shape &s = shapeOf(branches[b]);
    bool compatible = s.size() == out.size();
    for (size_t i = 0; compatible && i < s.size(); ++i) {
      if (kind == OpKind::Concat && static_cast<int64_t>(i) == axis)
        continue;
      if (s[i].known() && out[i].known() && s[i].value != out[i].value)
        compatible = false;
      if (s[i].known() != out[i].known() && s[i].symbol != "?" && out[i].symbol != "?")
        compatible = false;
    }
    if (!compatible)
      fail(loc, std::string(what) + ": branch " + std::to_string(b) + " has shape " +
                    formatShape(s) + " but branch 0 has " + formatShape(shapeOf(branches[0])) +
                    (kind == OpKind::Concat ? " (they may differ only along axis " +
                                                  std::to_string(axis) + ")"
                                            : ""));
    if (kind == OpKind::Concat) {
      Dim &d = out[static_cast<size_t>(axis)];
      if (d.known() && s[static_cast<size_t>(axis)].known()) {
        if (__builtin_add_overflow(d.value, s[static_cast<size_t>(axis)].value, &d.value))
          fail(loc, "cat: concatenated size overflows");
      } else
        d = Dim::sym("?");
    }
  }
  layer.shape = out;
  return addLayer(std::move(layer));
}

} // namespace netc::dsl
