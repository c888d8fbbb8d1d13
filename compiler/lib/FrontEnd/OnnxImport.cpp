//===- OnnxImport.cpp - ONNX graphs as netc layer graphs ------------------===//
//
// One conversion per ONNX op (the table in Importer::converters), each
// reading its attributes with the schema's defaults at the model's opset.
// A value of the ONNX graph is either an activation (a layer's output) or a
// constant known here (an initializer, a Constant node, or shape arithmetic
// on them); a constant a layer reads as a weight becomes one of the model's
// weights, keyed by its name in the graph.
//
// Exporters spell some layers as several nodes; the conversions recognize
// what torch.onnx writes and build netc's layer:
//   x * Sigmoid(x)                               SiLU
//   x * HardSigmoid(x)                           Hardswish (opsets before 14)
//   x * 0.5 * (1 + Erf(x / sqrt 2))              GELU
//   Reshape [N,g,C/g,H,W], Transpose, Reshape    channel shuffle
//   Pad with zeros before a Conv or AveragePool  the layer's own padding
// A value inside such a pattern that anything else reads is an error that
// names the pattern's first node.
//
//===----------------------------------------------------------------------===//
#include "OnnxModel.h"

#include "netc/Support/Shapes.h"

#include <onnx/defs/schema.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

namespace netc::onnx {

using ::onnx::AttributeProto;
using ::onnx::NodeProto;
using ::onnx::TensorProto;
using shapes::Dims;
using shapes::kUnknown;

namespace {

/// A value known at compile time.
struct Const {
  int32_t dtype = TensorProto::FLOAT;
  Dims dims;
  const TensorProto *proto = nullptr; // its data, in the file
  bool atLoad = false;                // a graph input read as a weight: no data here
  std::vector<double> values;         // computed here (no proto)
  std::vector<bool> batch;            // computed: the values that are the batch size
  std::string name;                   // its name in the graph: its key as a weight
  bool transposed = false; // a Transpose (perm [1,0]) of the 2-d `proto`, `name` its source
  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : dims)
      n *= d;
    return n;
  }
};

/// A value of the ONNX graph, as the conversions see it.
struct Value {
  enum Kind { Activation, Constant, Failed } kind = Failed;
  int layer = -1; // Activation: the layer computing it
  Dims dims;      // Activation: its shape (the batch kUnknown)
  Const c;        // Constant
  /// An activation inside a multi-node pattern (see the file comment);
  /// `patternNode` began it.
  enum Pattern { None, Padded, Reshaped5d, Shuffled, Erf, ErfPlusOne, XTimesErf } pattern = None;
  std::string patternNode;
  int64_t pad[2] = {0, 0}; // Padded: the zeros added on each side, [height, width]
  int64_t groups = 0;      // Reshaped5d, Shuffled
  int geluInput = -1;      // Erf..XTimesErf: x's layer
  /// An NCHW activation read as NHWC: after a Transpose perm [0,2,3,1], as
  /// ConvNeXt's blocks run LayerNorm and Linear over the channels. The
  /// layers still compute NCHW; `dims` are NCHW.
  bool channelsLast = false;
};

/// A node as errors name it: "node 'Conv_3' (Conv)".
std::string nodeName(const NodeProto &node, int index) {
  return node.name().empty() ? "node #" + std::to_string(index) + " (" + node.op_type() + ")"
                             : "node '" + node.name() + "' (" + node.op_type() + ")";
}

int64_t normalizeAxis(int64_t axis, size_t rank) {
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

bool near(double a, double b) { return std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(b)); }

class Importer {
public:
  Importer(Model::Impl &model, const std::vector<int64_t> &inputShape)
      : m_(model), graphProto_(model.proto.graph()), inputShape_(inputShape) {}

  std::optional<dsl::Graph> run(std::string &error);

private:
  using Converter = bool (Importer::*)(const NodeProto &);
  static const std::map<std::string, Converter> &converters();

  // --- values -------------------------------------------------------------
  bool hasInput(const NodeProto &n, int i) const {
    return i < n.input_size() && !n.input(i).empty();
  }
  Value &in(const NodeProto &n, int i) { return values_[n.input(i)]; }
  void define(const NodeProto &n, int output, Value v) {
    if (output < n.output_size() && !n.output(output).empty())
      values_[n.output(output)] = std::move(v);
  }
  Value activation(int layer, bool channelsLast = false) {
    Value v;
    v.kind = Value::Activation;
    v.layer = layer;
    v.dims = dims_[layer];
    v.channelsLast = channelsLast;
    return v;
  }
  Value constant(Const c) {
    Value v;
    v.kind = Value::Constant;
    v.c = std::move(c);
    return v;
  }

  // --- errors -------------------------------------------------------------
  bool fail(const std::string &message) {
    errors_.push_back(nodeName(*node_, nodeIndex_) + ": " + message);
    return false;
  }
  /// Input `i` must be a plain activation (not a constant, not inside a
  /// pattern); else an error.
  bool needActivation(const NodeProto &n, int i, bool channelsLastToo = false) {
    if (!hasInput(n, i))
      return fail("its input " + std::to_string(i) + " is missing");
    const Value &v = in(n, i);
    if (v.kind == Value::Constant)
      return fail("its input '" + n.input(i) + "' is a constant; netc computes this op on " +
                  "the network's activations only");
    if (v.pattern != Value::None)
      return fail(patternError(v));
    if (v.channelsLast && !channelsLastToo)
      return fail("it reads '" + n.input(i) + "', channels-last (a Transpose perm [0,2,3,1] "
                  "made it); there netc converts LayerNormalization over the channels, "
                  "MatMul by a weight, elementwise ops, and the Transpose back to NCHW");
    return true;
  }
  /// Input 0 as an activation, or a zero Pad a Conv or AveragePool absorbs.
  bool needActivationOrPadded(const NodeProto &n) {
    const Value &v = in(n, 0);
    return (v.kind == Value::Activation && v.pattern == Value::Padded) || needActivation(n, 0);
  }
  std::string patternError(const Value &v) {
    switch (v.pattern) {
    case Value::Padded:
      return "it reads the output of Pad node '" + v.patternNode + "'; netc converts a Pad "
             "(of zeros) only where a Conv or AveragePool reads it";
    case Value::Reshaped5d: case Value::Shuffled:
      return "it reads the output of Reshape node '" + v.patternNode + "'; netc converts a "
             "5-d Reshape only as a channel shuffle (Reshape [N,g,C/g,H,W], Transpose "
             "perm [0,2,1,3,4], Reshape [N,C,H,W])";
    default:
      return "it reads the output of Erf node '" + v.patternNode + "'; netc converts Erf "
             "only inside GELU, x * 0.5 * (1 + erf(x / sqrt(2)))";
    }
  }

  // --- attributes, with the schema's defaults -----------------------------
  const AttributeProto *attr(const NodeProto &n, const std::string &name) {
    for (const AttributeProto &a : n.attribute())
      if (a.name() == name)
        return &a;
    const ::onnx::OpSchema *schema =
        ::onnx::OpSchemaRegistry::Schema(n.op_type(), m_.opset, n.domain());
    if (!schema)
      return nullptr;
    auto it = schema->attributes().find(name);
    if (it == schema->attributes().end() || !it->second.default_value.has_type())
      return nullptr;
    return &it->second.default_value;
  }
  bool hasAttr(const NodeProto &n, const std::string &name) const {
    for (const AttributeProto &a : n.attribute())
      if (a.name() == name)
        return true;
    return false;
  }
  int64_t attrInt(const NodeProto &n, const std::string &name, int64_t fallback) {
    const AttributeProto *a = attr(n, name);
    return a ? a->i() : fallback;
  }
  double attrFloat(const NodeProto &n, const std::string &name, double fallback) {
    const AttributeProto *a = attr(n, name);
    return a ? a->f() : fallback;
  }
  std::string attrString(const NodeProto &n, const std::string &name,
                         const std::string &fallback) {
    const AttributeProto *a = attr(n, name);
    return a ? a->s() : fallback;
  }
  std::vector<int64_t> attrInts(const NodeProto &n, const std::string &name) {
    const AttributeProto *a = attr(n, name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
  }

  // --- constants ----------------------------------------------------------
  /// A constant's values (its data read from the file if need be); false
  /// after an error when they are not known here.
  bool valuesOf(const Const &c, std::vector<double> &out, const std::string &role) {
    if (c.atLoad)
      return fail("its " + role + " '" + c.name + "' is an input of the graph, read from the "
                  "weights file at load; netc needs its value when it compiles");
    if (!c.proto) {
      for (size_t i = 0; i < c.batch.size(); ++i)
        if (c.batch[i])
          return fail("its " + role + " '" + c.name + "' depends on the batch size, which a "
                      "netc library leaves open; netc needs its value when it compiles");
      out = c.values;
      return true;
    }
    std::string error;
    if (!m_.readValues(*c.proto, out, error))
      return fail(error);
    return true;
  }
  /// Input `i` as compile-time values (a constant), or false after an error.
  bool constInput(const NodeProto &n, int i, const std::string &role, std::vector<double> &out,
                  Const *c = nullptr) {
    if (!hasInput(n, i))
      return fail("its " + role + " is missing");
    const Value &v = in(n, i);
    if (v.kind != Value::Constant)
      return fail("its " + role + " '" + n.input(i) + "' is computed from the network's "
                  "input; netc needs it as a constant");
    if (c)
      *c = v.c;
    return valuesOf(v.c, out, role);
  }
  /// Input `i` as a weight of shape `expect` named `leaf` in its layer.
  bool weight(const NodeProto &n, int i, const std::string &leaf, const Dims &expect,
              std::vector<dsl::Weight> &weights) {
    const Value &v = in(n, i);
    if (v.kind != Value::Constant)
      return fail("its " + leaf + " '" + n.input(i) + "' is computed from the network's input; "
                  "netc takes weights as initializers");
    const Const &c = v.c;
    if (!c.proto && !c.atLoad)
      return fail("its " + leaf + " '" + n.input(i) + "' is computed from other constants; "
                  "netc takes weights as the file stores them (export with "
                  "do_constant_folding=True)");
    if (c.dtype != TensorProto::FLOAT)
      return fail("its " + leaf + " '" + c.name + "' is " + dataTypeName(c.dtype) +
                  "; netc's weights are float32");
    if (c.dims != expect)
      return fail("its " + leaf + " '" + c.name + "' has shape " + formatDims(c.dims) +
                  " where " + formatDims(expect) + " fits its input");
    auto used = keyUsers_.find(c.name);
    if (used != keyUsers_.end())
      return fail("its " + leaf + " '" + c.name + "' is read by node '" + used->second +
                  "' too; netc gives each layer weights of its own");
    keyUsers_[c.name] = n.name();
    m_.weightSources[c.name] = {c.proto, false};
    dsl::Weight w;
    w.key = c.name;
    w.dtype = dsl::DType::F32;
    w.shape = c.dims;
    w.leaf = leaf;
    weights.push_back(std::move(w));
    return true;
  }

  // --- layers -------------------------------------------------------------
  int addLayer(dsl::OpKind kind, const NodeProto &n, std::vector<int> inputs,
               const shapes::Result &shape, dsl::LayerAttrs attrs = {},
               std::vector<dsl::Weight> weights = {}) {
    dsl::Layer layer;
    layer.kind = kind;
    layer.path = uniquePath(n, weights);
    layer.inputs = std::move(inputs);
    layer.attrs = std::move(attrs);
    layer.weights = std::move(weights);
    layers_.push_back(std::move(layer));
    dims_.push_back(shape.dims);
    return static_cast<int>(layers_.size()) - 1;
  }
  /// A layer's name: the module path its weights name ("layer1.0.conv1"
  /// for "layer1.0.conv1.weight", as torch.onnx keeps them), else the
  /// node's name; each used once.
  std::string uniquePath(const NodeProto &n, const std::vector<dsl::Weight> &weights) {
    for (const dsl::Weight &w : weights) {
      const std::string suffix = "." + w.leaf;
      if (w.key.size() > suffix.size() && w.key.find("::") == std::string::npos &&
          w.key.compare(w.key.size() - suffix.size(), suffix.size(), suffix) == 0) {
        std::string module = w.key.substr(0, w.key.size() - suffix.size());
        if (paths_.insert(module).second)
          return module;
      }
    }
    std::string base = n.name().empty() ? n.op_type() + "_" + std::to_string(nodeIndex_)
                                        : n.name();
    std::string path = base;
    for (int k = 2; !paths_.insert(path).second; ++k)
      path = base + "#" + std::to_string(k);
    return path;
  }
  /// Output of a unary layer on input 0.
  bool unary(const NodeProto &n, dsl::OpKind kind, dsl::LayerAttrs attrs = {}) {
    if (!needActivation(n, 0, true))
      return false;
    const Value &x = in(n, 0);
    shapes::Result r;
    r.dims = x.dims;
    define(n, 0, activation(addLayer(kind, n, {x.layer}, r, std::move(attrs)), x.channelsLast));
    return true;
  }
  bool shapeOk(const shapes::Result &r) {
    if (!r.ok())
      return fail(r.error);
    return true;
  }

  // --- conversions --------------------------------------------------------
  bool convConv(const NodeProto &n);
  bool convGemm(const NodeProto &n);
  bool convBatchNorm(const NodeProto &n);
  bool convPool(const NodeProto &n);
  bool convGlobalAveragePool(const NodeProto &n);
  bool convReduceMean(const NodeProto &n);
  bool convLrn(const NodeProto &n);
  bool convRelu(const NodeProto &n) { return unary(n, dsl::OpKind::Relu); }
  bool convSigmoid(const NodeProto &n) { return unary(n, dsl::OpKind::Sigmoid); }
  bool convTanh(const NodeProto &n) { return unary(n, dsl::OpKind::Tanh); }
  bool convHardSwish(const NodeProto &n) { return unary(n, dsl::OpKind::Hardswish); }
  bool convHardSigmoid(const NodeProto &n);
  bool convClip(const NodeProto &n);
  bool convBinary(const NodeProto &n);
  bool convErf(const NodeProto &n);
  bool convConcat(const NodeProto &n);
  bool convSplit(const NodeProto &n);
  bool convSlice(const NodeProto &n);
  bool convReshape(const NodeProto &n);
  bool convTranspose(const NodeProto &n);
  bool convLayerNorm(const NodeProto &n);
  bool convMatMul(const NodeProto &n);
  bool convFlatten(const NodeProto &n);
  bool convSoftmax(const NodeProto &n);
  bool convIdentity(const NodeProto &n);
  bool convDropout(const NodeProto &n);
  bool convConstant(const NodeProto &n);
  bool convShape(const NodeProto &n);
  bool convGather(const NodeProto &n);
  bool convUnsqueeze(const NodeProto &n);
  bool convSqueeze(const NodeProto &n);
  bool convCast(const NodeProto &n);
  bool convPad(const NodeProto &n);

  // helpers of the conversions
  bool windowPads(const NodeProto &n, const Dims &input, const int64_t kernel[2],
                  shapes::Window &window, const int64_t extra[2]);
  bool binaryWithConst(const NodeProto &n, const Value &x, const Const &c, bool constFirst);
  bool binaryConsts(const NodeProto &n, const Const &a, const Const &b);
  bool constInputAllowingBatch(const NodeProto &n, int i, std::vector<double> &out, Const &c);
  bool sliceValues(const NodeProto &n, std::vector<int64_t> &starts, std::vector<int64_t> &ends,
                   std::vector<int64_t> &axes, std::vector<int64_t> &steps);
  bool axesOf(const NodeProto &n, int inputIndex, std::vector<int64_t> &axes);

  Model::Impl &m_;
  const ::onnx::GraphProto &graphProto_;
  std::vector<int64_t> inputShape_;
  int64_t fileBatch_ = kUnknown; // the input's batch size in the file, when static
  std::map<std::string, Value> values_;
  std::vector<dsl::Layer> layers_;
  std::vector<Dims> dims_;
  std::set<std::string> paths_;
  std::map<std::string, std::string> keyUsers_; // weight key -> the node reading it
  std::map<std::string, int> uses_;             // value -> how many nodes (and outputs) read it
  std::vector<std::string> errors_;
  /// Unsupported ops: "Op (opset N)" -> the nodes, in order.
  std::map<std::string, std::vector<std::string>> unsupported_;
  const NodeProto *node_ = nullptr; // the node being converted
  int nodeIndex_ = 0;
};

const std::map<std::string, Importer::Converter> &Importer::converters() {
  static const std::map<std::string, Converter> table = {
      {"Conv", &Importer::convConv},
      {"Gemm", &Importer::convGemm},
      {"BatchNormalization", &Importer::convBatchNorm},
      {"MaxPool", &Importer::convPool},
      {"AveragePool", &Importer::convPool},
      {"GlobalAveragePool", &Importer::convGlobalAveragePool},
      {"ReduceMean", &Importer::convReduceMean},
      {"LRN", &Importer::convLrn},
      {"Relu", &Importer::convRelu},
      {"Sigmoid", &Importer::convSigmoid},
      {"Tanh", &Importer::convTanh},
      {"HardSigmoid", &Importer::convHardSigmoid},
      {"HardSwish", &Importer::convHardSwish},
      {"Clip", &Importer::convClip},
      {"Add", &Importer::convBinary},
      {"Sub", &Importer::convBinary},
      {"Mul", &Importer::convBinary},
      {"Div", &Importer::convBinary},
      {"Erf", &Importer::convErf},
      {"Concat", &Importer::convConcat},
      {"Split", &Importer::convSplit},
      {"Slice", &Importer::convSlice},
      {"Reshape", &Importer::convReshape},
      {"Transpose", &Importer::convTranspose},
      {"LayerNormalization", &Importer::convLayerNorm},
      {"MatMul", &Importer::convMatMul},
      {"Flatten", &Importer::convFlatten},
      {"Softmax", &Importer::convSoftmax},
      {"Identity", &Importer::convIdentity},
      {"Dropout", &Importer::convDropout},
      {"Constant", &Importer::convConstant},
      {"Shape", &Importer::convShape},
      {"Gather", &Importer::convGather},
      {"Unsqueeze", &Importer::convUnsqueeze},
      {"Squeeze", &Importer::convSqueeze},
      {"Cast", &Importer::convCast},
      {"Pad", &Importer::convPad},
  };
  return table;
}

//===----------------------------------------------------------------------===//
// The graph
//===----------------------------------------------------------------------===//

std::optional<dsl::Graph> Importer::run(std::string &error) {
  const std::string &file = m_.path;
  // Initializers, then the graph's inputs: the first that is not an
  // initializer is the network's input; any after it are weights whose
  // values come from the weights file (as ONNX's node tests pass them).
  for (const TensorProto &t : graphProto_.initializer()) {
    Const c;
    c.dtype = t.data_type();
    c.dims.assign(t.dims().begin(), t.dims().end());
    c.proto = &t;
    c.name = t.name();
    values_[t.name()] = constant(std::move(c));
  }
  for (const NodeProto &n : graphProto_.node())
    for (const std::string &name : n.input())
      ++uses_[name];
  for (const ::onnx::ValueInfoProto &out : graphProto_.output())
    ++uses_[out.name()];
  const ::onnx::ValueInfoProto *input = nullptr;
  for (const ::onnx::ValueInfoProto &vi : graphProto_.input()) {
    if (m_.initializers.count(vi.name()))
      continue;
    const ::onnx::TypeProto &type = vi.type();
    if (!type.has_tensor_type() || !type.tensor_type().has_shape()) {
      error = file + ": the graph input '" + vi.name() + "' is not a tensor of known rank";
      return std::nullopt;
    }
    if (type.tensor_type().elem_type() != TensorProto::FLOAT) {
      error = file + ": the graph input '" + vi.name() + "' is " +
              dataTypeName(type.tensor_type().elem_type()) + "; netc's networks take float32";
      return std::nullopt;
    }
    const ::onnx::TensorShapeProto &shape = type.tensor_type().shape();
    if (!input) {
      input = &vi;
      continue;
    }
    Const c;
    c.atLoad = true;
    c.name = vi.name();
    for (const auto &d : shape.dim()) {
      if (!d.has_dim_value()) {
        error = file + ": the graph input '" + vi.name() + "' (read as a weight: netc "
                "networks take one input) has a symbolic size; weights need static shapes";
        return std::nullopt;
      }
      c.dims.push_back(d.dim_value());
    }
    values_[vi.name()] = constant(std::move(c));
  }
  if (!input) {
    error = file + ": the graph has no input (every input is an initializer)";
    return std::nullopt;
  }
  // The input's shape: the file's, its symbolic sizes bound by --input-shape.
  const ::onnx::TensorShapeProto &shape = input->type().tensor_type().shape();
  Dims dims;
  std::string symbolic;
  for (int i = 0; i < shape.dim_size(); ++i) {
    const auto &d = shape.dim(i);
    int64_t size = d.has_dim_value() ? d.dim_value() : kUnknown;
    if (i == 0) {
      fileBatch_ = size;
      dims.push_back(kUnknown);
      continue;
    }
    if (!inputShape_.empty() && static_cast<size_t>(i) < inputShape_.size()) {
      if (size != kUnknown && size != inputShape_[i]) {
        error = file + ": --input-shape gives the input '" + input->name() + "' size " +
                std::to_string(inputShape_[i]) + " in dimension " + std::to_string(i) +
                ", but the model fixes it at " + std::to_string(size);
        return std::nullopt;
      }
      size = inputShape_[i];
    }
    if (size == kUnknown)
      symbolic += (symbolic.empty() ? "" : ", ") + std::to_string(i) +
                  (d.dim_param().empty() ? std::string() : " ('" + d.dim_param() + "')");
    dims.push_back(size);
  }
  if (!inputShape_.empty() && inputShape_.size() != dims.size()) {
    error = file + ": --input-shape gives " + std::to_string(inputShape_.size()) +
            " sizes, but the input '" + input->name() + "' has rank " +
            std::to_string(dims.size());
    return std::nullopt;
  }
  if (dims.size() != 2 && dims.size() != 4) {
    error = file + ": the input '" + input->name() + "' has rank " + std::to_string(dims.size()) +
            "; a netc network takes a batch of images [N, C, H, W] or of vectors [N, F]";
    return std::nullopt;
  }
  if (!symbolic.empty()) {
    error = file + ": the input '" + input->name() + "' has symbolic sizes in dimension " +
            symbolic + "; give them with --input-shape, e.g. --input-shape 1,3,224,224 (the "
            "batch stays dynamic)";
    return std::nullopt;
  }
  {
    dsl::Layer layer;
    layer.kind = dsl::OpKind::Input;
    layer.path = input->name();
    paths_.insert(layer.path);
    layers_.push_back(std::move(layer));
    dims_.push_back(dims);
    values_[input->name()] = activation(0);
  }

  // The nodes, in the graph's (topological) order.
  for (int i = 0; i < graphProto_.node_size(); ++i) {
    const NodeProto &n = graphProto_.node(i);
    node_ = &n;
    nodeIndex_ = i;
    bool defaultDomain = n.domain().empty() || n.domain() == "ai.onnx";
    auto it = converters().find(n.op_type());
    auto markFailed = [&] {
      for (const std::string &out : n.output())
        if (!out.empty())
          values_[out] = Value();
    };
    if (!defaultDomain || it == converters().end()) {
      std::string op = n.op_type() + (defaultDomain ? " (opset " + std::to_string(m_.opset) + ")"
                                                    : " (domain " + n.domain() + ")");
      unsupported_[op].push_back(n.name().empty() ? "#" + std::to_string(i) : n.name());
      markFailed();
      continue;
    }
    // Before opset 7 some ops read differently (Add's broadcast attribute,
    // BatchNormalization's is_test): an op is converted at an older opset
    // where its definition is the one opset 7 has.
    if (m_.opset < kMinOpset) {
      const auto *then = ::onnx::OpSchemaRegistry::Schema(n.op_type(), m_.opset, n.domain());
      const auto *at7 = ::onnx::OpSchemaRegistry::Schema(n.op_type(), kMinOpset, n.domain());
      if (then && at7 && then->since_version() != at7->since_version()) {
        errors_.push_back(nodeName(n, i) + ": at opset " + std::to_string(m_.opset) + " " +
                          n.op_type() + " is its opset-" + std::to_string(then->since_version()) +
                          " definition, which netc does not convert (opsets " +
                          std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")");
        markFailed();
        continue;
      }
    }
    bool inputsOk = true;
    for (const std::string &name : n.input()) {
      if (name.empty())
        continue;
      auto v = values_.find(name);
      if (v == values_.end()) {
        errors_.push_back(nodeName(n, i) + ": reads '" + name + "', which nothing defines");
        inputsOk = false;
      } else if (v->second.kind == Value::Failed) {
        inputsOk = false; // its producer's error is reported
      }
    }
    if (!inputsOk || !(this->*(it->second))(n))
      markFailed();
  }

  // The output.
  if (graphProto_.output_size() != 1) {
    errors_.push_back("the graph has " + std::to_string(graphProto_.output_size()) +
                      " outputs; a netc library returns one tensor");
  } else {
    const std::string &name = graphProto_.output(0).name();
    const Value &out = values_[name];
    if (out.kind == Value::Constant)
      errors_.push_back("the graph's output '" + name + "' is a constant");
    else if (out.kind == Value::Activation && out.pattern != Value::None)
      errors_.push_back("the graph's output '" + name + "': " + patternError(out));
    else if (out.kind == Value::Activation && out.channelsLast)
      errors_.push_back("the graph's output '" + name + "' is channels-last (NHWC); a netc "
                        "library returns NCHW");
  }
  if (!unsupported_.empty() || !errors_.empty()) {
    size_t count = 0;
    for (const auto &[op, nodes] : unsupported_)
      count += nodes.size();
    error = file + ": ";
    if (count) {
      error += std::to_string(count) + (count == 1 ? " node uses an op" : " nodes use ops") +
               " netc does not convert:";
      for (const auto &[op, nodes] : unsupported_) {
        error += "\n  " + op + ", " + std::to_string(nodes.size()) +
                 (nodes.size() == 1 ? " node: " : " nodes: ");
        for (size_t k = 0; k < nodes.size() && k < 8; ++k)
          error += (k ? ", '" : "'") + nodes[k] + "'";
        if (nodes.size() > 8)
          error += ", ...";
      }
    }
    if (!errors_.empty()) {
      error += count ? "\nand " : "";
      error += errors_.size() == 1 ? std::string(count ? "1 more problem:"
                                                       : "netc cannot convert it:")
                                   : std::to_string(errors_.size()) + " problems:";
      for (const std::string &e : errors_)
        error += "\n  " + e;
    }
    return std::nullopt;
  }

  // The layers the output reads, in order (what patterns replaced is left).
  int output = values_[graphProto_.output(0).name()].layer;
  bool computes = false;
  for (int i = output; i > 0 && !computes; i = layers_[i].inputs[0])
    computes = layers_[i].kind != dsl::OpKind::Flatten || layers_[i].inputs.size() != 1;
  if (!computes) {
    error = file + ": the graph computes nothing: its output is its input, or a reshape of it";
    return std::nullopt;
  }
  std::vector<bool> live(layers_.size(), false);
  live[output] = true;
  live[0] = true;
  for (int i = output; i >= 0; --i)
    if (live[i])
      for (int j : layers_[i].inputs)
        live[j] = true;
  dsl::Graph graph;
  graph.name = m_.proto.graph().name();
  std::vector<int> index(layers_.size(), -1);
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (!live[i])
      continue;
    dsl::Layer layer = std::move(layers_[i]);
    for (int &j : layer.inputs)
      j = index[j];
    for (size_t d = 0; d < dims_[i].size(); ++d)
      layer.shape.push_back(d == 0 ? dsl::Dim::sym("N") : dsl::Dim::of(dims_[i][d]));
    index[i] = static_cast<int>(graph.layers.size());
    graph.layers.push_back(std::move(layer));
  }
  graph.output = index[output];
  // Weights of layers a pattern replaced are not the model's.
  std::set<std::string> keys;
  for (const dsl::Layer &layer : graph.layers)
    for (const dsl::Weight &w : layer.weights)
      keys.insert(w.key);
  for (auto it = m_.weightSources.begin(); it != m_.weightSources.end();)
    it = keys.count(it->first) ? std::next(it) : m_.weightSources.erase(it);
  return graph;
}

//===----------------------------------------------------------------------===//
// Layers with weights
//===----------------------------------------------------------------------===//

/// The window's padding from pads / auto_pad (plus `extra` zeros a Pad node
/// added), symmetric as netc's layers take it.
bool Importer::windowPads(const NodeProto &n, const Dims &input, const int64_t kernel[2],
                          shapes::Window &window, const int64_t extra[2]) {
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
  if (pads[0] != pads[2] || pads[1] != pads[3])
    return fail("its padding " + formatDims(pads) + " differs at the start and end of an "
                "axis; netc's windows pad both sides alike");
  window.pad[0] = pads[0] + extra[0];
  window.pad[1] = pads[1] + extra[1];
  return true;
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
  if (!windowPads(n, x.dims, kernel, window, x.pad))
    return false;
  int64_t out = w.c.dims[0];
  shapes::Result r = shapes::conv2d(x.dims, out, window, groups);
  if (!shapeOk(r))
    return false;
  std::vector<dsl::Weight> weights;
  if (!weight(n, 1, "weight", shapes::conv2dWeight(x.dims, out, window, groups), weights))
    return false;
  bool bias = hasInput(n, 2);
  if (bias && !weight(n, 2, "bias", {out}, weights))
    return false;
  dsl::LayerAttrs a;
  for (int k = 0; k < 2; ++k) {
    a.kernel[k] = window.kernel[k];
    a.stride[k] = window.stride[k];
    a.pad[k] = window.pad[k];
    a.dilation[k] = window.dilation[k];
  }
  a.groups = groups;
  a.features = out;
  a.bias = bias;
  define(n, 0, activation(addLayer(dsl::OpKind::Conv2d, n, {x.layer}, r, a, weights)));
  return true;
}

bool Importer::convGemm(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  const Value &x = in(n, 0);
  if (attrInt(n, "transA", 0) != 0)
    return fail("transA=1 transposes the batch away; netc's linear layers take [N, K]");
  if (attrInt(n, "transB", 0) != 1)
    return fail("transB=0 takes B as [K, M]; netc converts Gemm with transB=1 (B as [M, K], "
                "torch.nn.Linear's weight, as torch.onnx exports it)");
  if (!near(attrFloat(n, "alpha", 1.0), 1.0) || !near(attrFloat(n, "beta", 1.0), 1.0))
    return fail("alpha and beta must be 1 (netc takes the weights as stored)");
  if (x.dims.size() != 2)
    return fail("its input A has rank " + std::to_string(x.dims.size()) + "; Gemm takes [N, K]");
  const Value &b = in(n, 1);
  if (b.kind != Value::Constant || b.c.dims.size() != 2)
    return fail("its B must be a 2-d initializer [M, K]");
  int64_t out = b.c.dims[0];
  shapes::Result r = shapes::linear(x.dims, out);
  if (!shapeOk(r))
    return false;
  std::vector<dsl::Weight> weights;
  if (!weight(n, 1, "weight", {out, x.dims[1]}, weights))
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
  if (!windowPads(n, x.dims, window.kernel, window, x.pad))
    return false;
  shapes::Result r = shapes::pool2d(x.dims, window);
  if (!shapeOk(r))
    return false;
  dsl::LayerAttrs a;
  for (int k = 0; k < 2; ++k) {
    a.kernel[k] = window.kernel[k];
    a.stride[k] = window.stride[k];
    a.pad[k] = window.pad[k];
    a.dilation[k] = window.dilation[k];
  }
  a.ceilMode = window.ceilMode;
  a.countIncludePad = countIncludePad;
  define(n, 0, activation(addLayer(max ? dsl::OpKind::MaxPool2d : dsl::OpKind::AvgPool2d, n,
                                   {x.layer}, r, a)));
  return true;
}

bool Importer::convGlobalAveragePool(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  const Value &x = in(n, 0);
  shapes::Result r = shapes::adaptivePool2d(x.dims, 1, 1);
  if (!shapeOk(r))
    return false;
  dsl::LayerAttrs a;
  a.outSize[0] = a.outSize[1] = 1;
  define(n, 0, activation(addLayer(dsl::OpKind::AdaptiveAvgPool2d, n, {x.layer}, r, a)));
  return true;
}

bool Importer::convReduceMean(const NodeProto &n) {
  if (!needActivation(n, 0))
    return false;
  const Value &x = in(n, 0);
  std::vector<int64_t> axes = attrInts(n, "axes");
  for (int64_t &a : axes)
    a = normalizeAxis(a, x.dims.size());
  std::sort(axes.begin(), axes.end());
  if (x.dims.size() != 4 || axes != std::vector<int64_t>{2, 3})
    return fail("it averages over axes " + formatDims(attrInts(n, "axes")) + " of a rank-" +
                std::to_string(x.dims.size()) + " tensor; netc converts the spatial mean "
                "(axes [2,3] of NCHW)");
  shapes::Result r = shapes::adaptivePool2d(x.dims, 1, 1);
  if (!shapeOk(r))
    return false;
  dsl::LayerAttrs a;
  a.outSize[0] = a.outSize[1] = 1;
  int pool = addLayer(dsl::OpKind::AdaptiveAvgPool2d, n, {x.layer}, r, a);
  if (attrInt(n, "keepdims", 1) != 0) {
    define(n, 0, activation(pool));
    return true;
  }
  shapes::Result flat = shapes::flatten(r.dims, 1);
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
  define(n, 0, activation(addLayer(dsl::OpKind::Softmax, n, {x.layer}, r, a)));
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
      e.geluInput = div.inputs[0];
      define(n, 0, e);
      return true;
    }
  }
  return fail("netc converts Erf only inside GELU, x * 0.5 * (1 + erf(x / sqrt(2)))");
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

bool Importer::convBinary(const NodeProto &n) {
  const std::string &op = n.op_type();
  Value &a = in(n, 0), &b = in(n, 1);
  if (a.kind == Value::Constant && b.kind == Value::Constant)
    return binaryConsts(n, a.c, b.c);
  // GELU, step by step: erf + 1, x * that, then * 0.5 (either order).
  auto gelu = [&](Value &p, Value &q) -> std::optional<bool> {
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
      if (l.kind == dsl::OpKind::ChannelAffine && l.inputs[0] == p.geluInput) {
        half = true;
        for (size_t c = 0; c < l.attrs.scale.size(); ++c)
          half = half && near(l.attrs.scale[c], 0.5) && l.attrs.shift[c] == 0;
        x = l.inputs[0];
      }
      if (x == p.geluInput) {
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
        r.dims = dims_[p.geluInput];
        define(n, 0, activation(addLayer(dsl::OpKind::Gelu, n, {p.geluInput}, r),
                                p.channelsLast));
        return true;
      }
    }
    return std::nullopt;
  };
  if (std::optional<bool> done = gelu(a, b))
    return *done;
  if (std::optional<bool> done = gelu(b, a))
    return *done;
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
  Const ca = a, cb = b;
  // The batch size is not known: values derived from it stay marked.
  auto load = [&](const Const &c, std::vector<double> &out, std::vector<bool> &batch) {
    if (!c.proto && !c.atLoad) {
      out = c.values;
      batch = c.batch;
      batch.resize(out.size(), false);
      return true;
    }
    batch.assign(static_cast<size_t>(c.count()), false);
    return valuesOf(c, out, "operand");
  };
  std::vector<bool> bx, by;
  if (!load(a, x, bx) || !load(b, y, by))
    return false;
  if (x.size() != y.size() && x.size() != 1 && y.size() != 1)
    return fail("its constant operands " + formatDims(a.dims) + " and " + formatDims(b.dims) +
                " do not broadcast (netc computes constants of one shape, or with a scalar)");
  Const out;
  out.dtype = a.dtype;
  out.dims = x.size() >= y.size() ? a.dims : b.dims;
  out.name = n.output(0);
  size_t count = std::max(x.size(), y.size());
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
      std::vector<bool> batch = c.batch;
      if (!c.proto && !c.atLoad) {
        v = c.values;
      } else if (!valuesOf(c, v, "input")) {
        return false;
      }
      batch.resize(v.size(), false);
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
      sizes.assign(v.begin(), v.end());
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
    out.assign(v.begin(), v.end());
    return true;
  };
  return ints(1, "starts", starts) && ints(2, "ends", ends) && ints(3, "axes", axes) &&
         ints(4, "steps", steps);
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
  steps.resize(starts.size(), 1);
  const Value &v = in(n, 0);
  if (v.kind == Value::Constant) {
    const Const &c = v.c;
    if (c.dims.size() != 1 || axes.size() != 1 || normalizeAxis(axes[0], 1) != 0 || steps[0] != 1)
      return fail("netc slices constants of rank 1 with step 1 only");
    std::vector<double> values;
    std::vector<bool> batch = c.batch;
    if (!c.proto && !c.atLoad)
      values = c.values;
    else if (!valuesOf(c, values, "input"))
      return false;
    batch.resize(values.size(), false);
    int64_t size = static_cast<int64_t>(values.size());
    int64_t s = std::clamp(starts[0] < 0 ? starts[0] + size : starts[0], int64_t(0), size);
    int64_t e = std::clamp(ends[0] < 0 ? ends[0] + size : ends[0], int64_t(0), size);
    Const out;
    out.dtype = c.dtype;
    out.name = n.output(0);
    for (int64_t i = s; i < e; ++i) {
      out.values.push_back(values[i]);
      out.batch.push_back(batch[i]);
    }
    out.dims = {static_cast<int64_t>(out.values.size())};
    define(n, 0, constant(std::move(out)));
    return true;
  }
  if (!needActivation(n, 0))
    return false;
  // On an activation: one axis narrowed, with step 1.
  int64_t axis = -1, start = 0, length = 0;
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = normalizeAxis(axes[k], v.dims.size());
    if (a < 0 || a >= static_cast<int64_t>(v.dims.size()))
      return fail("axis " + std::to_string(axes[k]) + " is out of range");
    int64_t size = v.dims[a];
    int64_t s = std::clamp(starts[k] < 0 ? starts[k] + size : starts[k], int64_t(0), size);
    int64_t e = std::clamp(ends[k] < 0 ? ends[k] + size : ends[k], int64_t(0), size);
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
    c.dims.assign(shape.begin(), shape.end());
    int64_t known = 1, unknownAt = -1;
    for (size_t i = 0; i < c.dims.size(); ++i) {
      if (c.dims[i] == 0)
        c.dims[i] = x.c.dims.at(i);
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
    int64_t t = static_cast<int64_t>(target[i]);
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
  for (size_t i = 1; i < to.size(); ++i)
    if (static_cast<int64_t>(i) != inferAt)
      known *= to[i];
  if (inferAt > 0)
    to[inferAt] = known ? perSample / known : 0;
  int64_t product = 1;
  for (size_t i = 1; i < to.size(); ++i)
    product *= to[i];
  if (product != perSample)
    return fail("it reshapes " + shapes::format(x.dims) + " to " + shapes::format(to) +
                ", which holds a different number of values");
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
  bool overChannels = x.channelsLast ? axis == 3 : x.dims.size() == 2 && axis == 1;
  if (!overChannels)
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
  if (c.dtype != TensorProto::FLOAT)
    return fail("its B '" + c.name + "' is " + dataTypeName(c.dtype) + "; netc's weights are "
                "float32");
  // The layer's weight is [M, K], torch.nn.Linear's: the Transpose's source
  // as it is, or B [K, M] written transposed (by --export-weights).
  if (keyUsers_.count(c.name))
    return fail("its B '" + c.name + "' is read by node '" + keyUsers_[c.name] + "' too; netc "
                "gives each layer weights of its own");
  keyUsers_[c.name] = n.name();
  m_.weightSources[c.name] = {c.proto, !c.transposed};
  std::vector<dsl::Weight> weights{dsl::Weight{c.name, dsl::DType::F32, {out, features},
                                               "weight"}};
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
  axes.assign(v.begin(), v.end());
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
    pads.assign(v.begin(), v.end());
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
  if (value != 0)
    return fail("it pads with " + std::to_string(value) + "; netc folds Pad with zeros only");
  if (x.dims.size() != 4 || pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5] ||
      pads[2] != pads[6] || pads[3] != pads[7] || pads[2] < 0 || pads[3] < 0)
    return fail("pads " + formatDims(pads) + ": netc folds a Pad that adds the same zeros "
                "above and below, and left and right, of NCHW into the Conv or AveragePool "
                "after it");
  Value v = x;
  v.pattern = Value::Padded;
  v.patternNode = n.name();
  v.pad[0] = pads[2];
  v.pad[1] = pads[3];
  define(n, 0, v);
  return true;
}

} // namespace

std::optional<dsl::Graph> Model::import(const std::vector<int64_t> &inputShape,
                                        std::string &error) {
  impl_->weightSources.clear();
  std::optional<dsl::Graph> graph = Importer(*impl_, inputShape).run(error);
  if (graph && !impl_->inferShapes(error))
    return std::nullopt;
  return graph;
}

} // namespace netc::onnx
