//===- OnnxImporter.h - The ONNX conversions' shared state ------*- C++ -*-===//
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
//   Transpose to NHWC, LayerNormalization,       ConvNeXt's layer norm and
//   MatMul, Add, Transpose back                  channel linear
//   d = x - ReduceMean(x), d / Sqrt(ReduceMean(  layer norm over the channels
//   Pow(d, 2)) + eps) * weight + bias            (LayerNormalization before
//                                                opset 17)
// A value inside such a pattern that anything else reads is an error that
// names the pattern's first node.
//
// The importer's state and helpers are here; OnnxImport.cpp walks the graph
// (the op table, the inputs, the output, the layers the output reads) and
// OnnxConvert.cpp holds the conversions.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_FRONTEND_ONNXIMPORTER_H
#define NETC_FRONTEND_ONNXIMPORTER_H

#include "OnnxModel.h"

#include "netc/Support/Shapes.h"

#include <onnx/defs/schema.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace netc::onnx::detail {

using ::onnx::AttributeProto;
using ::onnx::NodeProto;
using ::onnx::TensorProto;
using shapes::Dims;
using shapes::kUnknown;

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
  enum Pattern {
    None, Padded, Reshaped5d, Shuffled,
    Erf, ErfPlusOne, XTimesErf,                 // GELU
    NormMean, NormCentered, NormSquared,        // layer norm, step by step
    NormVariance, NormVarianceEps, NormDeviation, Normalized, NormScaled
  } pattern = None;
  std::string patternNode;
  int64_t pad[2] = {0, 0}; // Padded: the zeros added on each side, [height, width]
  int64_t groups = 0;      // Reshaped5d, Shuffled
  int patternInput = -1;   // Erf..XTimesErf, NormMean..NormScaled: x's layer
  double eps = 0;          // NormVarianceEps..NormScaled
  std::vector<dsl::Weight> normWeights; // NormScaled: the layer norm's weight
  /// An NCHW activation read as NHWC: after a Transpose perm [0,2,3,1], as
  /// ConvNeXt's blocks run LayerNorm and Linear over the channels. The
  /// layers still compute NCHW; `dims` are NCHW.
  bool channelsLast = false;
};

/// A node as errors name it: "node 'Conv_3' (Conv)".
inline std::string nodeName(const NodeProto &node, int index) {
  return node.name().empty() ? "node #" + std::to_string(index) + " (" + node.op_type() + ")"
                             : "node '" + node.name() + "' (" + node.op_type() + ")";
}

inline int64_t normalizeAxis(int64_t axis, size_t rank) {
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

/// The layer norm as exporters spell it before LayerNormalization (opset 17).
inline const char *const kLayerNormSpelling =
    "d = x - ReduceMean(x), d / Sqrt(ReduceMean(Pow(d, 2)) + eps) * weight + bias";

/// A constant's value as an index or a size, saturated to int64's range:
/// exporters write INT64_MAX for "to the end", which a double rounds past it.
inline int64_t toInt(double v) {
  if (std::isnan(v))
    return 0;
  if (v >= 9.2233720368547758e18)
    return std::numeric_limits<int64_t>::max();
  if (v <= -9.2233720368547758e18)
    return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}
inline std::vector<int64_t> toInts(const std::vector<double> &values) {
  std::vector<int64_t> out;
  out.reserve(values.size());
  for (double v : values)
    out.push_back(toInt(v));
  return out;
}

inline bool near(double a, double b) { return std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(b)); }

class Importer {
public:
  Importer(Model::Impl &model, const std::vector<int64_t> &inputShape)
      : m_(model), graphProto_(model.proto.graph()), inputShape_(inputShape) {}

  std::optional<dsl::Graph> run(std::string &error);

private:
  using Converter = bool (Importer::*)(const NodeProto &);
  static const std::map<std::string, Converter> &converters();
  std::string legacyNeeds(const NodeProto &n);

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
    case Value::Erf: case Value::ErfPlusOne: case Value::XTimesErf:
      return "it reads the output of Erf node '" + v.patternNode + "'; netc converts Erf "
             "only inside GELU, x * 0.5 * (1 + erf(x / sqrt(2)))";
    default:
      return "it reads a step of the layer norm that ReduceMean node '" + v.patternNode +
             "' begins; netc converts a mean over the channels only inside a layer norm, " +
             kLayerNormSpelling;
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
  /// A constant computed here holds as many values as its shape says (a
  /// malformed graph, e.g. a Squeeze of a dimension that is not 1, could
  /// make it otherwise); else an error.
  bool consistent(const Const &c) {
    if (static_cast<int64_t>(c.values.size()) == c.count())
      return true;
    return fail("its constant '" + c.name + "' holds " + std::to_string(c.values.size()) +
                " values for its shape " + formatDims(c.dims));
  }
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
      if (!consistent(c))
        return false;
      out = c.values;
      return true;
    }
    std::string error;
    if (!m_.readValues(*c.proto, out, error))
      return fail(error);
    return true;
  }
  /// A constant's values with their batch marks (shape arithmetic keeps
  /// the batch size open); false after an error when they are not known.
  bool constValues(const Const &c, std::vector<double> &out, std::vector<bool> &batch,
                   const std::string &role) {
    if (!c.proto && !c.atLoad) {
      if (!consistent(c))
        return false;
      out = c.values;
      batch = c.batch;
    } else if (!valuesOf(c, out, role)) {
      return false;
    } else {
      batch.clear();
    }
    batch.resize(out.size(), false);
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
  /// Input `i` as a weight of shape `expect` named `leaf` in its layer. The
  /// tensor may be stored with leading 1s (a bias [1, M]), which the weight
  /// drops; where the graph reads it `transposed` (Gemm's or MatMul's B
  /// [K, M] for a linear layer's [M, K]), --export-weights writes it
  /// transposed, unless it is a Transpose node's source, read as it is.
  bool weight(const NodeProto &n, int i, const std::string &leaf, const Dims &expect,
              std::vector<dsl::Weight> &weights, bool transposed = false) {
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
    // The data as stored (a Transpose node's source), as the layer reads them.
    Dims stored = c.dims;
    if (c.transposed)
      std::swap(stored[0], stored[1]);
    bool transpose = transposed != c.transposed;
    Dims read = stored;
    if (transpose)
      std::swap(read[0], read[1]);
    Dims squeezed(std::find_if(read.begin(), read.end(), [](int64_t d) { return d != 1; }),
                  read.end());
    if (read != expect && squeezed != expect)
      return fail("its " + leaf + " '" + c.name + "' has shape " + formatDims(c.dims) +
                  " where " + formatDims(expect) + " fits its input");
    // A graph input comes from the weights file as it is stored.
    if (c.atLoad && (transpose || stored != expect))
      return fail("its " + leaf + " '" + c.name + "' is an input of the graph, which the "
                  "weights file gives as the graph declares it, " + formatDims(c.dims) +
                  "; netc's layer reads " + formatDims(expect) +
                  (transpose ? " (transposed)" : "") + ": make it an initializer");
    auto used = keyUsers_.find(c.name);
    if (used != keyUsers_.end())
      return fail("its " + leaf + " '" + c.name + "' is read by node '" + used->second +
                  "' too; netc gives each layer weights of its own");
    keyUsers_[c.name] = n.name();
    m_.weightSources[c.name] = {c.proto, transpose};
    dsl::Weight w;
    w.key = c.name;
    w.dtype = dsl::DType::F32;
    w.shape = expect;
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
  bool convLeakyRelu(const NodeProto &n) {
    dsl::LayerAttrs a;
    a.slope = attrFloat(n, "alpha", 0.01);
    return unary(n, dsl::OpKind::LeakyRelu, a);
  }
  bool convHardSwish(const NodeProto &n) { return unary(n, dsl::OpKind::Hardswish); }
  bool convHardSigmoid(const NodeProto &n);
  bool convClip(const NodeProto &n);
  bool convBinary(const NodeProto &n);
  bool convErf(const NodeProto &n);
  bool convPow(const NodeProto &n);
  bool convSqrt(const NodeProto &n);
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
  bool convConstantOfShape(const NodeProto &n);

  // helpers of the conversions
  bool windowPads(const NodeProto &n, const Dims &input, const int64_t kernel[2],
                  shapes::Window &window, const int64_t extra[2], int64_t uneven[4]);
  int padLayer(const NodeProto &n, int input, const int64_t pads[4], double value);
  int spatialMean(const NodeProto &n, const Value &x);
  std::optional<bool> geluStep(const NodeProto &n, const Value &p, const Value &q);
  std::optional<bool> layerNormStep(const NodeProto &n, const Value &p, const Value &q);
  bool overChannels(const Value &x, int64_t axis) const {
    return x.channelsLast ? axis == 3 : x.dims.size() == 2 && axis == 1;
  }
  bool binaryWithConst(const NodeProto &n, const Value &x, const Const &c, bool constFirst);
  bool binaryConsts(const NodeProto &n, const Const &a, const Const &b);
  bool constInputAllowingBatch(const NodeProto &n, int i, std::vector<double> &out, Const &c);
  bool sliceConst(const NodeProto &n, const Const &c, const std::vector<int64_t> &starts,
                  const std::vector<int64_t> &ends, const std::vector<int64_t> &axes,
                  const std::vector<int64_t> &steps);
  bool transposeConst(const NodeProto &n, const Const &c, std::vector<int64_t> perm);
  bool stridedConst(const NodeProto &n, const Const &c, const Dims &out,
                    const std::vector<int64_t> &axisOf, const std::vector<int64_t> &begin,
                    const std::vector<int64_t> &step);
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
  std::map<std::string, std::vector<const NodeProto *>> readers_; // value -> the nodes reading it
  std::vector<std::string> errors_;
  /// Unsupported ops: "Op (opset N)" -> the nodes, in order.
  std::map<std::string, std::vector<std::string>> unsupported_;
  const NodeProto *node_ = nullptr; // the node being converted
  int nodeIndex_ = 0;
};

} // namespace netc::onnx::detail

#endif // NETC_FRONTEND_ONNXIMPORTER_H
