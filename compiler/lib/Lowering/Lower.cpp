//===- Lower.cpp - From the nn function to a Program of Halide pipelines ---===//
//
// Groups: an anchor op (conv, linear, pool, ...) plus the activations that
// only it feeds. Flatten and dropout move no data: their result aliases
// their input's memory. Groups with equal signatures share one pipeline.
//
//===----------------------------------------------------------------------===//
#include "netc/Lowering/Program.h"

#include "Emit.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>

namespace netc::lowering {

using namespace Halide;

int64_t Tensor::perSample() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i)
    n *= shape[i];
  return n;
}

std::vector<Argument> Group::arguments() const {
  std::vector<Argument> args;
  for (const ImageParam &p : inputs)
    args.push_back(p);
  for (const ImageParam &p : weights)
    args.push_back(p);
  return args;
}

namespace {

std::vector<int64_t> shapeOf(mlir::Value v) {
  llvm::ArrayRef<int64_t> s = v.getType().cast<mlir::RankedTensorType>().getShape();
  std::vector<int64_t> out(s.begin(), s.end());
  if (!out.empty())
    out[0] = 1; // the batch; plans are per batch item
  return out;
}

bool isActivation(mlir::Operation *op) {
  return mlir::isa<nn::ReluOp, nn::SigmoidOp, nn::TanhOp>(op);
}

/// Ops that move no data.
bool isView(mlir::Operation *op) { return mlir::isa<nn::FlattenOp, nn::DropoutOp>(op); }

/// An ImageParam over a tensor of this NCHW / NF shape: static sizes, the
/// batch (last Halide dimension) free.
ImageParam makeParam(const std::vector<int64_t> &shape, const std::string &name, bool batched) {
  int rank = static_cast<int>(shape.size());
  ImageParam p(Float(32), rank, name);
  for (int d = 0; d < rank; ++d) {
    int64_t size = shape[static_cast<size_t>(rank - 1 - d)];
    if (batched && d == rank - 1)
      p.dim(d).set_min(0);
    else
      p.dim(d).set_bounds(0, static_cast<int>(size));
  }
  return p;
}

std::string signatureOf(const std::vector<mlir::Operation *> &ops, const std::string &target) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << target;
  for (mlir::Operation *op : ops) {
    os << "|" << op->getName() << " " << op->getAttrDictionary();
    for (mlir::Type t : op->getOperandTypes())
      os << " " << t;
  }
  return os.str();
}

class Lowerer {
public:
  Lowerer(const LowerOptions &options, Program &program) : options_(options), p_(program) {}

  bool run(mlir::FuncOp func) {
    if (!validate(func))
      return false;
    p_.name = func.getName().str();
    vectorWidth_ = options_.target.natural_vector_size(Float(32));
    auto manifest = func->getAttrOfType<mlir::ArrayAttr>(nn::kWeightsAttr);
    if (!manifest) {
      func.emitError() << "the function has no '" << nn::kWeightsAttr
                       << "' attribute (the checkpoint manifest)";
      return false;
    }
    for (mlir::Attribute entry : manifest) {
      CheckpointEntry e;
      if (!nn::readManifestEntry(entry, e.key, e.dtype, e.shape)) {
        func.emitError() << "a malformed '" << nn::kWeightsAttr << "' entry: " << entry;
        return false;
      }
      p_.checkpoint.push_back(std::move(e));
    }
    // Arguments: the input, then weights with their keys.
    p_.input = newTensor(Tensor::Kind::Input, shapeOf(func.getArgument(0)));
    tensors_[func.getArgument(0).getAsOpaquePointer()] = p_.input;
    for (unsigned i = 1; i < func.getNumArguments(); ++i) {
      auto key = func.getArgAttrOfType<mlir::StringAttr>(i, nn::kKeyAttr);
      if (!key) {
        func.emitError() << "argument " << i << " is neither the input nor a weight with '"
                         << nn::kKeyAttr << "'";
        return false;
      }
      llvm::ArrayRef<int64_t> s =
          func.getArgument(i).getType().cast<mlir::RankedTensorType>().getShape();
      weightIndex_[func.getArgument(i).getAsOpaquePointer()] = static_cast<int>(p_.weights.size());
      p_.weights.push_back(Weight{key.getValue().str(), {s.begin(), s.end()}});
    }
    mlir::Value result;
    func.walk([&](mlir::ReturnOp ret) { result = ret.getOperand(0); });

    for (mlir::Operation &opRef : func.getBody().front()) {
      mlir::Operation *op = &opRef;
      if (mlir::isa<mlir::ReturnOp>(op) || absorbed_.count(op))
        continue;
      if (isView(op)) {
        int base = tensorOf(op->getOperand(0));
        int t = newTensor(Tensor::Kind::Alias, shapeOf(op->getResult(0)));
        p_.tensors[t].aliasOf = base;
        tensors_[op->getResult(0).getAsOpaquePointer()] = t;
        continue;
      }
      std::vector<mlir::Operation *> chain = {op};
      mlir::Value out = op->getResult(0);
      while (out != result && out.hasOneUse() && isActivation(*out.getUsers().begin())) {
        chain.push_back(*out.getUsers().begin());
        absorbed_.insert(chain.back());
        out = chain.back()->getResult(0);
      }
      if (!emitStep(chain))
        return false;
    }
    p_.output = tensorOf(result);
    // A view (flatten) shares its owner's memory and layout, so the owner is
    // written straight into the caller's output buffer.
    int owner = p_.output;
    while (p_.tensors[owner].kind == Tensor::Kind::Alias)
      owner = p_.tensors[owner].aliasOf;
    if (p_.tensors[owner].kind != Tensor::Kind::Arena) {
      func.emitError() << "the network's output is its input (or a view of it): nothing to "
                          "compute";
      return false;
    }
    p_.tensors[owner].kind = Tensor::Kind::Output;
    planMemory(p_);
    return true;
  }

private:
  /// What the lowering relies on, checked on IR that may be hand-written:
  /// a body, the input first, every tensor ranked and static but for the
  /// batch, one returned value, and weights (arguments with nn.key) only in
  /// the operand slots that take weights.
  bool validate(mlir::FuncOp func) {
    if (func.isExternal() || func.getNumArguments() < 1) {
      func.emitError() << "the function needs a body and the network input as argument 0";
      return false;
    }
    std::set<const void *> weightArgs;
    for (unsigned i = 1; i < func.getNumArguments(); ++i)
      weightArgs.insert(func.getArgument(i).getAsOpaquePointer());
    if (func.getArgAttr(0, nn::kKeyAttr)) {
      func.emitError() << "argument 0 is the network input; it cannot carry '" << nn::kKeyAttr
                       << "'";
      return false;
    }
    auto checkType = [&](mlir::Value v, mlir::Location loc, bool batched) {
      auto type = v.getType().dyn_cast<mlir::RankedTensorType>();
      bool ok = type && type.getElementType().isF32();
      for (int64_t d = 0; ok && d < (type ? type.getRank() : 0); ++d)
        ok = (batched && d == 0) || !type.isDynamicDim(d);
      if (!ok)
        mlir::emitError(loc) << "the code generator needs float32 tensors with static sizes "
                                "(only the batch, dimension 0, may be ?), got "
                             << v.getType();
      return ok;
    };
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (!checkType(func.getArgument(i), func.getLoc(), i == 0))
        return false;
    bool ok = true;
    func.walk([&](mlir::Operation *op) {
      if (!ok || op == func.getOperation())
        return;
      for (mlir::Value r : op->getResults())
        ok = ok && checkType(r, op->getLoc(), true);
      // Weight operand slots: conv2d / linear (weight, bias), batch_norm (4).
      size_t firstWeight = mlir::isa<nn::Conv2dOp, nn::LinearOp, nn::BatchNormOp>(op)
                               ? 1
                               : op->getNumOperands();
      for (size_t i = 0; ok && i < op->getNumOperands(); ++i) {
        bool isWeight = weightArgs.count(op->getOperand(i).getAsOpaquePointer()) != 0;
        if (isWeight != (i >= firstWeight)) {
          op->emitError() << "operand " << i << " of " << op->getName()
                          << (isWeight ? " is a weight argument where an activation is expected"
                                       : " must be a weight argument (with nn.key)");
          ok = false;
        }
      }
      if (ok && mlir::isa<mlir::ReturnOp>(op) && op->getNumOperands() != 1) {
        op->emitError() << "the function must return exactly one tensor";
        ok = false;
      }
    });
    return ok;
  }

  int newTensor(Tensor::Kind kind, std::vector<int64_t> shape) {
    Tensor t;
    t.kind = kind;
    t.shape = std::move(shape);
    p_.tensors.push_back(t);
    return static_cast<int>(p_.tensors.size()) - 1;
  }

  int tensorOf(mlir::Value v) { return tensors_.at(v.getAsOpaquePointer()); }

  bool emitStep(const std::vector<mlir::Operation *> &chain) {
    mlir::Operation *anchor = chain.front();
    Step step;
    if (auto name = anchor->getLoc().dyn_cast<mlir::NameLoc>())
      step.name = name.getName().str();
    else
      step.name = anchor->getName().getStringRef().str();
    std::vector<mlir::Value> activations, weights;
    for (mlir::Value operand : anchor->getOperands()) {
      if (weightIndex_.count(operand.getAsOpaquePointer()))
        weights.push_back(operand);
      else
        activations.push_back(operand);
    }
    for (mlir::Value a : activations)
      step.inputs.push_back(tensorOf(a));
    for (mlir::Value w : weights)
      step.weights.push_back(weightIndex_.at(w.getAsOpaquePointer()));
    mlir::Value out = chain.back()->getResult(0);
    step.output = newTensor(Tensor::Kind::Arena, shapeOf(out));
    tensors_[out.getAsOpaquePointer()] = step.output;

    std::string signature = signatureOf(chain, options_.target.to_string());
    auto found = groupBySignature_.find(signature);
    if (found != groupBySignature_.end()) {
      step.group = found->second;
    } else {
      Group group;
      group.signature = signature;
      group.function = options_.prefix + p_.name + "_g" + std::to_string(p_.groups.size());
      for (mlir::Operation *op : chain)
        group.description += (group.description.empty() ? "" : " + ") +
                             op->getName().stripDialect().str();
      try {
        if (!buildPipeline(chain, activations, weights, group))
          return false;
      } catch (const Halide::Error &e) {
        anchor->emitError() << "Halide error while lowering '" << step.name << "': " << e.what();
        return false;
      }
      step.group = static_cast<int>(p_.groups.size());
      groupBySignature_[signature] = step.group;
      p_.groups.push_back(std::move(group));
    }
    p_.steps.push_back(step);
    return true;
  }

  bool buildPipeline(const std::vector<mlir::Operation *> &chain,
                     const std::vector<mlir::Value> &activations,
                     const std::vector<mlir::Value> &weights, Group &group) {
    EmitContext ctx;
    ctx.vectorWidth = vectorWidth_;
    for (size_t i = 0; i < activations.size(); ++i) {
      std::vector<int64_t> shape = shapeOf(activations[i]);
      if (shape.size() != 4 && shape.size() != 2) {
        chain.front()->emitError() << "the code generator supports tensors of rank 2 and 4, "
                                      "not " << shape.size();
        return false;
      }
      ImageParam param = makeParam(shape, "in" + std::to_string(i), /*batched=*/true);
      group.inputs.push_back(param);
      Func wrapper("in" + std::to_string(i) + "_f");
      std::vector<Var> coords = coordsFor(shape.size());
      wrapper(coords) = param(coords);
      ctx.inputs.push_back(wrapper);
      ctx.inputShapes.push_back(shape);
    }
    for (size_t i = 0; i < weights.size(); ++i) {
      llvm::ArrayRef<int64_t> s = weights[i].getType().cast<mlir::RankedTensorType>().getShape();
      ImageParam param = makeParam({s.begin(), s.end()}, "w" + std::to_string(i), false);
      group.weights.push_back(param);
      ctx.weights.push_back(param);
    }

    mlir::Operation *anchor = chain.front();
    Func anchorFunc;
    if (auto op = mlir::dyn_cast<nn::Conv2dOp>(anchor))
      anchorFunc = emitConv2d(op, ctx);
    else if (auto op = mlir::dyn_cast<nn::LinearOp>(anchor))
      anchorFunc = emitLinear(op, ctx);
    else if (auto op = mlir::dyn_cast<nn::MaxPool2dOp>(anchor))
      anchorFunc = emitMaxPool2d(op, ctx);
    else if (auto op = mlir::dyn_cast<nn::AvgPool2dOp>(anchor))
      anchorFunc = emitAvgPool2d(op, ctx);
    else if (auto op = mlir::dyn_cast<nn::AdaptiveAvgPool2dOp>(anchor))
      anchorFunc = emitAdaptiveAvgPool2d(op, ctx);
    else if (auto op = mlir::dyn_cast<nn::BatchNormOp>(anchor))
      anchorFunc = emitBatchNorm(op, ctx);
    else if (auto op = mlir::dyn_cast<nn::ChannelAffineOp>(anchor))
      anchorFunc = emitChannelAffine(op, ctx);
    else if (auto op = mlir::dyn_cast<nn::AddOp>(anchor))
      anchorFunc = emitAdd(op, ctx);
    else if (auto op = mlir::dyn_cast<nn::ConcatOp>(anchor))
      anchorFunc = emitConcat(op, ctx);
    else if (auto op = mlir::dyn_cast<nn::SoftmaxOp>(anchor)) {
      if (op.axis() != 1) {
        op.emitError() << "the code generator supports softmax along axis 1 (channels) only, "
                          "not axis " << op.axis();
        return false;
      }
      anchorFunc = emitSoftmax(op, ctx);
    } else if (auto op = mlir::dyn_cast<nn::LocalResponseNormOp>(anchor))
      anchorFunc = emitLocalResponseNorm(op, ctx);
    else if (isActivation(anchor))
      anchorFunc = emitActivation(anchor, ctx.inputs[0]);
    else {
      anchor->emitError() << "the code generator has no lowering for "
                          << anchor->getName().getStringRef();
      return false;
    }

    Func output = anchorFunc;
    for (size_t i = 1; i < chain.size(); ++i)
      output = emitActivation(chain[i], output);
    // A reduction scheduled as the output itself would parallelize only its
    // pure (init) stage: the update would run on one core. Computed inside
    // the output's parallel loop, every stage is split across the cores.
    bool separate = chain.size() > 1;
    if (!separate && anchorFunc.has_update_definition()) {
      std::vector<Var> coords = coordsFor(static_cast<size_t>(anchorFunc.dimensions()));
      output = Func(anchorFunc.name() + "_out");
      output(coords) = anchorFunc(coords);
      separate = true;
    }
    int rank = output.dimensions();
    Var parallelLoop = scheduleOutput(output, rank, vectorWidth_);
    if (separate)
      anchorFunc.compute_at(output, parallelLoop);
    // The output's sizes are static except the batch.
    std::vector<int64_t> outShape = shapeOf(chain.back()->getResult(0));
    for (int d = 0; d < rank; ++d) {
      if (d == rank - 1)
        output.output_buffer().dim(d).set_min(0);
      else
        output.output_buffer().dim(d).set_bounds(
            0, static_cast<int>(outShape[static_cast<size_t>(rank - 1 - d)]));
    }
    group.pipeline = Pipeline(output);
    return true;
  }

  const LowerOptions &options_;
  Program &p_;
  int vectorWidth_ = 8;
  std::map<const void *, int> tensors_;
  std::map<const void *, int> weightIndex_;
  std::map<std::string, int> groupBySignature_;
  std::set<mlir::Operation *> absorbed_;
};

} // namespace

bool lower(mlir::ModuleOp module, const LowerOptions &options, Program &program) {
  mlir::FuncOp func;
  for (auto f : module.getOps<mlir::FuncOp>()) {
    if (func) {
      f.emitError() << "the module must hold exactly one function";
      return false;
    }
    func = f;
  }
  if (!func) {
    module.emitError() << "the module holds no function";
    return false;
  }
  return Lowerer(options, program).run(func);
}

} // namespace netc::lowering
