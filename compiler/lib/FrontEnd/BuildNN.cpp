//===- BuildNN.cpp - From an elaborated graph to the nn dialect -----------===//
#include "netc/FrontEnd/BuildNN.h"

#include "netc/Dialect/NN/NNDialect.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

#include <map>

namespace netc {

using namespace mlir;
using dsl::Layer;
using dsl::OpKind;

void loadNetcDialects(MLIRContext &context) {
  context.getOrLoadDialect<nn::NNDialect>();
  context.getOrLoadDialect<StandardOpsDialect>();
}

namespace {

class Builder {
public:
  Builder(const dsl::Graph &graph, MLIRContext &context)
      : graph_(graph), context_(context), b_(&context) {}

  OwningOpRef<ModuleOp> build(const std::string &name, std::string &error) {
    const Layer &input = graph_.layers[0];
    for (size_t i = 1; i < input.shape.size(); ++i)
      if (!input.shape[i].known()) {
        error = "the input's dimension " + std::to_string(i) + " is symbolic ('" +
                input.shape[i].symbol + "'); give its size with --input-shape, e.g. "
                "--input-shape 1,3,224,224 (the batch stays dynamic)";
        return nullptr;
      }
    // Arguments: the input, then the weights the inference path reads.
    llvm::SmallVector<Type> argTypes = {tensorType(input.shape)};
    llvm::SmallVector<const dsl::Weight *> weights;
    for (size_t i = 1; i < graph_.layers.size(); ++i) {
      const Layer &layer = graph_.layers[i];
      if (layer.auxiliary)
        continue;
      for (const dsl::Weight &w : layer.weights) {
        if (w.dtype != dsl::DType::F32)
          continue; // num_batches_tracked: training bookkeeping
        weights.push_back(&w);
        argTypes.push_back(RankedTensorType::get(w.shape, b_.getF32Type()));
      }
    }
    const Layer &output = graph_.layers[graph_.output];
    Type resultType = tensorType(output.shape);
    auto module = ModuleOp::create(locationOf(input));
    auto func = FuncOp::create(locationOf(input), name,
                               b_.getFunctionType(argTypes, {resultType}));
    module.push_back(func);
    Block *entry = func.addEntryBlock();
    func->setAttr(nn::kWeightsAttr, manifest());
    func.setArgAttr(0, nn::kInputAttr, b_.getStringAttr(input.path));
    for (size_t i = 0; i < weights.size(); ++i) {
      func.setArgAttr(i + 1, nn::kKeyAttr, b_.getStringAttr(weights[i]->key));
      weightArgs_[weights[i]->key] = func.getArgument(i + 1);
    }
    b_.setInsertionPointToStart(entry);
    values_[0] = func.getArgument(0);
    for (size_t i = 1; i < graph_.layers.size(); ++i) {
      const Layer &layer = graph_.layers[i];
      if (layer.auxiliary)
        continue;
      Value v = emit(layer, error);
      if (!v)
        return nullptr;
      values_[static_cast<int>(i)] = v;
    }
    b_.create<ReturnOp>(locationOf(output), values_.at(graph_.output));
    if (failed(verify(module))) {
      error = "internal error: the nn module built from the spec does not verify";
      return nullptr;
    }
    return module;
  }

private:
  /// Every tensor a checkpoint holds, in state_dict order, as the function's
  /// nn.weights attribute: the back end checks weights files against it.
  ArrayAttr manifest() {
    llvm::SmallVector<Attribute> entries;
    for (const dsl::Weight *w : graph_.weights())
      entries.push_back(nn::manifestEntry(b_, w->key, w->dtype == dsl::DType::F32 ? "F32" : "I64",
                                          w->shape));
    return b_.getArrayAttr(entries);
  }

  /// Tensor type of a graph shape; the batch (dimension 0) is always dynamic.
  RankedTensorType tensorType(const dsl::Shape &shape) {
    llvm::SmallVector<int64_t> dims;
    for (size_t i = 0; i < shape.size(); ++i)
      dims.push_back(i == 0 || !shape[i].known() ? ShapedType::kDynamicSize : shape[i].value);
    return RankedTensorType::get(dims, b_.getF32Type());
  }

  Location locationOf(const Layer &layer) {
    Location loc = layer.loc.valid()
                       ? Location(FileLineColLoc::get(&context_, layer.loc.file->name(),
                                                      layer.loc.line, layer.loc.col))
                       : Location(UnknownLoc::get(&context_));
    if (!layer.path.empty())
      loc = NameLoc::get(b_.getStringAttr(layer.path), loc);
    return loc;
  }

  /// The layer's weight of role `leaf`: a spec's is keyed PATH.LEAF, an
  /// imported model's names its role.
  Value weight(const Layer &layer, const char *leaf) {
    for (const dsl::Weight &w : layer.weights)
      if (w.leaf.empty() ? w.key == layer.path + "." + leaf : w.leaf == leaf)
        return weightArgs_.at(w.key);
    return Value();
  }

  ArrayAttr pair(const int64_t v[2]) { return b_.getI64ArrayAttr({v[0], v[1]}); }

  Value emit(const Layer &layer, std::string &error) {
    Location loc = locationOf(layer);
    Type type = tensorType(layer.shape);
    Value in = values_.at(layer.inputs[0]);
    const dsl::LayerAttrs &a = layer.attrs;
    switch (layer.kind) {
    case OpKind::Conv2d:
      return b_.create<nn::Conv2dOp>(loc, type, in, weight(layer, "weight"),
                                     weight(layer, "bias"), pair(a.stride), pair(a.pad),
                                     pair(a.dilation), b_.getI64IntegerAttr(a.groups));
    case OpKind::Linear:
      return b_.create<nn::LinearOp>(loc, type, in, weight(layer, "weight"),
                                     weight(layer, "bias"));
    case OpKind::ChannelLinear:
      return b_.create<nn::ChannelLinearOp>(loc, type, in, weight(layer, "weight"),
                                            weight(layer, "bias"));
    case OpKind::LayerNorm:
      return b_.create<nn::LayerNormOp>(loc, type, in, weight(layer, "weight"),
                                        weight(layer, "bias"), b_.getF64FloatAttr(a.eps));
    case OpKind::ChannelScale:
      return b_.create<nn::ChannelScaleOp>(loc, type, in, weightArgs_.at(layer.weights[0].key));
    case OpKind::Gelu:
      return b_.create<nn::GeluOp>(loc, type, in);
    case OpKind::BatchNorm2d: {
      Value gamma = weight(layer, "weight"), beta = weight(layer, "bias");
      if (!gamma || !beta) {
        error = "bn(affine=false) is not supported by the code generator yet ('" + layer.path +
                "' at " + layer.loc.str() + ")";
        return nullptr;
      }
      return b_.create<nn::BatchNormOp>(loc, type, in, gamma, beta,
                                        weight(layer, "running_mean"),
                                        weight(layer, "running_var"), b_.getF64FloatAttr(a.eps));
    }
    case OpKind::MaxPool2d:
      return b_.create<nn::MaxPool2dOp>(loc, type, in, pair(a.kernel), pair(a.stride),
                                        pair(a.pad), pair(a.dilation),
                                        b_.getBoolAttr(a.ceilMode));
    case OpKind::AvgPool2d:
      return b_.create<nn::AvgPool2dOp>(loc, type, in, pair(a.kernel), pair(a.stride),
                                        pair(a.pad), b_.getBoolAttr(a.ceilMode),
                                        b_.getBoolAttr(a.countIncludePad));
    case OpKind::AdaptiveAvgPool2d:
      return b_.create<nn::AdaptiveAvgPool2dOp>(loc, type, in, pair(a.outSize));
    case OpKind::Relu:
      return b_.create<nn::ReluOp>(loc, type, in);
    case OpKind::Sigmoid:
      return b_.create<nn::SigmoidOp>(loc, type, in);
    case OpKind::Tanh:
      return b_.create<nn::TanhOp>(loc, type, in);
    case OpKind::Hardtanh:
      return b_.create<nn::HardtanhOp>(loc, type, in, b_.getF64FloatAttr(a.minValue),
                                       b_.getF64FloatAttr(a.maxValue));
    case OpKind::Hardswish:
      return b_.create<nn::HardswishOp>(loc, type, in);
    case OpKind::Hardsigmoid:
      return b_.create<nn::HardsigmoidOp>(loc, type, in);
    case OpKind::Silu:
      return b_.create<nn::SiluOp>(loc, type, in);
    case OpKind::Narrow:
      return b_.create<nn::NarrowOp>(loc, type, in, b_.getI64IntegerAttr(a.axis),
                                     b_.getI64IntegerAttr(a.start), b_.getI64IntegerAttr(a.length));
    case OpKind::ChannelShuffle:
      return b_.create<nn::ChannelShuffleOp>(loc, type, in, b_.getI64IntegerAttr(a.groups));
    case OpKind::Dropout:
      return b_.create<nn::DropoutOp>(loc, type, in, b_.getF64FloatAttr(a.p));
    case OpKind::Flatten:
      return b_.create<nn::FlattenOp>(loc, type, in, b_.getI64IntegerAttr(a.axis));
    case OpKind::Softmax:
    case OpKind::LogSoftmax:
      return b_.create<nn::SoftmaxOp>(loc, type, in, b_.getI64IntegerAttr(a.axis),
                                      b_.getBoolAttr(layer.kind == OpKind::LogSoftmax));
    case OpKind::Pad:
      return b_.create<nn::PadOp>(loc, type, in,
                                  b_.getI64ArrayAttr({a.pads[0], a.pads[1], a.pads[2], a.pads[3]}),
                                  b_.getF64FloatAttr(a.padValue));
    case OpKind::LeakyRelu:
      return b_.create<nn::LeakyReluOp>(loc, type, in, b_.getF64FloatAttr(a.slope));
    case OpKind::LocalResponseNorm:
      return b_.create<nn::LocalResponseNormOp>(loc, type, in, b_.getI64IntegerAttr(a.size),
                                                b_.getF64FloatAttr(a.alpha),
                                                b_.getF64FloatAttr(a.beta),
                                                b_.getF64FloatAttr(a.k));
    case OpKind::ChannelAffine:
      return b_.create<nn::ChannelAffineOp>(loc, type, in, b_.getF64ArrayAttr(a.scale),
                                            b_.getF64ArrayAttr(a.shift));
    case OpKind::Identity:
      return in;
    case OpKind::Add:
    case OpKind::Mul:
    case OpKind::Concat: {
      llvm::SmallVector<Value> inputs;
      for (int i : layer.inputs)
        inputs.push_back(values_.at(i));
      if (layer.kind == OpKind::Mul)
        return b_.create<nn::MulOp>(loc, type, inputs[0], inputs[1]);
      if (layer.kind == OpKind::Add)
        return b_.create<nn::AddOp>(loc, type, inputs);
      return b_.create<nn::ConcatOp>(loc, type, inputs, b_.getI64IntegerAttr(a.axis));
    }
    case OpKind::Input:
      break;
    }
    error = "internal error: unexpected layer kind";
    return nullptr;
  }

  const dsl::Graph &graph_;
  MLIRContext &context_;
  OpBuilder b_;
  std::map<int, Value> values_;
  std::map<std::string, Value> weightArgs_;
};

} // namespace

OwningOpRef<ModuleOp> buildNNModule(const dsl::Graph &graph, const std::string &name,
                                    MLIRContext &context, std::string &error) {
  loadNetcDialects(context);
  return Builder(graph, context).build(name, error);
}

} // namespace netc
