//===- Lower.cpp - From the nn function to a Program of Halide pipelines ---===//
//
// Groups: an anchor op (conv, linear, pool, ...) plus the activations that
// only it feeds. Flatten and dropout move no data: their result aliases
// their input's memory. Groups with equal signatures share one pipeline.
//
//===----------------------------------------------------------------------===//
#include "netc/Lowering/Planner.h"
#include "netc/Lowering/Program.h"

#include "Templates.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>
#include <set>

namespace netc::lowering {

using namespace Halide;

int Program::ownerOf(int t) const {
  while (tensors[static_cast<size_t>(t)].kind == Tensor::Kind::Alias)
    t = tensors[static_cast<size_t>(t)].aliasOf;
  return t;
}

int64_t Tensor::perSample() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i)
    n *= shape[i];
  return n;
}

int64_t Tensor::bytesPerSample() const { return perSample() * bytesOf(dtype); }

int bytesOf(DType dtype) {
  switch (dtype) {
  case DType::BF16: return 2;
  case DType::I8:
  case DType::U8: return 1;
  case DType::F32:
  case DType::I32: return 4;
  }
  return 4;
}

Type halideType(DType dtype) {
  switch (dtype) {
  case DType::BF16: return BFloat(16);
  case DType::I8: return Int(8);
  case DType::U8: return UInt(8);
  case DType::I32: return Int(32);
  case DType::F32: return Float(32);
  }
  return Float(32);
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

/// Halide strides of a dense tensor of this NCHW / NF shape, dimensions
/// reversed: (x, y, c, n) or (f, n).
std::vector<int> stridesOf(const std::vector<int64_t> &shape, Layout layout) {
  int rank = static_cast<int>(shape.size());
  std::vector<int> strides(static_cast<size_t>(rank));
  int stride = 1;
  for (int d = 0; d < rank; ++d) {
    strides[static_cast<size_t>(d)] = stride;
    stride *= static_cast<int>(shape[static_cast<size_t>(rank - 1 - d)]);
  }
  if (rank == 4 && layout == Layout::NHWC) {
    int c = static_cast<int>(shape[1]), w = static_cast<int>(shape[3]);
    strides = {c, c * w, 1, stride};
  }
  return strides;
}

/// Constrains a buffer to this NCHW / NF shape and layout: static sizes
/// and strides, the batch (last Halide dimension) free when `batched`.
template <typename Dims>
void constrain(Dims &&dim, const std::vector<int64_t> &shape, Layout layout, bool batched,
               const std::vector<int64_t> *strideShape = nullptr) {
  int rank = static_cast<int>(shape.size());
  std::vector<int> strides = stridesOf(strideShape ? *strideShape : shape, layout);
  for (int d = 0; d < rank; ++d) {
    if (batched && d == rank - 1)
      dim(d).set_min(0);
    else
      dim(d).set_bounds(0, static_cast<int>(shape[static_cast<size_t>(rank - 1 - d)]));
    dim(d).set_stride(strides[static_cast<size_t>(d)]);
  }
}

ImageParam makeParam(const std::vector<int64_t> &shape, const std::string &name, bool batched,
                     Layout layout = Layout::NCHW, DType dtype = DType::F32,
                     const std::vector<int64_t> *strideShape = nullptr) {
  ImageParam p(halideType(dtype), static_cast<int>(shape.size()), name);
  constrain([&](int d) { return p.dim(d); }, shape, layout, batched, strideShape);
  return p;
}

} // namespace

ImageParam EmitContext::addPack(Func func, std::vector<int64_t> shape, DType dtype) {
  ImageParam param =
      makeParam(shape, packPrefix + std::to_string(packs.size()), false, Layout::NCHW, dtype);
  packs.push_back(PackRequest{func, std::move(shape), param, dtype});
  return param;
}

namespace {

std::string signatureOf(const std::vector<mlir::Operation *> &ops, const std::string &target) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << target;
  for (mlir::Operation *op : ops) {
    // A tensor's quantization is data (the step's constant pack), not code.
    llvm::SmallVector<mlir::NamedAttribute> attrs;
    for (mlir::NamedAttribute a : op->getAttrDictionary())
      if (a.getName() != kQuantAttr)
        attrs.push_back(a);
    os << "|" << op->getName() << " " << mlir::DictionaryAttr::get(op->getContext(), attrs);
    for (mlir::Type t : op->getOperandTypes())
      os << " " << t;
  }
  return os.str();
}

class Lowerer {
public:
  Lowerer(const LowerOptions &options, Program &program)
      : options_(options), target_(TargetInfo::of(options.target, options.isa)), p_(program) {}

  bool run(mlir::FuncOp func) {
    if (!validate(func))
      return false;
    p_.name = func.getName().str();
    p_.target = options_.target;
    p_.isa = options_.isa != NETC_ISA_GENERIC ? options_.isa : isaLevelOf(options_.target);
    gpu_ = target_.gpu();
    if (options_.target.has_feature(Target::CUDA))
      p_.deviceApi = "cuda";
    else if (options_.target.has_feature(Target::OpenCL))
      p_.deviceApi = "opencl";
    // On a GPU, "a vector" is a warp's 32 threads along the channels
    // (the planner: channels innermost from 32 on).
    vectorWidth_ = target_.lanes();
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
    p_.tensors[static_cast<size_t>(p_.input)].name = "input";
    setStorage(p_.tensors[static_cast<size_t>(p_.input)], func.getArgument(0));
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
    if (!indexableIn32Bits(func))
      return false;
    makeConcatsInPlace(func);
    // Staged expansions, layer-scale epilogues and BatchNorm prologues in
    // every precision; product prologues in FP32 and BF16 plans (prologueOf).
    fusions_ = options_.fusions && !gpu_;
    func.walk([&](mlir::Operation *op) { int8Plan_ = int8Plan_ || computesInInt8(op); });
    if (fusions_)
      func.walk([&](mlir::Operation *op) {
        std::vector<mlir::Operation *> prologue = prologueOf(op, result);
        if (!prologue.empty()) {
          absorbed_.insert(prologue.begin(), prologue.end());
          prologue_[op] = std::move(prologue);
        }
      });

    for (mlir::Operation &opRef : func.getBody().front()) {
      mlir::Operation *op = &opRef;
      if (mlir::isa<mlir::ReturnOp>(op) || absorbed_.count(op) ||
          inPlace_.count(op->getResult(0).getAsOpaquePointer()))
        continue; // (a concat in place: its producers wrote its slices)
      if (isView(op)) {
        int base = tensorOf(op->getOperand(0));
        int t = newTensor(Tensor::Kind::Alias, shapeOf(op->getResult(0)));
        p_.tensors[t].aliasOf = base;
        tensors_[op->getResult(0).getAsOpaquePointer()] = t;
        continue;
      }
      std::vector<mlir::Operation *> chain = stepChain(op, result);
      if (fusions_)
        addLayerScale(chain, result);
      absorbed_.insert(chain.begin() + 1, chain.end());
      if (!emitStep(chain))
        return false;
    }
    p_.output = tensorOf(result);
    // A view (flatten) shares its owner's memory and layout, so the owner is
    // written straight into the caller's output buffer.
    int owner = p_.ownerOf(p_.output);
    if (p_.tensors[owner].kind != Tensor::Kind::Arena) {
      func.emitError() << "the network's output is its input (or a view of it): nothing to "
                          "compute";
      return false;
    }
    p_.tensors[owner].kind = Tensor::Kind::Output;
    planMemory(p_);
    if (p_.arenaBytesPerSample / 4 > INT32_MAX) {
      func.emitError() << "one batch item needs " << p_.arenaBytesPerSample
                       << " bytes of scratch memory, more than 32-bit indexing of floats "
                          "reaches ("
                       << INT32_MAX << " floats); give a smaller --input-shape";
      return false;
    }
    return true;
  }

private:
  /// Halide indexes buffers with 32-bit integers: every weight, and every
  /// activation of one batch item, must have fewer than 2^31 elements (the
  /// runtime refuses batches that overflow).
  bool indexableIn32Bits(mlir::FuncOp func) {
    bool ok = true;
    auto check = [&](mlir::Value value, mlir::Location loc, bool batched) {
      auto type = value.getType().dyn_cast<mlir::RankedTensorType>();
      if (!type || !ok)
        return;
      int64_t elements = 1;
      std::string shape = "[";
      for (size_t d = 0; d < static_cast<size_t>(type.getRank()); ++d) {
        int64_t size = type.getDimSize(static_cast<unsigned>(d));
        shape += (d ? "," : "") + (size < 0 ? std::string("N") : std::to_string(size));
        if (size > 0 && (d > 0 || !batched))
          elements = elements > INT32_MAX / size ? int64_t(INT32_MAX) + 1 : elements * size;
      }
      if (elements > INT32_MAX) {
        mlir::emitError(loc) << (batched ? "an activation " : "a weight ") << shape
                             << "] has more elements" << (batched ? " per batch item" : "")
                             << " than 32-bit indexing reaches (" << INT32_MAX << ")"
                             << (batched ? "; give a smaller --input-shape" : "");
        ok = false;
      }
    };
    check(func.getArgument(0), func.getLoc(), true);
    for (unsigned i = 1; i < func.getNumArguments(); ++i)
      check(func.getArgument(i), func.getLoc(), false);
    func.walk([&](mlir::Operation *op) {
      for (mlir::Value v : op->getResults())
        check(v, op->getLoc(), true);
    });
    return ok;
  }

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
      // Weight operand slots: conv2d / linear (weight, bias), batch_norm (4),
      // fused_conv2d (weight, bias, BatchNorm's 4; its residuals follow).
      size_t firstWeight = mlir::isa<nn::Conv2dOp, nn::LinearOp, nn::BatchNormOp,
                                     nn::FusedConv2dOp, nn::ChannelLinearOp, nn::LayerNormOp,
                                     nn::ChannelScaleOp>(op)
                               ? 1
                               : op->getNumOperands();
      size_t endWeight = op->getNumOperands();
      if (auto fused = mlir::dyn_cast<nn::FusedConv2dOp>(op))
        endWeight = fused.getODSOperandIndexAndLength(4).first; // the residuals
      for (size_t i = 0; ok && i < op->getNumOperands(); ++i) {
        bool isWeight = weightArgs.count(op->getOperand(i).getAsOpaquePointer()) != 0;
        if (isWeight != (i >= firstWeight && i < endWeight)) {
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

  /// A concat the planner made in place (nn.in_place) moves no data: its
  /// tensor is made first, and each producer writes its slice of it
  /// (Tensor::slice). One that is an operand of another is itself a slice
  /// of that one's tensor (slices are always of a tensor that is none):
  /// outermost first, so each knows where its own tensor lies.
  void makeConcatsInPlace(mlir::FuncOp func) {
    std::vector<nn::ConcatOp> concats;
    func.walk([&](nn::ConcatOp cat) {
      if (cat->hasAttr(kInPlaceAttr))
        concats.push_back(cat);
    });
    for (auto it = concats.rbegin(); it != concats.rend(); ++it) {
      nn::ConcatOp cat = *it;
      const void *key = cat.result().getAsOpaquePointer();
      std::pair<int, int64_t> where; // (the tensor it lies in, its first channel)
      auto outer = sliceOf_.find(key);
      if (outer != sliceOf_.end()) {
        where = outer->second;
        tensors_[key] = newSlice(shapeOf(cat.result()), where, modulePath(cat));
      } else {
        int t = newTensor(Tensor::Kind::Arena, shapeOf(cat.result()));
        p_.tensors[static_cast<size_t>(t)].layout = layoutOf(cat.result());
        p_.tensors[static_cast<size_t>(t)].name = modulePath(cat);
        setStorage(p_.tensors[static_cast<size_t>(t)], cat.result());
        tensors_[key] = t;
        where = {t, 0};
      }
      inPlace_.insert(key);
      int64_t offset = where.second;
      for (mlir::Value operand : cat.inputs()) {
        sliceOf_[operand.getAsOpaquePointer()] = {where.first, offset};
        offset += operand.getType().cast<mlir::RankedTensorType>().getShape()[1];
      }
    }
  }

  /// A stored tensor's element type and quantization, as planned.
  static void setStorage(Tensor &t, mlir::Value value) {
    t.dtype = storedDType(value);
    if (std::optional<QParams> q = quantOf(value)) {
      t.quantized = true;
      t.scale = static_cast<float>(q->scale);
      t.zeroPoint = static_cast<int>(q->zeroPoint);
    }
  }

  int newTensor(Tensor::Kind kind, std::vector<int64_t> shape) {
    Tensor t;
    t.kind = kind;
    t.shape = std::move(shape);
    p_.tensors.push_back(t);
    return static_cast<int>(p_.tensors.size()) - 1;
  }

  int tensorOf(mlir::Value v) { return tensors_.at(v.getAsOpaquePointer()); }

  /// A tensor of `shape` that is channels [where.second, ...) of tensor
  /// where.first, with its layout and element type.
  int newSlice(std::vector<int64_t> shape, std::pair<int, int64_t> where, std::string name) {
    int t = newTensor(Tensor::Kind::Alias, std::move(shape));
    Tensor &tensor = p_.tensors[static_cast<size_t>(t)];
    const Tensor &parent = p_.tensors[static_cast<size_t>(where.first)];
    tensor.aliasOf = where.first;
    tensor.slice = true;
    tensor.channelOffset = where.second;
    tensor.layout = parent.layout;
    tensor.dtype = parent.dtype;
    tensor.name = std::move(name);
    return t;
  }

  /// A depthwise conv's staged expansion (expansionOf), in any plan; a
  /// BatchNorm, or in FP32 and BF16 plans a product (squeeze-excitation's
  /// gate times its input), with the activations after it, that only `op`,
  /// a conv (not grouped), reads: the conv's prologue, applied to the input
  /// as the conv's template reads it (conv.direct stages it per task, as it
  /// stages a zero halo; conv.amx in its input copy), never stored. A BF16
  /// conv reads it rounded to BF16, an INT8 conv quantized with the
  /// quantization planned for it (EmitContext::prologueQuant), as it would
  /// have been stored. (In an INT8 plan a product's gate, an input of its
  /// own, would shift the inputs' quantization: not there.) DenseNet's
  /// norm1 -> relu1 -> conv1 (a BatchNorm that cannot fold into the
  /// weights: a padding conv pads its result with zeros); EfficientNet's and MobileNetV3's gated
  /// expansions read by the block's 1x1 project conv. Empty where there is
  /// none.
  std::vector<mlir::Operation *> prologueOf(mlir::Operation *op, mlir::Value result) const {
    if (!mlir::isa<nn::Conv2dOp, nn::FusedConv2dOp>(op))
      return {};
    if (planned(op, "conv.depthwise"))
      return expansionOf(op, result);
    if (convShapeOf(op).groups != 1)
      return {};
    mlir::Value read = op->getOperand(0);
    mlir::Operation *head = read.getDefiningOp();
    while (head && isActivation(head))
      head = head->getOperand(0).getDefiningOp();
    if (!head || !mlir::isa<nn::BatchNormOp, nn::MulOp>(head) || !read.hasOneUse() ||
        read == result || (int8Plan_ && mlir::isa<nn::MulOp>(head)) ||
        (computesInInt8(op) && !quantOf(read)))
      return {};
    std::optional<unsigned> primary = prologueInput(head);
    if (!primary || layoutOf(head->getOperand(*primary)) != layoutOf(read))
      return {};
    std::vector<mlir::Operation *> chain = stepChain(head, result);
    if (chain.back()->getResult(0) != read)
      return {};
    return chain;
  }

  /// In any plan, the 1x1 conv (with its activations) whose
  /// result only `op`, a depthwise conv, reads (expansionReader): an
  /// inverted-residual block's expansion (MobileNet's, EfficientNet's),
  /// computed per task of the depthwise conv for the rows and channels the
  /// task reads (EmitContext::stageInput), so the expanded tensor, the
  /// block's largest, never goes to memory and back, nor from one core's
  /// cache to the other's. A reduced-precision expansion is conv.direct's
  /// (conv.amx leaves it to conv.direct: amxFits): BF16 by FMAs on its
  /// widened operands, INT8 by its integer dot products; its result float32
  /// as the depthwise conv reads it, as when it is stored. Empty where
  /// there is none.
  std::vector<mlir::Operation *> expansionOf(mlir::Operation *op, mlir::Value result) const {
    mlir::Value read = op->getOperand(0);
    mlir::Operation *head = read.getDefiningOp();
    while (head && isActivation(head))
      head = head->getOperand(0).getDefiningOp();
    if (!head || expansionReader(head) != op || !planned(head, "conv.direct") ||
        read == result || prologue_.count(head) || layoutOf(read) != Layout::NHWC ||
        planBool(head->getAttrOfType<mlir::DictionaryAttr>(kPlanAttr), "bf16_dot"))
      return {};
    std::vector<mlir::Operation *> chain = stepChain(head, result);
    if (chain.back()->getResult(0) != read)
      return {};
    return chain;
  }

  /// A channel linear's layer scale and the residual sum after it
  /// (ConvNeXt's x + layer_scale * block(x)), each the only reader of the
  /// value before it, join its step's epilogue: the chain grows by a
  /// channel_scale and an add whose other operand is computed before the
  /// linear (the step runs where the linear is). In every precision: the
  /// epilogue is float32, the sum stored as the add's would be.
  static void addLayerScale(std::vector<mlir::Operation *> &chain, mlir::Value result) {
    if (!mlir::isa<nn::ChannelLinearOp>(chain.front()))
      return;
    auto onlyReader = [&](mlir::Value v) -> mlir::Operation * {
      return v != result && v.hasOneUse() ? *v.getUsers().begin() : nullptr;
    };
    auto scale = mlir::dyn_cast_or_null<nn::ChannelScaleOp>(
        onlyReader(chain.back()->getResult(0)));
    if (!scale || scale.input() != chain.back()->getResult(0))
      return;
    chain.push_back(scale);
    auto add = mlir::dyn_cast_or_null<nn::AddOp>(onlyReader(scale.result()));
    if (!add || add.inputs().size() != 2)
      return;
    mlir::Value other = add.inputs()[add.inputs()[0] == scale.result() ? 1 : 0];
    mlir::Operation *def = other.getDefiningOp();
    if (other == scale.result() || (def && !def->isBeforeInBlock(chain.front())))
      return;
    chain.push_back(add);
  }

  /// The operand of an epilogue op (addLayerScale's) that its step reads
  /// besides the chain's value: a layer scale's scale, a sum's other term.
  static mlir::Value epilogueOperand(mlir::Operation *op, mlir::Value chained) {
    if (auto scale = mlir::dyn_cast<nn::ChannelScaleOp>(op))
      return scale.scale();
    if (auto add = mlir::dyn_cast<nn::AddOp>(op))
      return add.inputs()[add.inputs()[0] == chained ? 1 : 0];
    return {};
  }

  /// Whether `op`'s plan names this template.
  static bool planned(mlir::Operation *op, llvm::StringRef name) {
    auto plan = op->getAttrOfType<mlir::DictionaryAttr>(kPlanAttr);
    auto chosen = plan ? plan.getAs<mlir::StringAttr>("template") : mlir::StringAttr();
    return chosen && chosen.getValue() == name;
  }

  /// The operand of a prologue's first op that takes the place of the
  /// conv's input: a BatchNorm's or a conv's input; the operand of a
  /// product with the product's shape (the other, the gate, broadcasts), if
  /// one has.
  static std::optional<unsigned> prologueInput(mlir::Operation *head) {
    if (mlir::isa<nn::BatchNormOp, nn::Conv2dOp, nn::FusedConv2dOp>(head))
      return 0u;
    for (unsigned i = 0; i < 2; ++i)
      if (head->getOperand(i).getType() == head->getResult(0).getType())
        return i;
    return std::nullopt;
  }

  bool emitStep(const std::vector<mlir::Operation *> &chain) {
    mlir::Operation *anchor = chain.front();
    Step step;
    if (auto name = anchor->getLoc().dyn_cast<mlir::NameLoc>())
      step.name = name.getName().str();
    else
      step.name = anchor->getName().getStringRef().str();
    // The anchor's operands (the activations after it read only its result):
    // activations (a fused conv's input, then its residuals) and weights.
    std::vector<mlir::Value> activations, weights;
    for (mlir::Value operand : anchor->getOperands()) {
      if (weightIndex_.count(operand.getAsOpaquePointer()))
        weights.push_back(operand);
      else
        activations.push_back(operand);
    }
    // The epilogue's: a layer scale's scale, a residual's other term.
    for (size_t i = 1; i < chain.size(); ++i)
      if (mlir::Value extra = epilogueOperand(chain[i], chain[i - 1]->getResult(0)))
        (mlir::isa<nn::ChannelScaleOp>(chain[i]) ? weights : activations).push_back(extra);
    // A prologue: the step reads its first op's input in place of the
    // anchor's; a BatchNorm's four tensors, or a conv's weights, follow the
    // anchor's weights, a product's other operand (the gate) the anchor's
    // activations.
    std::vector<mlir::Operation *> ops = chain;
    auto prologue = prologue_.find(anchor);
    mlir::Operation *head = prologue != prologue_.end() ? prologue->second.front() : nullptr;
    if (head) {
      unsigned primary = *prologueInput(head);
      activations.front() = head->getOperand(primary);
      if (mlir::isa<nn::MulOp>(head))
        activations.push_back(head->getOperand(1 - primary));
      else
        weights.insert(weights.end(), head->operand_begin() + 1, head->operand_end());
      ops.insert(ops.begin(), prologue->second.begin(), prologue->second.end());
    }
    for (mlir::Value a : activations)
      step.inputs.push_back(tensorOf(a));
    if (mlir::isa<nn::Conv2dOp, nn::FusedConv2dOp, nn::LinearOp, nn::ChannelLinearOp>(anchor)) {
      // Each output element sums one weight row: [cin/groups, kh, kw] or [in].
      auto macsOf = [](mlir::Operation *op) {
        std::vector<int64_t> w = shapeOf(op->getOperand(1)), o = shapeOf(op->getResult(0));
        int64_t macs = 1;
        for (size_t i = 1; i < w.size(); ++i)
          macs *= w[i];
        for (size_t i = 1; i < o.size(); ++i)
          macs *= o[i];
        return macs;
      };
      step.macsPerSample = macsOf(anchor);
      if (head && mlir::isa<nn::Conv2dOp, nn::FusedConv2dOp>(head))
        step.macsPerSample += macsOf(head);
      step.precision = computesInBf16(anchor)   ? "bf16"
                       : computesInInt8(anchor) ? "int8"
                                                : "fp32";
    }
    mlir::Value out = chain.back()->getResult(0);
    auto slice = sliceOf_.find(out.getAsOpaquePointer());
    if (slice != sliceOf_.end()) {
      step.output = newSlice(shapeOf(out), slice->second, step.name);
    } else {
      step.output = newTensor(Tensor::Kind::Arena, shapeOf(out));
      Tensor &t = p_.tensors[static_cast<size_t>(step.output)];
      t.layout = layoutOf(out);
      t.name = step.name;
      setStorage(t, out);
    }
    tensors_[out.getAsOpaquePointer()] = step.output;

    std::string signature = signatureOf(ops, options_.target.to_string()) + "|layouts";
    auto typed = [](const Tensor &t) {
      return std::string(" ") + layoutName(t.layout) +
             (t.dtype == DType::BF16 ? " bf16" : t.dtype == DType::U8 ? " u8" : "");
    };
    // A slice's strides are its parent's: the parent's channel count.
    auto sliced = [&](const Tensor &t) {
      return t.slice ? " slice of " +
                           std::to_string(p_.tensors[static_cast<size_t>(t.aliasOf)].shape[1])
                     : std::string();
    };
    for (int t : step.inputs)
      signature += typed(p_.tensors[static_cast<size_t>(p_.ownerOf(t))]) +
                   sliced(p_.tensors[static_cast<size_t>(t)]);
    const Tensor &written = p_.tensors[static_cast<size_t>(step.output)];
    signature += " ->" + typed(written) + sliced(written);
    auto found = groupBySignature_.find(signature);
    if (found != groupBySignature_.end()) {
      step.group = found->second;
    } else {
      Group group;
      group.signature = signature;
      for (mlir::Operation *op : ops)
        group.description += (group.description.empty() ? "" : " + ") + describe(op);
      if (auto plan = anchor->getAttrOfType<mlir::DictionaryAttr>(kPlanAttr))
        if (auto name = plan.getAs<mlir::StringAttr>("template"))
          group.description += " [" + name.getValue().str() + "]";
      try {
        if (!buildPipeline(chain, activations, weights, step, group))
          return false;
      } catch (const Halide::Error &e) {
        anchor->emitError() << "Halide error while lowering '" << step.name << "': " << e.what();
        return false;
      }
      step.group = static_cast<int>(p_.groups.size());
      group.function = functionName();
      groupBySignature_[signature] = step.group;
      p_.groups.push_back(std::move(group));
    }
    // This step's weights: the file weights its pipeline reads, then its
    // own instance of each pack.
    const Group &group = p_.groups[static_cast<size_t>(step.group)];
    auto indexOf = [&](int position) {
      return weightIndex_.at(weights[static_cast<size_t>(position)].getAsOpaquePointer());
    };
    for (int position : group.directWeights)
      step.weights.push_back(indexOf(position));
    for (size_t k = 0; k < group.packs.size(); ++k) {
      Pack pack;
      pack.group = group.packs[k].group;
      if (pack.group == Group::PackUse::kConstantPack)
        pack.values = quantValues(step, anchor);
      pack.shape = group.packs[k].shape;
      pack.dtype = group.packs[k].dtype;
      for (int position : group.packs[k].sources)
        pack.sources.push_back(indexOf(position));
      pack.name = step.name + (group.packs.size() > 1 ? " #" + std::to_string(k) : "");
      step.weights.push_back(static_cast<int>(p_.weights.size() + p_.packs.size()));
      p_.packs.push_back(std::move(pack));
    }
    p_.steps.push_back(step);
    return true;
  }

  /// A step's quantization parameters (EmitContext::quant): scale and zero
  /// point of each input, then of the output (a slice: its concat's), then
  /// of an INT8 conv's prologue result (EmitContext::prologueQuant).
  std::vector<float> quantValues(const Step &step, mlir::Operation *anchor) const {
    std::vector<float> values;
    auto add = [&](int t) {
      const Tensor &owner = p_.tensors[static_cast<size_t>(p_.ownerOf(t))];
      values.push_back(owner.quantized ? owner.scale : 1.0f);
      values.push_back(owner.quantized ? static_cast<float>(owner.zeroPoint) : 0.0f);
    };
    for (int t : step.inputs)
      add(t);
    add(step.output);
    if (std::optional<QParams> q = prologueQuantOf(anchor)) {
      values.push_back(static_cast<float>(q->scale));
      values.push_back(static_cast<float>(q->zeroPoint));
    }
    return values;
  }

  /// The quantization an INT8 conv's prologue result is read with: that
  /// planned for the tensor it replaces (nn.quant on the prologue's last op).
  std::optional<QParams> prologueQuantOf(mlir::Operation *anchor) const {
    if (!computesInInt8(anchor) || !prologue_.count(anchor))
      return std::nullopt;
    return quantOf(anchor->getOperand(0));
  }

  /// Whether a step works with quantized values: it computes in INT8, or
  /// reads or writes a u8 tensor.
  bool quantizedStep(mlir::Operation *anchor, const Step &step) const {
    bool any = computesInInt8(anchor);
    for (int t : step.inputs)
      any = any || p_.tensors[static_cast<size_t>(p_.ownerOf(t))].dtype == DType::U8;
    return any || p_.tensors[static_cast<size_t>(p_.ownerOf(step.output))].dtype == DType::U8;
  }

  /// An op's kind for messages; a fused conv lists what it fused.
  static std::string describe(mlir::Operation *op) {
    auto fused = mlir::dyn_cast<nn::FusedConv2dOp>(op);
    if (!fused)
      return op->getName().stripDialect().str();
    std::string text = "conv2d";
    if (fused.bn_eps())
      text += " + batch_norm";
    if (!fused.residuals().empty())
      text += " + add";
    if (fused.activation() != "none")
      text += " + " + fused.activation().str();
    return text;
  }

  /// The symbol of the next group (packs' pipelines are groups too).
  std::string functionName() const {
    // A library's variants each have their own: resnet50_avx512_vnni_g3.
    std::string variant;
    if (p_.isa != NETC_ISA_GENERIC)
      for (const char *c = netc_isa_name(p_.isa); *c; ++c)
        variant += *c == '-' ? '_' : *c;
    return p_.name + (variant.empty() ? "" : "_" + variant) + "_g" +
           std::to_string(p_.groups.size());
  }

  /// A conv prologue (expansionOf): the conv's template's Func over the
  /// step's input, with the conv's own activation (the chain's follow), the
  /// conv's weights the last of ctx's, its packs the step's; `schedule`
  /// gives the result's loops once it is computed where the anchor's
  /// template says (ctx.stageInput).
  Func emitStagedConv(mlir::Operation *conv, EmitContext &ctx,
                      std::function<void(Func)> &schedule) {
    mlir::Value result = conv->getResult(0);
    EmitContext stage;
    stage.target = &target_;
    stage.vectorWidth = vectorWidth_;
    stage.inputs = {ctx.inputs[0]};
    stage.inputParams = {ctx.inputParams[0]};
    stage.inputShapes = {ctx.inputShapes[0]};
    stage.inputLayouts = {ctx.inputLayouts[0]};
    stage.weights.assign(ctx.weights.end() - (conv->getNumOperands() - 1), ctx.weights.end());
    stage.plan = conv->getAttrOfType<mlir::DictionaryAttr>(kPlanAttr);
    stage.outputShape = shapeOf(result);
    stage.outputLayout = layoutOf(result);
    stage.nested = true;
    stage.packPrefix = "s";
    stage.quant = ctx.quant; // (an INT8 expansion's input is the step's first)
    auto fused = mlir::dyn_cast<nn::FusedConv2dOp>(conv);
    if (fused && fused.bn_eps()) {
      stage.bnEps = fused.bn_eps()->convertToDouble();
      stage.bnFirst = fused.bias() ? 2 : 1;
    }
    Func sum = templateNamed(conv, "conv.direct")->emit(conv, stage);
    ctx.packs.insert(ctx.packs.end(), stage.packs.begin(), stage.packs.end());
    ctx.stageChannels = vectorWidth_ * static_cast<int>(planInt(stage.plan, "vectors"));
    schedule = stage.schedule;
    return fused && fused.activation() != "none" ? emitActivation(fused.activation(), sum) : sum;
  }

  bool buildPipeline(const std::vector<mlir::Operation *> &chain,
                     const std::vector<mlir::Value> &activations,
                     const std::vector<mlir::Value> &weights, const Step &step, Group &group) {
    EmitContext ctx;
    ctx.target = &target_;
    ctx.vectorWidth = vectorWidth_;
    ctx.gpu = gpu_;
    bool quantizedPrologue = prologueQuantOf(chain.front()).has_value();
    if (quantizedStep(chain.front(), step))
      ctx.quant = ctx.addPack(
          Func(), {2 * static_cast<int64_t>(activations.size() + 1 + quantizedPrologue)});
    for (size_t i = 0; i < activations.size(); ++i) {
      std::vector<int64_t> shape = shapeOf(activations[i]);
      if (shape.size() != 4 && shape.size() != 2) {
        chain.front()->emitError() << "the code generator supports tensors of rank 2 and 4, "
                                      "not " << shape.size();
        return false;
      }
      Layout layout = p_.tensors[static_cast<size_t>(p_.ownerOf(step.inputs[i]))].layout;
      if (shape.size() != 4)
        layout = Layout::NCHW;
      DType dtype = p_.tensors[static_cast<size_t>(p_.ownerOf(step.inputs[i]))].dtype;
      const Tensor &read = p_.tensors[static_cast<size_t>(step.inputs[i])];
      ImageParam param = makeParam(
          shape, "in" + std::to_string(i), /*batched=*/true, layout, dtype,
          read.slice ? &p_.tensors[static_cast<size_t>(read.aliasOf)].shape : nullptr);
      group.inputs.push_back(param);
      // Emitters compute in float32: a BF16 tensor is widened as it is
      // read (exactly), which the BF16 templates' dot products take as
      // their BF16 operand.
      Func wrapper("in" + std::to_string(i) + "_f");
      std::vector<Var> coords = coordsFor(shape.size());
      // A u8 one is dequantized: scale * (q - zero point).
      Expr value = dtype == DType::F32 ? Expr(param(coords)) : cast<float>(param(coords));
      if (dtype == DType::U8) // (not fused into a following add: strict_float)
        value = strict_float((value - ctx.inputZero(i)) * ctx.inputScale(i));
      wrapper(coords) = value;
      ctx.inputs.push_back(wrapper);
      ctx.inputParams.push_back(param);
      ctx.inputShapes.push_back(shape);
      ctx.inputLayouts.push_back(layout);
    }
    for (size_t i = 0; i < weights.size(); ++i) {
      llvm::ArrayRef<int64_t> s = weights[i].getType().cast<mlir::RankedTensorType>().getShape();
      ctx.weights.push_back(makeParam({s.begin(), s.end()}, "w" + std::to_string(i), false));
    }
    // The prologue replaces the input the anchor's template reads: a
    // BatchNorm's four tensors, or a conv's weights, are the last weights; a
    // product's gate is the last input, which the anchor's template does not
    // see (not in INT8 plans, whose quantization table indexes the inputs).
    auto prologue = prologue_.find(chain.front());
    if (prologue != prologue_.end()) {
      mlir::Operation *head = prologue->second.front();
      EmitContext headCtx;
      Func read;
      std::function<void(Func)> stageSchedule; // a conv's, computed per task
      if (mlir::isa<nn::Conv2dOp, nn::FusedConv2dOp>(head)) {
        read = emitStagedConv(head, ctx, stageSchedule);
      } else if (auto bn = mlir::dyn_cast<nn::BatchNormOp>(head)) {
        headCtx.inputs = {ctx.inputs[0]};
        headCtx.inputShapes = {ctx.inputShapes[0]};
        headCtx.weights.assign(ctx.weights.end() - 4, ctx.weights.end());
        read = emitBatchNorm(bn, headCtx);
      } else {
        unsigned primary = *prologueInput(head);
        headCtx.inputs = {ctx.inputs[0], ctx.inputs.back()};
        headCtx.inputShapes = {ctx.inputShapes[0], ctx.inputShapes.back()};
        if (primary == 1) {
          std::swap(headCtx.inputs[0], headCtx.inputs[1]);
          std::swap(headCtx.inputShapes[0], headCtx.inputShapes[1]);
        }
        read = emitMul(mlir::cast<nn::MulOp>(head), headCtx);
        ctx.inputs.pop_back();
        ctx.inputParams.pop_back();
        ctx.inputShapes.pop_back();
        ctx.inputLayouts.pop_back();
      }
      for (size_t i = 1; i < prologue->second.size(); ++i)
        read = emitActivation(prologue->second[i], read);
      if (computesInBf16(chain.front())) {
        Func rounded(read.name() + "_bf16");
        std::vector<Var> coords = coordsFor(4);
        rounded(coords) = cast<float>(roundToBf16(read(coords)));
        read = rounded;
      }
      if (stageSchedule) {
        if (read.has_update_definition()) { // (its tiles accumulate in a Func of their own)
          Func sum = read;
          std::vector<Var> coords = coordsFor(4);
          read = Func(sum.name() + "_out");
          read(coords) = sum(coords);
        }
        ctx.stageInput = [read, stageSchedule](Func consumer, Var task) {
          Func stage = read;
          stage.compute_at(consumer, task);
          stageSchedule(stage);
        };
      }
      ctx.inputs[0] = read;
      ctx.prologue = true;
      if (quantizedPrologue)
        ctx.prologueQuant = 2 * static_cast<int>(activations.size() + 1);
    }
    mlir::Value result = chain.back()->getResult(0);
    ctx.outputShape = shapeOf(result);
    ctx.outputLayout = p_.tensors[static_cast<size_t>(step.output)].layout;

    mlir::Operation *anchor = chain.front();
    auto fused = mlir::dyn_cast<nn::FusedConv2dOp>(anchor);
    if (fused && fused.bn_eps()) {
      ctx.bnEps = fused.bn_eps()->convertToDouble();
      ctx.bnFirst = fused.bias() ? 2 : 1;
    }
    // The anchor's template: the one its plan names, or its family's only.
    llvm::ArrayRef<Template> family = templatesFor(anchor);
    ctx.plan = anchor->getAttrOfType<mlir::DictionaryAttr>(kPlanAttr);
    auto named = ctx.plan ? ctx.plan.getAs<mlir::StringAttr>("template") : mlir::StringAttr();
    const Template *chosen = named ? templateNamed(anchor, named.getValue())
                             : family.size() == 1 ? &family[0]
                                                  : nullptr;
    if (!chosen) {
      anchor->emitError() << "the code generator has no lowering for "
                          << anchor->getName().getStringRef();
      return false;
    }
    if (auto op = mlir::dyn_cast<nn::SoftmaxOp>(anchor); op && op.axis() != 1) {
      op.emitError() << "the code generator supports softmax along axis 1 (channels) only, "
                        "not axis " << op.axis();
      return false;
    }
    Func anchorFunc = chosen->emit(anchor, ctx);

    // The epilogue: a fused conv's residual sum and activation, then the
    // activations the chain absorbed.
    Func output = anchorFunc;
    if (fused) {
      if (!fused.residuals().empty()) {
        std::vector<Func> terms = {output};
        terms.insert(terms.end(), ctx.inputs.begin() + 1, ctx.inputs.end());
        output = emitSum(terms, "residual_add");
      }
      if (fused.activation() != "none")
        output = emitActivation(fused.activation(), output);
    }
    for (size_t i = 1; i < chain.size(); ++i) {
      mlir::Value extra = epilogueOperand(chain[i], chain[i - 1]->getResult(0));
      auto at = [&](const std::vector<mlir::Value> &values) {
        return static_cast<size_t>(std::find(values.begin(), values.end(), extra) -
                                   values.begin());
      };
      if (!extra) {
        output = emitActivation(chain[i], output);
      } else if (auto scale = mlir::dyn_cast<nn::ChannelScaleOp>(chain[i])) {
        EmitContext scaleCtx;
        scaleCtx.inputs = {output};
        scaleCtx.weights = {ctx.weights[at(weights)]};
        output = emitChannelScale(scale, scaleCtx);
      } else {
        output = emitSum({output, ctx.inputs[at(activations)]}, "residual_add");
      }
    }
    // A BF16 tensor is rounded where it is produced, in the epilogue; a u8
    // one quantized there.
    DType stored = p_.tensors[static_cast<size_t>(step.output)].dtype;
    if (stored == DType::BF16 || stored == DType::U8) {
      std::vector<Var> coords = coordsFor(static_cast<size_t>(output.dimensions()));
      Func rounded(anchorFunc.name() + (stored == DType::BF16 ? "_bf16" : "_u8"));
      rounded(coords) = stored == DType::BF16
                            ? roundToBf16(output(coords))
                            : quantizeU8(output(coords), ctx.outputScale(), ctx.outputZero());
      output = rounded;
    }
    // A reduction scheduled as the output itself would parallelize only its
    // pure (init) stage: the update would run on one core. Computed inside
    // the output's parallel loop, every stage is split across the cores.
    int rank = output.dimensions();
    if (output.name() == anchorFunc.name() && anchorFunc.has_update_definition()) {
      std::vector<Var> coords = coordsFor(static_cast<size_t>(rank));
      output = Func(anchorFunc.name() + "_out");
      output(coords) = anchorFunc(coords);
    }
    if (ctx.schedule) {
      ctx.schedule(output);
    } else if (gpu_) {
      scheduleOutputGpu(output, ctx.outputShape, ctx.outputLayout);
    } else {
      Var parallelLoop = scheduleOutput(output, ctx.outputShape, vectorWidth_, ctx.outputLayout);
      if (output.name() != anchorFunc.name()) {
        anchorFunc.compute_at(output, parallelLoop);
        vectorizeInner(anchorFunc, ctx.outputLayout, vectorWidth_);
      }
    }
    // The output's sizes and strides are static except the batch.
    const Tensor &written = p_.tensors[static_cast<size_t>(step.output)];
    constrain([&](int d) { return output.output_buffer().dim(d); }, ctx.outputShape,
              ctx.outputLayout, true,
              written.slice ? &p_.tensors[static_cast<size_t>(written.aliasOf)].shape : nullptr);
    group.pipeline = Pipeline(output);

    // The file weights the pipeline reads, then the packs, each a pipeline
    // of its own over the file weights it reads.
    auto reads = [&](Pipeline pipeline) {
      std::set<std::string> names;
      for (const Argument &a : pipeline.infer_arguments())
        names.insert(a.name);
      std::vector<int> positions;
      for (size_t i = 0; i < ctx.weights.size(); ++i)
        if (names.count(ctx.weights[i].name()))
          positions.push_back(static_cast<int>(i));
      return positions;
    };
    group.directWeights = reads(group.pipeline);
    for (int position : group.directWeights)
      group.weights.push_back(ctx.weights[static_cast<size_t>(position)]);
    for (PackRequest &request : ctx.packs) {
      if (!request.func.defined()) { // the step's quantization parameters
        Group::PackUse use;
        use.group = Group::PackUse::kConstantPack;
        use.shape = request.shape;
        group.packs.push_back(use);
        group.weights.push_back(request.param);
        continue;
      }
      Group pack;
      pack.description = "pack for " + group.description;
      pack.pipeline = Pipeline(request.func);
      constrain([&](int d) { return request.func.output_buffer().dim(d); }, request.shape,
                Layout::NCHW, false);
      Group::PackUse use;
      use.sources = reads(pack.pipeline);
      for (int position : use.sources)
        pack.weights.push_back(ctx.weights[static_cast<size_t>(position)]);
      use.group = static_cast<int>(p_.groups.size());
      use.shape = request.shape;
      use.dtype = request.dtype;
      pack.function = functionName();
      pack.signature = group.signature + "|pack " + std::to_string(group.packs.size());
      p_.groups.push_back(std::move(pack));
      group.packs.push_back(use);
      group.weights.push_back(request.param);
    }
    return true;
  }

  const LowerOptions &options_;
  TargetInfo target_;
  Program &p_;
  int vectorWidth_ = 8;
  bool gpu_ = false;
  std::map<const void *, int> tensors_;
  std::map<const void *, int> weightIndex_;
  std::map<std::string, int> groupBySignature_;
  std::set<mlir::Operation *> absorbed_;
  std::set<const void *> inPlace_; // concats whose producers write their slices
  std::map<const void *, std::pair<int, int64_t>> sliceOf_; // value -> (concat tensor, channel)
  std::map<mlir::Operation *, std::vector<mlir::Operation *>> prologue_; // conv -> its prologue
  bool fusions_ = false;     // LowerOptions::fusions, on a CPU
  bool int8Plan_ = false; // an INT8 layer in the network: no product prologues
};

} // namespace

bool lower(mlir::ModuleOp module, const LowerOptions &options, Program &program) {
  // The decisions the IR does not carry yet (netc's driver plans before it
  // prints nn-opt; hand-written IR may carry some or none).
  if (!plan(module, options))
    return false;
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
