//===- Planner.cpp - Layouts, in-place concats and templates, as IR --------===//
//
// In order: which tensors stay NCHW, each conv's and linear's precision,
// which concats their producers write in place, the layout every step
// writes, which tensors are stored in BF16 or u8 and their quantization,
// then each op's template. Decisions
// already on the IR are checked and kept; the rest are chosen here, so
// lowering (which runs this first) always finds a complete plan.
//
//===----------------------------------------------------------------------===//
#include "netc/Lowering/Planner.h"

#include "Templates.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"

#include <functional>
#include <map>
#include <optional>
#include <set>

namespace netc::lowering {

namespace {

/// The fewest output channels a reduced-precision conv has: an AVX-512
/// vector of floats, so every x86 variant of a library reduces the same
/// layers (narrower convs take conv.rows, which is float32 only).
constexpr int64_t kReducedChannels = 16;

int64_t channelsOf(mlir::Value v) {
  auto type = v.getType().cast<mlir::RankedTensorType>();
  return type.getRank() == 4 ? type.getShape()[1] : 0;
}

class Planner {
public:
  Planner(mlir::FuncOp func, const LowerOptions &options)
      : func_(func), options_(options), target_(TargetInfo::of(options.target, options.isa)),
        ctx_{target_, options.winograd, options.bf16Dot, options.fusions, {}}, b_(func.getContext()) {}

  bool run() {
    func_.walk([&](mlir::ReturnOp ret) { result_ = ret.getOperand(0); });
    if (!result_)
      return true; // lowering's own check names the problem
    if (auto planned = func_->getAttrOfType<mlir::StringAttr>(nn::kIsaAttr))
      if (planned.getValue() != target_.isaName()) {
        func_.emitError() << "this nn IR was planned for " << planned.getValue() << " ("
                          << nn::kIsaAttr << "), not " << target_.isaName()
                          << ": build it for that (netc --isa " << planned.getValue()
                          << " on a CPU), or plan it anew from IR without a plan (netc "
                             "--emit=nn)";
        return false;
      }
    markNchw();
    if (!planPrecision())
      return false;
    if (!target_.gpu() && !planConcatsInPlace())
      return false;
    if (!(planLayouts() && planStorage() && planQuantization() && planTemplates()))
      return false;
    func_->setAttr(nn::kIsaAttr, b_.getStringAttr(target_.isaName()));
    return true;
  }

private:
  /// NCHW whatever the channels: the caller's output, and what a flatten
  /// views with more than one pixel (the flattened order is PyTorch's,
  /// channels outermost).
  void markNchw() {
    nchw_.insert(viewOwner(result_).getAsOpaquePointer());
    func_.walk([&](nn::FlattenOp flatten) {
      llvm::ArrayRef<int64_t> s =
          flatten.getOperand().getType().cast<mlir::RankedTensorType>().getShape();
      if (s.size() == 4 && s[2] * s[3] > 1)
        nchw_.insert(viewOwner(flatten.getOperand()).getAsOpaquePointer());
    });
  }

  /// Channels innermost pays when they fill a vector; fewer channels
  /// (LeNet's 6) stay NCHW, vectorized along the rows.
  Layout chosenLayout(mlir::Value v) const {
    bool wide = channelsOf(v) >= target_.lanes();
    return wide && !nchw_.count(v.getAsOpaquePointer()) ? Layout::NHWC : Layout::NCHW;
  }

  /// A channel concat whose operands are each the sole output of a step
  /// and read by nothing else moves no data: each producer writes its
  /// slice of the concat's tensor. (On a GPU a slice would start at any
  /// float, and OpenCL refuses unaligned buffer offsets: concats copy.)
  ///
  /// With LowerOptions::fusions an operand may have other readers too,
  /// which read its slice where it lies, and may be an in-place concat
  /// itself, whose tensor is then a slice of this one's: DenseNet's
  /// cat(x, layer(x)) chains make each block one tensor that every layer
  /// appends its channels to, the layers reading prefixes of it. A shared
  /// operand is then stored as the concat is; in a reduced-precision plan
  /// only where it would be stored so anyway (the storage planned with
  /// the concats copying), so no reader is given values rounded that it
  /// would have read in float32 (a layer --fp32-layers names).
  /// False after an error.
  bool planConcatsInPlace() {
    if (!options_.fusions) {
      placeConcats(Sharing::None);
    } else if (!computesReduced(func_)) {
      placeConcats(Sharing::Any);
    } else {
      placeConcats(Sharing::None);
      if (!planStorage())
        return false;
      placeConcats(Sharing::SameStorage);
    }
    return true;
  }

  /// Which operands of an in-place concat may have other readers.
  enum class Sharing { None, Any, SameStorage };

  /// Marks in place (nn.in_place) each concat that can be, in program
  /// order, so an inner concat is known before the one that reads it;
  /// concats already marked stay so.
  void placeConcats(Sharing sharing) {
    std::set<const void *> placed; // operands already a slice of an in-place concat
    auto place = [&](nn::ConcatOp cat) {
      cat->setAttr(kInPlaceAttr, b_.getUnitAttr());
      inPlace_.insert(cat);
      for (mlir::Value operand : cat.inputs())
        placed.insert(operand.getAsOpaquePointer());
    };
    auto sharedOperand = [&](mlir::Value operand, nn::ConcatOp cat) {
      if (sharing == Sharing::None)
        return false;
      for (mlir::Operation *user : operand.getUsers()) // (a slice is no view's owner)
        if (isView(user) || mlir::isa<mlir::ReturnOp>(user))
          return false;
      if (sharing == Sharing::SameStorage && storedDType(operand) != storedDType(cat.result()))
        return false;
      auto inner = operand.getDefiningOp<nn::ConcatOp>();
      return !inner || inPlace_.count(inner) != 0;
    };
    func_.walk([&](nn::ConcatOp cat) {
      if (cat->hasAttr(kInPlaceAttr))
        return place(cat);
      auto type = cat.result().getType().cast<mlir::RankedTensorType>();
      if (cat.axis() != 1 || type.getRank() != 4)
        return;
      std::set<const void *> seen;
      for (mlir::Value operand : cat.inputs()) {
        mlir::Operation *def = operand.getDefiningOp();
        if (!def || isView(def) || placed.count(operand.getAsOpaquePointer()) ||
            !seen.insert(operand.getAsOpaquePointer()).second)
          return;
        bool sole = operand.hasOneUse() && !mlir::isa<nn::ConcatOp>(def);
        if (!sole && !sharedOperand(operand, cat))
          return;
      }
      place(cat);
    });
  }

  /// The ops of each step that stores a tensor, in program order: an
  /// anchor and the activations it absorbed, or an in-place concat alone.
  std::vector<std::vector<mlir::Operation *>> storingSteps() {
    std::vector<std::vector<mlir::Operation *>> steps;
    std::set<mlir::Operation *> absorbed;
    for (mlir::Operation &opRef : func_.getBody().front()) {
      mlir::Operation *op = &opRef;
      if (mlir::isa<mlir::ReturnOp>(op) || isView(op) || absorbed.count(op))
        continue;
      steps.push_back(inPlace_.count(op) ? std::vector<mlir::Operation *>{op}
                                         : stepChain(op, result_));
      absorbed.insert(steps.back().begin() + 1, steps.back().end());
    }
    return steps;
  }

  /// Every op of a step writes the layout of the step's result (the
  /// activations it absorbed are never stored); a concat's producers write
  /// its layout, into its slices.
  bool planLayouts() {
    std::map<const void *, mlir::Operation *> sliceOf; // operand -> its in-place concat
    for (mlir::Operation *cat : inPlace_)
      for (mlir::Value operand : cat->getOperands())
        sliceOf[operand.getAsOpaquePointer()] = cat;
    for (const std::vector<mlir::Operation *> &chain : storingSteps()) {
      mlir::Value end = chain.back()->getResult(0);
      if (channelsOf(end) == 0)
        continue;
      auto slice = sliceOf.find(end.getAsOpaquePointer());
      std::optional<Layout> layout;
      if (!layoutWritten(chain.back(), layout))
        return false;
      if (slice != sliceOf.end()) {
        std::optional<Layout> concat;
        if (!layoutWritten(slice->second, concat))
          return false;
        Layout written = concat.value_or(chosenLayout(slice->second->getResult(0)));
        if (layout && *layout != written) {
          chain.back()->emitError() << kLayoutAttr << " differs from that of the concat it "
                                    << "writes in place (" << layoutName(written) << ")";
          return false;
        }
        layout = written;
      }
      if (!layout)
        layout = chosenLayout(end);
      for (mlir::Operation *member : chain)
        member->setAttr(kLayoutAttr, b_.getStringAttr(layoutName(*layout)));
    }
    return true;
  }


  /// The layout written on `op` in the IR, if any, into `layout`: "nchw"
  /// or "nhwc", and NCHW where the caller or a flatten reads the tensor.
  /// False after an error.
  bool layoutWritten(mlir::Operation *op, std::optional<Layout> &layout) {
    mlir::Attribute attr = op->getAttr(kLayoutAttr);
    if (!attr)
      return true;
    auto name = attr.dyn_cast<mlir::StringAttr>();
    if (!name || (name.getValue() != "nchw" && name.getValue() != "nhwc")) {
      op->emitError() << kLayoutAttr << " is " << attr << ", expected \"nchw\" or \"nhwc\"";
      return false;
    }
    if (name.getValue() == "nhwc" && nchw_.count(op->getResult(0).getAsOpaquePointer())) {
      op->emitError() << kLayoutAttr << " is \"nhwc\", but this tensor is the network's output "
                      << "or read by a flatten, which take NCHW";
      return false;
    }
    layout = name.getValue() == "nhwc" ? Layout::NHWC : Layout::NCHW;
    return true;
  }

  /// Why `op` (a conv or (channel) linear) cannot compute in BF16 or INT8
  /// on this target ("" when it can).
  std::string whyNotReduced(mlir::Operation *op) const {
    if (target_.gpu())
      return std::string("the ") + target_.isaName() + " templates compute in fp32 only";
    if (mlir::isa<nn::LinearOp>(op))
      return "";
    if (mlir::isa<nn::ChannelLinearOp>(op) && op->getResult(0).getType().cast<mlir::RankedTensorType>().getRank() != 4)
      return "a channel linear over [N, F] computes in fp32 only";
    ConvShape conv = convShapeOf(op);
    if (conv.groups != 1)
      return "grouped convs compute in fp32 only";
    // The widest vector's, on every x86 variant: they reduce the same layers.
    if (conv.cout < kReducedChannels)
      return "fewer output channels (" + std::to_string(conv.cout) + ") than an AVX-512 vector (" +
             std::to_string(kReducedChannels) + "): conv.rows computes in fp32 only";
    return "";
  }

  /// Whether `linear` is the classifier's last layer: its result reaches
  /// the network's output through views, activations and softmax only.
  bool isLastLinear(mlir::Operation *linear) const {
    mlir::Value v = linear->getResult(0);
    while (v != result_) {
      if (!v.hasOneUse())
        return false;
      mlir::Operation *user = *v.getUsers().begin();
      if (!isView(user) && !isActivation(user) && !mlir::isa<nn::SoftmaxOp>(user))
        return false;
      v = user->getResult(0);
    }
    return true;
  }

  /// Each conv's and linear's operand precision (nn.precision): under
  /// --precision bf16, "bf16" where a BF16 template serves it, "fp32" for
  /// the others, the layers --fp32-layers names and the classifier's last
  /// linear (the logits, which top-1 and softmax read). A
  /// precision on the IR is checked and kept. Under fp32 nothing is
  /// written (absent means fp32).
  bool planPrecision() {
    bool reduced = options_.precision != Precision::FP32;
    const char *reducedName = options_.precision == Precision::INT8 ? "int8" : "bf16";
    std::vector<bool> used(options_.fp32Layers.size(), false);
    bool ok = true;
    func_.walk([&](mlir::Operation *op) {
      if (!ok || !nn::takesPrecision(op))
        return;
      std::string path = modulePath(op);
      bool keep = false;
      for (size_t i = 0; i < options_.fp32Layers.size(); ++i) {
        const std::string &prefix = options_.fp32Layers[i];
        if (path == prefix || (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                               path[prefix.size()] == '.')) {
          keep = true;
          used[i] = true;
        }
      }
      if (mlir::Attribute attr = op->getAttr(kPrecisionAttr)) {
        auto name = attr.dyn_cast<mlir::StringAttr>();
        if (!name || (name.getValue() != "bf16" && name.getValue() != "int8" &&
                      name.getValue() != "fp32")) {
          op->emitError() << kPrecisionAttr << " is " << attr
                          << ", expected \"bf16\", \"int8\" or \"fp32\"";
          ok = false;
        } else if (name.getValue() != "fp32" && !whyNotReduced(op).empty()) {
          op->emitError() << kPrecisionAttr << " is " << name << ", but " << whyNotReduced(op);
          ok = false;
        }
        return;
      }
      if (!reduced)
        return;
      bool lower = !keep && whyNotReduced(op).empty() &&
                   !(mlir::isa<nn::LinearOp>(op) && isLastLinear(op));
      op->setAttr(kPrecisionAttr, b_.getStringAttr(lower ? reducedName : "fp32"));
    });
    for (size_t i = 0; ok && i < used.size(); ++i)
      if (!used[i]) {
        func_.emitError() << "--fp32-layers names '" << options_.fp32Layers[i]
                          << "', which is no conv or linear layer of " << func_.getName()
                          << " nor a prefix of one (module paths as --summary prints them)";
        ok = false;
      }
    return ok;
  }

  /// Which stored tensors are kept in BF16 (nn.storage = "bf16" on the op
  /// that writes them; derived from nn.precision, so recomputed here):
  /// those that every reader takes as BF16 anyway, that
  /// is BF16 convs and linears, and pools, sums and concats whose own
  /// results are BF16 (max pool and concat move BF16 values exactly). What
  /// the caller, an FP32 layer or softmax reads stays float32, so a layer
  /// kept in FP32 sees its input unrounded. Decided from the output back;
  /// a producer that writes an in-place concat's slice stores as the concat.
  bool planStorage() {
    func_.walk([&](mlir::Operation *op) { op->removeAttr(kStorageAttr); });
    bool bf16Layers = false, int8Layers = false;
    func_.walk([&](mlir::Operation *op) {
      bf16Layers = bf16Layers || computesInBf16(op);
      int8Layers = int8Layers || computesInInt8(op);
    });
    if (bf16Layers && int8Layers) {
      func_.emitError() << "layers of both bf16 and int8 " << kPrecisionAttr
                        << " in one network: give one reduced precision";
      return false;
    }
    if (!bf16Layers && !int8Layers)
      return true;
    // The reduced type: BF16, or u8 (INT8 layers' activations).
    auto computesReduced = int8Layers ? computesInInt8 : computesInBf16;
    const char *storage = int8Layers ? "u8" : "bf16";
    std::vector<mlir::Operation *> writers; // each stored value's op, in order
    for (const std::vector<mlir::Operation *> &chain : storingSteps())
      writers.push_back(chain.back());
    std::map<mlir::Operation *, mlir::Operation *> concatOf; // slice writer -> concat
    for (mlir::Operation *cat : inPlace_)
      for (mlir::Value operand : cat->getOperands())
        if (mlir::Operation *def = operand.getDefiningOp())
          concatOf[def] = cat;
    std::set<mlir::Operation *> bf16;
    std::function<bool(mlir::Value)> readInBf16 = [&](mlir::Value v) {
      bool all = !v.use_empty();
      for (mlir::Operation *user : v.getUsers()) {
        if (isView(user))
          all = all && readInBf16(user->getResult(0));
        else if (nn::takesPrecision(user))
          all = all && computesReduced(user);
        else if (mlir::isa<mlir::ReturnOp>(user))
          all = false; // the caller's output is float32
        else // pools, sums, concats, ...: compute in fp32, store as they are read
          all = all && bf16.count(stepEnd(user));
      }
      return all;
    };
    for (auto it = writers.rbegin(); it != writers.rend(); ++it) {
      mlir::Operation *op = *it;
      auto cat = concatOf.find(op);
      bool stored = cat != concatOf.end() ? bf16.count(cat->second) != 0
                                          : readInBf16(op->getResult(0));
      if (stored) {
        bf16.insert(op);
        op->setAttr(kStorageAttr, b_.getStringAttr(storage));
      }
    }
    return true;
  }

  /// INT8: the quantization (nn.quant) of every tensor stored as u8 and of
  /// every tensor an INT8 layer reads, from options.qparams by the tensor's
  /// key (the module path of the step that writes it, "input" for the
  /// input), except where the values are shared: a pool on a quantized
  /// input keeps its input's (max pool then moves u8 codes as they are),
  /// and the producers of an in-place concat write with the concat's. One
  /// written on the IR is kept. Every key of options.qparams must name a
  /// tensor of the network.
  bool planQuantization() {
    std::map<mlir::Operation *, std::string> keyOf; // the op storing a tensor -> its key
    std::set<std::string> keys = {"input"};
    std::vector<mlir::Operation *> writers;
    for (const std::vector<mlir::Operation *> &chain : storingSteps()) {
      keyOf[chain.back()] = modulePath(chain.front());
      keys.insert(keyOf[chain.back()]);
      writers.push_back(chain.back());
    }
    for (auto &[key, q] : options_.qparams)
      if (!keys.count(key)) {
        func_.emitError() << options_.qparamsSource << ": '" << key << "' names no tensor of "
                          << func_.getName()
                          << " (keys are the module paths of the steps that write them, as "
                             "netc calibrate writes them for this network)";
        return false;
      }
    std::set<const void *> needed; // values an INT8 layer reads (its input)
    func_.walk([&](mlir::Operation *op) {
      if (computesInInt8(op))
        needed.insert(viewOwner(op->getOperand(0)).getAsOpaquePointer());
    });
    auto quantAttr = [&](const QParams &q) {
      return b_.getDictionaryAttr(
          {b_.getNamedAttr("scale", b_.getF64FloatAttr(q.scale)),
           b_.getNamedAttr("zero_point", b_.getI64IntegerAttr(q.zeroPoint))});
    };
    auto lookUp = [&](const std::string &key, mlir::Operation *at) -> std::optional<QParams> {
      auto found = options_.qparams.find(key);
      if (found != options_.qparams.end())
        return found->second;
      mlir::InFlightDiagnostic d = at->emitError();
      d << "INT8 needs the quantization of tensor '" << key << "'";
      if (options_.qparamsSource.empty())
        d << ": give --qparams Q.json (written by netc calibrate)";
      else
        d << ", which " << options_.qparamsSource
          << " does not have (calibrated for another network or other options?)";
      return std::nullopt;
    };
    mlir::Value input = func_.getArgument(0);
    if (needed.count(input.getAsOpaquePointer()) && !func_.getArgAttr(0, kQuantAttr)) {
      std::optional<QParams> q = lookUp("input", func_);
      if (!q)
        return false;
      func_.setArgAttr(0, kQuantAttr, quantAttr(*q));
    }
    std::map<mlir::Operation *, mlir::Operation *> concatOf; // slice writer -> concat
    for (mlir::Operation *cat : inPlace_)
      for (mlir::Value operand : cat->getOperands())
        if (mlir::Operation *def = operand.getDefiningOp())
          concatOf[def] = cat;
    // Concats first, the outermost (the last) first: their producers,
    // earlier in the function, an inner concat among them, take theirs.
    std::vector<mlir::Operation *> ordered;
    for (auto it = writers.rbegin(); it != writers.rend(); ++it)
      if (inPlace_.count(*it))
        ordered.push_back(*it);
    for (mlir::Operation *op : writers)
      if (!inPlace_.count(op))
        ordered.push_back(op);
    for (mlir::Operation *op : ordered) {
      mlir::Value v = op->getResult(0);
      bool wanted = storedDType(v) == DType::U8 || needed.count(v.getAsOpaquePointer());
      if (!wanted || op->hasAttr(kQuantAttr))
        continue;
      auto cat = concatOf.find(op);
      if (cat != concatOf.end()) {
        if (mlir::Attribute shared = cat->second->getAttr(kQuantAttr)) {
          op->setAttr(kQuantAttr, shared);
          continue;
        }
      } else if (mlir::isa<nn::MaxPool2dOp, nn::AvgPool2dOp, nn::AdaptiveAvgPool2dOp>(op)) {
        if (std::optional<QParams> q = quantOf(op->getOperand(0))) {
          op->setAttr(kQuantAttr, quantAttr(*q));
          continue;
        }
      }
      std::optional<QParams> q = lookUp(keyOf[op], op);
      if (!q)
        return false;
      op->setAttr(kQuantAttr, quantAttr(*q));
    }
    return true;
  }

  /// The op whose result the step that `anchor` starts stores.
  mlir::Operation *stepEnd(mlir::Operation *anchor) const {
    if (inPlace_.count(anchor))
      return anchor;
    return stepChain(anchor, result_).back();
  }

  /// Each step's template: the first of its family that fits, with the
  /// parameters it chooses; a plan on the IR names its template, and its
  /// parameters override the chosen ones.
  bool planTemplates() {
    std::set<mlir::Operation *> absorbed;
    for (mlir::Operation &opRef : func_.getBody().front()) {
      mlir::Operation *op = &opRef;
      if (mlir::isa<mlir::ReturnOp>(op) || isView(op) || absorbed.count(op) ||
          inPlace_.count(op))
        continue;
      std::vector<mlir::Operation *> chain = stepChain(op, result_);
      absorbed.insert(chain.begin() + 1, chain.end());
      llvm::ArrayRef<Template> family = templatesFor(op);
      if (family.empty())
        continue; // lowering says it has no lowering for it
      if (family.size() == 1 && !family[0].plan)
        continue; // one way, nothing to choose
      if (!planOp(op, family))
        return false;
    }
    return true;
  }

  bool planOp(mlir::Operation *op, llvm::ArrayRef<Template> family) {
    auto written = op->getAttrOfType<mlir::DictionaryAttr>(kPlanAttr);
    if (op->hasAttr(kPlanAttr) && !written) {
      op->emitError() << kPlanAttr << " must be a dictionary {template = \"...\", ...}";
      return false;
    }
    const Template *chosen = nullptr;
    std::string names;
    for (const Template &t : family)
      names += (names.empty() ? "'" : ", '") + std::string(t.name) + "'";
    if (written) {
      auto name = written.getAs<mlir::StringAttr>("template");
      chosen = name ? templateNamed(op, name.getValue()) : nullptr;
      if (!chosen) {
        op->emitError() << kPlanAttr << " names "
                        << (name ? "template '" + name.getValue().str() + "'"
                                 : std::string("no template"))
                        << "; " << op->getName() << " has " << names;
        return false;
      }
      if (!chosen->fits(op, ctx_)) {
        op->emitError() << kPlanAttr << " names template '" << chosen->name
                        << "', which does not fit this op on " << target_.isaName()
                        << " with its operands' layouts";
        return false;
      }
    } else {
      for (const Template &t : family)
        if (t.fits(op, ctx_)) {
          chosen = &t;
          break;
        }
      if (!chosen) {
        op->emitError() << "no template of " << op->getName() << " (" << names << ") fits it on "
                        << target_.isaName();
        return false;
      }
    }
    // The chosen parameters, overridden by those written on the IR.
    PlanContext opCtx = ctx_;
    opCtx.written = written;
    PlanParams params = chosen->plan ? chosen->plan(op, opCtx, b_) : PlanParams();
    llvm::SmallVector<mlir::NamedAttribute> entries = {
        b_.getNamedAttr("template", b_.getStringAttr(chosen->name))};
    for (auto &[key, value] : params) {
      mlir::Attribute given = written ? written.get(key) : mlir::Attribute();
      entries.push_back(b_.getNamedAttr(key, given ? given : value));
    }
    if (written)
      for (mlir::NamedAttribute entry : written) {
        llvm::StringRef key = entry.getName().getValue();
        bool known = key == "template";
        for (auto &p : params)
          known = known || p.first == key;
        if (!known) {
          std::string taken;
          for (auto &p : params)
            taken += (taken.empty() ? "" : ", ") + p.first;
          op->emitError() << kPlanAttr << ": template '" << chosen->name
                          << "' has no parameter '" << key << "'"
                          << (taken.empty() ? std::string(" (it takes none)")
                                            : " (it takes " + taken + ")");
          return false;
        }
      }
    mlir::DictionaryAttr plan = b_.getDictionaryAttr(entries);
    if (chosen->check) {
      std::string problem = chosen->check(op, ctx_, plan);
      if (!problem.empty()) {
        op->emitError() << kPlanAttr << " (template '" << chosen->name << "'): " << problem;
        return false;
      }
    }
    op->setAttr(kPlanAttr, plan);
    return true;
  }

  mlir::FuncOp func_;
  const LowerOptions &options_;
  TargetInfo target_;
  PlanContext ctx_;
  mlir::Builder b_;
  mlir::Value result_;
  std::set<const void *> nchw_;
  std::set<mlir::Operation *> inPlace_;
};

struct PlanPass : public mlir::PassWrapper<PlanPass, mlir::OperationPass<mlir::ModuleOp>> {
  PlanPass() = default;
  PlanPass(const PlanPass &other) : PassWrapper(other) {}
  llvm::StringRef getArgument() const final { return "nn-plan"; }
  llvm::StringRef getDescription() const final {
    return "Writes each op's layout (nn.layout) and template (nn.plan) for a target";
  }
  void runOnOperation() override {
    LowerOptions options;
    std::string error;
    if (!Halide::Target::validate_target_string(targetString)) {
      getOperation().emitError() << "nn-plan: '" << targetString << "' is not a Halide target";
      return signalPassFailure();
    }
    options.target = Halide::Target(targetString);
    options.winograd = winograd;
    if (precision != "fp32" && precision != "bf16" && precision != "int8") {
      getOperation().emitError() << "nn-plan: precision '" << precision
                                 << "' is not one of fp32, bf16, int8";
      return signalPassFailure();
    }
    // INT8 here takes each tensor's nn.quant from the IR (there is no Q.json).
    options.precision = precision == "bf16"   ? Precision::BF16
                        : precision == "int8" ? Precision::INT8
                                              : Precision::FP32;
    options.fp32Layers.assign(fp32Layers.begin(), fp32Layers.end());
    if (!plan(getOperation(), options))
      signalPassFailure();
  }
  Option<std::string> targetString{*this, "target",
                                   llvm::cl::desc("Halide target (default: host)"),
                                   llvm::cl::init("host")};
  Option<bool> winograd{*this, "winograd",
                        llvm::cl::desc("Whether Winograd templates may be chosen"),
                        llvm::cl::init(true)};
  Option<std::string> precision{*this, "precision",
                                llvm::cl::desc("Operand precision of convs and linears: fp32, "
                                               "bf16 or int8"),
                                llvm::cl::init("fp32")};
  ListOption<std::string> fp32Layers{*this, "fp32-layers",
                                     llvm::cl::desc("Module paths kept in fp32 under bf16"),
                                     llvm::cl::ZeroOrMore, llvm::cl::MiscFlags::CommaSeparated};
};

} // namespace

bool plan(mlir::ModuleOp module, const LowerOptions &options) {
  for (mlir::FuncOp func : module.getOps<mlir::FuncOp>())
    if (!func.isExternal() && !Planner(func, options).run())
      return false;
  return true;
}

std::unique_ptr<mlir::Pass> createPlanPass() { return std::make_unique<PlanPass>(); }

void registerPlanPass() { mlir::PassRegistration<PlanPass>(); }

} // namespace netc::lowering
