//===- OnnxImport.cpp - ONNX graphs as netc layer graphs ------------------===//
//
// The walk over an ONNX graph: the inputs (the network's, and weights read
// from the weights file), every node through its op's conversion (the table
// below; OnnxConvert.cpp), every problem gathered and reported at once, and
// the layers the output reads, in order. OnnxImporter.h says what the
// conversions recognize.
//
//===----------------------------------------------------------------------===//
#include "OnnxImporter.h"

namespace netc::onnx {
namespace detail {

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
      {"LeakyRelu", &Importer::convLeakyRelu},
      {"HardSigmoid", &Importer::convHardSigmoid},
      {"HardSwish", &Importer::convHardSwish},
      {"Clip", &Importer::convClip},
      {"Add", &Importer::convBinary},
      {"Sub", &Importer::convBinary},
      {"Mul", &Importer::convBinary},
      {"Div", &Importer::convBinary},
      {"Erf", &Importer::convErf},
      {"Pow", &Importer::convPow},
      {"Sqrt", &Importer::convSqrt},
      {"Concat", &Importer::convConcat},
      {"Split", &Importer::convSplit},
      {"Slice", &Importer::convSlice},
      {"Reshape", &Importer::convReshape},
      {"Transpose", &Importer::convTranspose},
      {"LayerNormalization", &Importer::convLayerNorm},
      {"MatMul", &Importer::convMatMul},
      {"Flatten", &Importer::convFlatten},
      {"Softmax", &Importer::convSoftmax},
      {"LogSoftmax", &Importer::convSoftmax},
      {"Identity", &Importer::convIdentity},
      {"Dropout", &Importer::convDropout},
      {"Constant", &Importer::convConstant},
      {"ConstantOfShape", &Importer::convConstantOfShape},
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

/// Where an op's definition before opset 7 reads for node `n` as the one
/// opset 7 has: empty; else what netc needs of the node (opset 7 removed
/// the attributes these conditions name, and added count_include_pad to
/// AveragePool with the old behaviour as its default).
std::string Importer::legacyNeeds(const NodeProto &n) {
  const std::string &op = n.op_type();
  if (op == "AveragePool")
    return "";
  if (op == "BatchNormalization" || op == "Dropout")
    return attrInt(n, "is_test", 0) != 0 ? "" : "in test mode only (is_test 1)";
  if (op == "Gemm")
    return attrInt(n, "broadcast", 0) != 0 || !hasInput(n, 2)
               ? ""
               : "with its C broadcast only (broadcast 1)";
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div")
    return !hasAttr(n, "axis") ? ""
                               : "broadcasting from the last axis only (no axis attribute)";
  return "in no form";
}

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
    for (const std::string &name : n.input()) {
      ++uses_[name];
      readers_[name].push_back(&n);
    }
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
    // where its definition is the one opset 7 has, or reads as it for this
    // node (legacyNeeds).
    if (m_.opset < kMinOpset) {
      const auto *then = ::onnx::OpSchemaRegistry::Schema(n.op_type(), m_.opset, n.domain());
      const auto *at7 = ::onnx::OpSchemaRegistry::Schema(n.op_type(), kMinOpset, n.domain());
      std::string needs = then && at7 && then->since_version() != at7->since_version()
                              ? legacyNeeds(n)
                              : "";
      if (!needs.empty()) {
        errors_.push_back(nodeName(n, i) + ": at opset " + std::to_string(m_.opset) + " " +
                          n.op_type() + " is its opset-" + std::to_string(then->since_version()) +
                          " definition, which netc converts " + needs + " (opsets " +
                          std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) +
                          " otherwise)");
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

} // namespace detail

std::optional<dsl::Graph> Model::import(const std::vector<int64_t> &inputShape,
                                        std::string &error) {
  impl_->weightSources.clear();
  std::optional<dsl::Graph> graph = detail::Importer(*impl_, inputShape).run(error);
  if (graph && !impl_->inferShapes(error))
    return std::nullopt;
  return graph;
}

} // namespace netc::onnx
