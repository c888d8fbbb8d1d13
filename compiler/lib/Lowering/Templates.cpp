//===- Templates.cpp - Every op family's templates, in one table ----------===//
//
// Adding a template is a line here and its four functions in its family's
// file; the planner tries a family's templates in this order and takes the
// first that fits, so the specialized come before the general.
//
//===----------------------------------------------------------------------===//
#include "Templates.h"

#include "llvm/ADT/StringMap.h"

namespace netc::lowering {

namespace {

bool always(mlir::Operation *, const PlanContext &) { return true; }

/// A template with no choices: one way to compute the op on every target
/// (its emitter schedules for the CPU or the GPU).
template <typename Op, Halide::Func (*emit)(Op, EmitContext &)>
Template only(const char *name) {
  return {name, always, nullptr, nullptr,
          [](mlir::Operation *op, EmitContext &ctx) { return emit(mlir::cast<Op>(op), ctx); }};
}

Template activation(const char *name) {
  return {name, always, nullptr, nullptr, [](mlir::Operation *op, EmitContext &ctx) {
            return emitActivation(op, ctx.inputs[0]);
          }};
}

const llvm::StringMap<std::vector<Template>> &families() {
  static const llvm::StringMap<std::vector<Template>> table = [] {
    std::vector<Template> conv = {convGpuTemplate(), convAmxTemplate(), convWinogradTemplate(),
                                  convDepthwiseTemplate(), convRowsTemplate(),
                                  convDirectTemplate()};
    llvm::StringMap<std::vector<Template>> t;
    t["nn.conv2d"] = conv;
    t["nn.fused_conv2d"] = conv;
    t["nn.linear"] = {linearGpuTemplate(), linearTemplate()};
    t["nn.max_pool2d"] = {only<nn::MaxPool2dOp, emitMaxPool2d>("pool.max")};
    t["nn.avg_pool2d"] = {only<nn::AvgPool2dOp, emitAvgPool2d>("pool.avg")};
    t["nn.adaptive_avg_pool2d"] = {
        only<nn::AdaptiveAvgPool2dOp, emitAdaptiveAvgPool2d>("pool.adaptive_avg")};
    t["nn.batch_norm"] = {only<nn::BatchNormOp, emitBatchNorm>("batch_norm")};
    t["nn.channel_affine"] = {only<nn::ChannelAffineOp, emitChannelAffine>("channel_affine")};
    t["nn.add"] = {only<nn::AddOp, emitAdd>("add")};
    t["nn.mul"] = {only<nn::MulOp, emitMul>("mul")};
    // A BF16 or INT8 channel linear is a 1x1 conv (convShapeOf, convWeight).
    t["nn.channel_linear"] = {convAmxTemplate(), channelLinearTemplate(), convDirectTemplate()};
    t["nn.layer_norm"] = {only<nn::LayerNormOp, emitLayerNorm>("layer_norm")};
    t["nn.channel_scale"] = {only<nn::ChannelScaleOp, emitChannelScale>("channel_scale")};
    t["nn.gelu"] = {activation("gelu")};
    t["nn.narrow"] = {only<nn::NarrowOp, emitNarrow>("narrow")};
    t["nn.channel_shuffle"] = {only<nn::ChannelShuffleOp, emitChannelShuffle>("channel_shuffle")};
    t["nn.concat"] = {only<nn::ConcatOp, emitConcat>("concat")};
    t["nn.softmax"] = {only<nn::SoftmaxOp, emitSoftmax>("softmax")};
    t["nn.pad"] = {only<nn::PadOp, emitPad>("pad")};
    t["nn.local_response_norm"] = {
        only<nn::LocalResponseNormOp, emitLocalResponseNorm>("local_response_norm")};
    t["nn.relu"] = {activation("relu")};
    t["nn.sigmoid"] = {activation("sigmoid")};
    t["nn.tanh"] = {activation("tanh")};
    t["nn.hardtanh"] = {activation("hardtanh")};
    t["nn.hardswish"] = {activation("hardswish")};
    t["nn.leaky_relu"] = {activation("leaky_relu")};
    t["nn.hardsigmoid"] = {activation("hardsigmoid")};
    t["nn.silu"] = {activation("silu")};
    return t;
  }();
  return table;
}

mlir::Attribute entry(mlir::DictionaryAttr plan, llvm::StringRef key) {
  return plan ? plan.get(key) : mlir::Attribute();
}

} // namespace

llvm::ArrayRef<Template> templatesFor(mlir::Operation *op) {
  auto it = families().find(op->getName().getStringRef());
  return it == families().end() ? llvm::ArrayRef<Template>() : llvm::makeArrayRef(it->second);
}

const Template *templateNamed(mlir::Operation *op, llvm::StringRef name) {
  for (const Template &t : templatesFor(op))
    if (name == t.name)
      return &t;
  return nullptr;
}

bool isView(mlir::Operation *op) { return mlir::isa<nn::FlattenOp, nn::DropoutOp>(op); }

bool isActivation(mlir::Operation *op) {
  return mlir::isa<nn::ReluOp, nn::SigmoidOp, nn::TanhOp, nn::HardtanhOp, nn::HardswishOp,
                   nn::HardsigmoidOp, nn::SiluOp, nn::GeluOp, nn::LeakyReluOp>(op);
}

std::vector<mlir::Operation *> stepChain(mlir::Operation *anchor, mlir::Value result) {
  std::vector<mlir::Operation *> chain = {anchor};
  mlir::Value out = anchor->getResult(0);
  while (out != result && out.hasOneUse() && isActivation(*out.getUsers().begin())) {
    chain.push_back(*out.getUsers().begin());
    out = chain.back()->getResult(0);
  }
  return chain;
}

mlir::Operation *expansionReader(mlir::Operation *conv) {
  if (!mlir::isa<nn::Conv2dOp, nn::FusedConv2dOp>(conv))
    return nullptr;
  if (auto fused = mlir::dyn_cast<nn::FusedConv2dOp>(conv); fused && !fused.residuals().empty())
    return nullptr;
  ConvShape shape = convShapeOf(conv);
  bool pointwise = shape.groups == 1 && shape.kernel[0] == 1 && shape.kernel[1] == 1 &&
                   shape.stride[0] == 1 && shape.stride[1] == 1 && shape.pad[0] == 0 &&
                   shape.pad[1] == 0;
  mlir::Value value = conv->getResult(0);
  while (pointwise && value.hasOneUse()) {
    mlir::Operation *user = *value.getUsers().begin();
    if (isActivation(user)) {
      value = user->getResult(0);
      continue;
    }
    if (!mlir::isa<nn::Conv2dOp, nn::FusedConv2dOp>(user) || user->getOperand(0) != value)
      return nullptr;
    ConvShape reader = convShapeOf(user);
    return reader.cin == 1 && reader.groups == reader.cout ? user : nullptr;
  }
  return nullptr;
}

mlir::Value viewOwner(mlir::Value value) {
  while (mlir::Operation *def = value.getDefiningOp()) {
    if (!isView(def))
      break;
    value = def->getOperand(0);
  }
  return value;
}

std::string modulePath(mlir::Operation *op) {
  if (auto name = op->getLoc().dyn_cast<mlir::NameLoc>())
    return name.getName().str();
  return op->getName().getStringRef().str();
}

bool computesInBf16(mlir::Operation *op) {
  auto precision = op->getAttrOfType<mlir::StringAttr>(kPrecisionAttr);
  return precision && precision.getValue() == "bf16";
}

bool computesInInt8(mlir::Operation *op) {
  auto precision = op->getAttrOfType<mlir::StringAttr>(kPrecisionAttr);
  return precision && precision.getValue() == "int8";
}

bool computesReduced(mlir::FuncOp func) {
  bool reduced = false;
  func.walk([&](mlir::Operation *op) {
    reduced = reduced || computesInBf16(op) || computesInInt8(op);
  });
  return reduced;
}

DType storedDType(mlir::Value value) {
  mlir::Operation *def = viewOwner(value).getDefiningOp();
  auto storage = def ? def->getAttrOfType<mlir::StringAttr>(kStorageAttr) : mlir::StringAttr();
  if (!storage)
    return DType::F32;
  return storage.getValue() == "bf16" ? DType::BF16 : DType::U8;
}

std::optional<QParams> quantOf(mlir::Value value) {
  mlir::Value owner = viewOwner(value);
  mlir::Attribute attr;
  if (mlir::Operation *def = owner.getDefiningOp())
    attr = def->getAttr(kQuantAttr);
  else if (auto arg = owner.dyn_cast<mlir::BlockArgument>())
    if (auto func = mlir::dyn_cast<mlir::FuncOp>(arg.getOwner()->getParentOp()))
      attr = func.getArgAttr(arg.getArgNumber(), kQuantAttr);
  QParams q;
  if (!attr || !nn::readQuant(attr, q.scale, q.zeroPoint))
    return std::nullopt;
  return q;
}

const char *layoutName(Layout layout) { return layout == Layout::NHWC ? "nhwc" : "nchw"; }

Layout layoutOf(mlir::Value value) {
  mlir::Operation *def = viewOwner(value).getDefiningOp();
  auto layout = def ? def->getAttrOfType<mlir::StringAttr>(kLayoutAttr) : mlir::StringAttr();
  return layout && layout.getValue() == "nhwc" ? Layout::NHWC : Layout::NCHW;
}

int64_t planInt(mlir::DictionaryAttr plan, llvm::StringRef key) {
  return entry(plan, key).cast<mlir::IntegerAttr>().getInt();
}

std::string planString(mlir::DictionaryAttr plan, llvm::StringRef key) {
  return entry(plan, key).cast<mlir::StringAttr>().getValue().str();
}

bool planBool(mlir::DictionaryAttr plan, llvm::StringRef key) {
  auto value = entry(plan, key).dyn_cast_or_null<mlir::BoolAttr>();
  return value && value.getValue();
}

std::string checkBool(mlir::DictionaryAttr plan, llvm::StringRef key) {
  return entry(plan, key).dyn_cast_or_null<mlir::BoolAttr>()
             ? ""
             : "parameter '" + key.str() + "' must be true or false";
}

int64_t writtenInt(const PlanContext &ctx, llvm::StringRef key, int64_t otherwise) {
  auto value = entry(ctx.written, key).dyn_cast_or_null<mlir::IntegerAttr>();
  return value ? value.getInt() : otherwise;
}

std::string writtenString(const PlanContext &ctx, llvm::StringRef key, llvm::StringRef otherwise) {
  auto value = entry(ctx.written, key).dyn_cast_or_null<mlir::StringAttr>();
  return (value ? value.getValue() : otherwise).str();
}

std::string checkInt(mlir::DictionaryAttr plan, llvm::StringRef key, int64_t lo, int64_t hi) {
  auto value = entry(plan, key).dyn_cast_or_null<mlir::IntegerAttr>();
  if (!value)
    return "parameter '" + key.str() + "' must be an integer";
  if (value.getInt() < lo || value.getInt() > hi)
    return "parameter '" + key.str() + "' is " + std::to_string(value.getInt()) +
           ", out of range for this op (" + std::to_string(lo) + " to " + std::to_string(hi) + ")";
  return "";
}

std::string checkChoice(mlir::DictionaryAttr plan, llvm::StringRef key,
                        llvm::ArrayRef<llvm::StringRef> choices) {
  auto value = entry(plan, key).dyn_cast_or_null<mlir::StringAttr>();
  std::string list;
  for (llvm::StringRef c : choices)
    list += (list.empty() ? "'" : ", '") + c.str() + "'";
  if (!value)
    return "parameter '" + key.str() + "' must be a string: " + list;
  for (llvm::StringRef c : choices)
    if (value.getValue() == c)
      return "";
  return "parameter '" + key.str() + "' is '" + value.getValue().str() + "', expected one of " +
         list;
}

std::string checkAccumulators(mlir::DictionaryAttr plan, const TargetInfo &target) {
  int64_t vectors = planInt(plan, "vectors"), columns = planInt(plan, "columns");
  if (vectors * columns <= target.accumulatorRegisters())
    return "";
  return "a register tile of vectors " + std::to_string(vectors) + " x columns " +
         std::to_string(columns) + " = " + std::to_string(vectors * columns) +
         " accumulators; " + target.isaName() + " has room for " +
         std::to_string(target.accumulatorRegisters()) + " (" +
         std::to_string(target.vectorRegisters) + " vector registers, less 4)";
}

} // namespace netc::lowering
