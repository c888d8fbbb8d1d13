//===- Value.cpp - Values and the elaborated graph's printing helpers -----===//
#include "netc/dsl/Value.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>

namespace netc::dsl {

std::string formatDouble(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v < 0 ? "-inf" : "inf";
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v)
      break;
  }
  std::string text = buf;
  // Keep a float looking like a float: 1.0, not 1.
  if (text.find_first_of(".en") == std::string::npos)
    text += ".0";
  return text;
}

std::string typeName(const Value &v) {
  switch (v.kind) {
  case Value::Kind::Int: return "int";
  case Value::Kind::Float: return "float";
  case Value::Kind::Bool: return "bool";
  case Value::Kind::String: return "string";
  case Value::Kind::List: return "list";
  case Value::Kind::Tuple: return "tuple";
  case Value::Kind::Map: return "map";
  case Value::Kind::Tensor: return "tensor";
  case Value::Kind::Callable:
    switch (v.callable->kind) {
    case Callable::Kind::Builtin: return "layer";
    case Callable::Kind::Block:
      return v.callable->decl->kind == Decl::Kind::Inline ? "inline block" : "block";
    case Callable::Kind::Net: return "net";
    case Callable::Kind::Function: return "function";
    }
  }
  return "value";
}

std::string render(const Value &v) {
  switch (v.kind) {
  case Value::Kind::Int: return std::to_string(v.i);
  case Value::Kind::Float: return formatDouble(v.f);
  case Value::Kind::Bool: return v.b ? "true" : "false";
  case Value::Kind::String: {
    std::string out = "'";
    for (char c : v.s) {
      if (c == '\'' || c == '\\')
        out += '\\';
      if (c == '\n') { out += "\\n"; continue; }
      if (c == '\t') { out += "\\t"; continue; }
      out += c;
    }
    return out + "'";
  }
  case Value::Kind::List:
  case Value::Kind::Tuple: {
    bool list = v.kind == Value::Kind::List;
    std::string out = list ? "[" : "(";
    for (size_t i = 0; i < v.items->size(); ++i) {
      if (i)
        out += ", ";
      out += render((*v.items)[i]);
    }
    if (!list && v.items->size() == 1)
      out += ",";
    return out + (list ? "]" : ")");
  }
  case Value::Kind::Map: {
    std::string out = "{";
    bool first = true;
    for (const auto &[key, value] : *v.map) {
      if (!first)
        out += ", ";
      first = false;
      out += render(key) + ": " + render(value);
    }
    return out + "}";
  }
  case Value::Kind::Callable: return v.callable->name;
  case Value::Kind::Tensor: return "tensor" + formatShape(*v.shape);
  }
  return "?";
}

bool equals(const Value &a, const Value &b) {
  if (a.isNumber() && b.isNumber()) {
    if (a.kind == Value::Kind::Int && b.kind == Value::Kind::Int)
      return a.i == b.i;
    return a.number() == b.number();
  }
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
  case Value::Kind::Bool: return a.b == b.b;
  case Value::Kind::String: return a.s == b.s;
  case Value::Kind::List:
  case Value::Kind::Tuple:
    if (a.items->size() != b.items->size())
      return false;
    for (size_t i = 0; i < a.items->size(); ++i)
      if (!equals((*a.items)[i], (*b.items)[i]))
        return false;
    return true;
  case Value::Kind::Map:
    if (a.map->size() != b.map->size())
      return false;
    for (size_t i = 0; i < a.map->size(); ++i)
      if (!equals((*a.map)[i].first, (*b.map)[i].first) ||
          !equals((*a.map)[i].second, (*b.map)[i].second))
        return false;
    return true;
  case Value::Kind::Callable:
    return a.callable->name == b.callable->name && a.callable->decl == b.callable->decl;
  case Value::Kind::Tensor: return *a.shape == *b.shape;
  default: return false;
  }
}

//===----------------------------------------------------------------------===//
// Graph helpers
//===----------------------------------------------------------------------===//

std::string formatShape(const Shape &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ",";
    out += shape[i].known() ? std::to_string(shape[i].value) : shape[i].symbol;
  }
  return out + "]";
}

const char *opName(OpKind kind) {
  switch (kind) {
  case OpKind::Input: return "input";
  case OpKind::Conv2d: return "conv";
  case OpKind::Linear: return "linear";
  case OpKind::MaxPool2d: return "maxpool";
  case OpKind::AvgPool2d: return "avgpool";
  case OpKind::AdaptiveAvgPool2d: return "adaptive_avgpool";
  case OpKind::BatchNorm2d: return "bn";
  case OpKind::Relu: return "relu";
  case OpKind::Sigmoid: return "sigmoid";
  case OpKind::Tanh: return "tanh";
  case OpKind::Hardtanh: return "hardtanh";
  case OpKind::Hardswish: return "hardswish";
  case OpKind::Hardsigmoid: return "hardsigmoid";
  case OpKind::Silu: return "silu";
  case OpKind::Dropout: return "dropout";
  case OpKind::Flatten: return "flatten";
  case OpKind::Softmax: return "softmax";
  case OpKind::LogSoftmax: return "log_softmax";
  case OpKind::LeakyRelu: return "leaky_relu";
  case OpKind::Pad: return "pad";
  case OpKind::LocalResponseNorm: return "lrn";
  case OpKind::ChannelAffine: return "affine";
  case OpKind::Add: return "add";
  case OpKind::Mul: return "mul";
  case OpKind::Concat: return "cat";
  case OpKind::Narrow: return "narrow";
  case OpKind::Gelu: return "gelu";
  case OpKind::LayerNorm: return "layernorm";
  case OpKind::ChannelLinear: return "linear";
  case OpKind::ChannelScale: return "scale";
  case OpKind::ChannelShuffle: return "channel_shuffle";
  case OpKind::Identity: return "identity";
  }
  return "?";
}

const char *dtypeName(DType dtype) {
  return dtype == DType::F32 ? "float32" : "int64";
}

std::vector<const Weight *> Graph::weights() const {
  // PyTorch's state_dict order: depth first through the modules in the
  // order they first appear, each module's own parameters before its
  // submodules'. A parameter's module is its key less the leaf.
  // Definition order already is this order except where a module holds a
  // parameter of its own next to submodules (ConvNeXt's layer_scale).
  struct Module {
    std::vector<const Weight *> own;
    std::vector<std::string> children; // in first-appearance order
  };
  std::map<std::string, Module> modules;
  auto parentOf = [](const std::string &path) {
    size_t dot = path.rfind('.');
    return dot == std::string::npos ? std::string() : path.substr(0, dot);
  };
  // Registers `path` and its ancestors, each under its parent once.
  std::function<void(const std::string &)> enter = [&](const std::string &path) {
    if (modules.count(path))
      return;
    modules[path];
    if (path.empty())
      return;
    std::string parent = parentOf(path);
    enter(parent);
    modules[parent].children.push_back(path);
  };
  for (const Layer &layer : layers)
    for (const Weight &w : layer.weights) {
      std::string module = parentOf(w.key);
      enter(module);
      modules[module].own.push_back(&w);
    }
  std::vector<const Weight *> out;
  std::function<void(const std::string &)> walk = [&](const std::string &path) {
    const Module &m = modules[path];
    out.insert(out.end(), m.own.begin(), m.own.end());
    for (const std::string &child : m.children)
      walk(child);
  };
  walk("");
  return out;
}

std::vector<std::string> Graph::displayNames() const {
  std::vector<std::string> names;
  std::map<std::string, int> count, seen;
  for (const Layer &layer : layers) {
    names.push_back(layer.path.empty()
                        ? (layer.scope.empty() ? "" : layer.scope + "/") + opName(layer.kind)
                        : layer.path);
    ++count[names.back()];
  }
  for (std::string &name : names)
    if (count[name] > 1)
      name += "#" + std::to_string(++seen[name]);
  return names;
}

} // namespace netc::dsl
