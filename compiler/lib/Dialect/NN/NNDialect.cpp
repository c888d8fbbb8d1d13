//===- NNDialect.cpp - The nn dialect and its verifiers -------------------===//
#include "netc/Dialect/NN/NNDialect.h"

#include "netc/Dialect/NN/NNShapes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Dialect/StandardOps/IR/Ops.h"

#include <cmath>
#include <map>

using namespace mlir;
using namespace netc::nn;

#include "netc/Dialect/NN/NNOpsDialect.cpp.inc"

void NNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "netc/Dialect/NN/NNOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// The checkpoint manifest (nn.weights)
//===----------------------------------------------------------------------===//

DictionaryAttr netc::nn::manifestEntry(Builder &b, StringRef key, StringRef dtype,
                                       ArrayRef<int64_t> shape) {
  return b.getDictionaryAttr({b.getNamedAttr("key", b.getStringAttr(key)),
                              b.getNamedAttr("dtype", b.getStringAttr(dtype)),
                              b.getNamedAttr("shape", b.getI64ArrayAttr(shape))});
}

bool netc::nn::takesPrecision(Operation *op) {
  return isa<Conv2dOp, FusedConv2dOp, LinearOp, ChannelLinearOp>(op);
}

bool netc::nn::readQuant(Attribute attr, double &scale, int64_t &zeroPoint) {
  auto dict = attr.dyn_cast<DictionaryAttr>();
  if (!dict || dict.size() != 2)
    return false;
  auto s = dict.getAs<FloatAttr>("scale");
  auto z = dict.getAs<IntegerAttr>("zero_point");
  if (!s || !z)
    return false;
  scale = s.getValueAsDouble();
  zeroPoint = z.getInt();
  return std::isfinite(scale) && scale > 0 && zeroPoint >= 0 && zeroPoint <= 255;
}

bool netc::nn::readManifestEntry(Attribute entry, std::string &key, std::string &dtype,
                                 std::vector<int64_t> &shape) {
  auto dict = entry.dyn_cast<DictionaryAttr>();
  if (!dict || dict.size() != 3)
    return false;
  auto k = dict.getAs<StringAttr>("key");
  auto d = dict.getAs<StringAttr>("dtype");
  auto s = dict.getAs<ArrayAttr>("shape");
  if (!k || !d || !s || (d.getValue() != "F32" && d.getValue() != "I64"))
    return false;
  // Keys land in generated C (strings and comments): printable, no "*/".
  llvm::StringRef text = k.getValue();
  if (text.empty() || text.contains("*/") ||
      llvm::any_of(text, [](char c) { return c < 0x20 || c > 0x7e; }))
    return false;
  constexpr size_t kMaxRank = 8; // NETC_MAX_RANK of the runtime
  if (s.size() > kMaxRank)
    return false;
  shape.clear();
  for (Attribute dim : s) {
    auto i = dim.dyn_cast<IntegerAttr>();
    if (!i || !i.getType().isSignlessInteger(64) || i.getInt() < 0)
      return false;
    shape.push_back(i.getInt());
  }
  key = k.getValue().str();
  dtype = d.getValue().str();
  return true;
}

LogicalResult NNDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  // The planner's decisions: their form here, their sense in the planner.
  if (attr.getName() == kLayoutAttr) {
    auto layout = attr.getValue().dyn_cast<StringAttr>();
    auto type = op->getNumResults() == 1 ? op->getResult(0).getType().dyn_cast<RankedTensorType>()
                                         : RankedTensorType();
    if (!layout || (layout.getValue() != "nchw" && layout.getValue() != "nhwc"))
      return op->emitError() << "'" << kLayoutAttr << "' must be \"nchw\" or \"nhwc\", got "
                             << attr.getValue();
    if (!type || type.getRank() != 4)
      return op->emitError() << "'" << kLayoutAttr << "' belongs on an op with a rank-4 result";
    return success();
  }
  if (attr.getName() == kPlanAttr) {
    auto plan = attr.getValue().dyn_cast<DictionaryAttr>();
    if (!plan || !plan.getAs<StringAttr>("template"))
      return op->emitError() << "'" << kPlanAttr
                             << "' must be a dictionary naming its template: {template = "
                                "\"...\", ...}, got "
                             << attr.getValue();
    return success();
  }
  if (attr.getName() == kPrecisionAttr) {
    auto precision = attr.getValue().dyn_cast<StringAttr>();
    if (!precision || (precision.getValue() != "bf16" && precision.getValue() != "int8" &&
                       precision.getValue() != "fp32"))
      return op->emitError() << "'" << kPrecisionAttr
                             << "' must be \"bf16\", \"int8\" or \"fp32\", got "
                             << attr.getValue();
    if (!takesPrecision(op))
      return op->emitError() << "'" << kPrecisionAttr
                             << "' belongs on a conv, linear or channel_linear op";
    return success();
  }
  if (attr.getName() == kStorageAttr) {
    auto storage = attr.getValue().dyn_cast<StringAttr>();
    if (!storage || (storage.getValue() != "bf16" && storage.getValue() != "u8") ||
        op->getNumResults() != 1)
      return op->emitError() << "'" << kStorageAttr
                             << "' is \"bf16\" or \"u8\" on an op with one result, got "
                             << attr.getValue();
    return success();
  }
  if (attr.getName() == kQuantAttr) {
    double scale;
    int64_t zeroPoint;
    if (!readQuant(attr.getValue(), scale, zeroPoint) ||
        (op->getNumResults() != 1 && !isa<FuncOp>(op)))
      return op->emitError() << "'" << kQuantAttr
                             << "' is {scale = S : f64, zero_point = Z : i64} with S positive "
                                "and finite and Z in [0, 255], on an op with one result; got "
                             << attr.getValue();
    return success();
  }
  if (attr.getName() == kIsaAttr) {
    auto isa = attr.getValue().dyn_cast<StringAttr>();
    static const char *const known[] = {"avx2", "avx512", "avx512-vnni", "avx512-amx", "cuda",
                                        "opencl", "other"};
    bool ok = isa && mlir::isa<FuncOp>(op) &&
              llvm::is_contained(known, isa.getValue());
    if (!ok)
      return op->emitError() << "'" << kIsaAttr << "' is one of \"avx2\", \"avx512\", "
                             << "\"avx512-vnni\", \"avx512-amx\", \"cuda\", \"opencl\", "
                                "\"other\" on a function; got "
                             << attr.getValue();
    return success();
  }
  if (attr.getName() == kInPlaceAttr) {
    if (!isa<ConcatOp>(op) || !attr.getValue().isa<UnitAttr>())
      return op->emitError() << "'" << kInPlaceAttr << "' is a unit attribute of nn.concat";
    return success();
  }
  if (attr.getName() != kWeightsAttr)
    return op->emitError() << "unknown nn attribute '" << attr.getName().getValue() << "'";
  auto func = dyn_cast<FuncOp>(op);
  auto entries = attr.getValue().dyn_cast<ArrayAttr>();
  if (!func || !entries)
    return op->emitError() << "'" << kWeightsAttr << "' must be an array on a function";
  std::map<std::string, std::pair<std::string, std::vector<int64_t>>> byKey;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string key, dtype;
    std::vector<int64_t> shape;
    if (!readManifestEntry(entries[i], key, dtype, shape))
      return op->emitError() << "'" << kWeightsAttr << "' entry " << i
                             << " must be {key = \"printable text\", dtype = \"F32\" or "
                                "\"I64\", shape = [at most 8 non-negative i64]}, got "
                             << entries[i];
    if (!byKey.emplace(key, std::make_pair(dtype, shape)).second)
      return op->emitError() << "'" << kWeightsAttr << "' lists '" << key << "' twice";
  }
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto key = func.getArgAttrOfType<StringAttr>(i, kKeyAttr);
    if (!key)
      continue;
    auto found = byKey.find(key.getValue().str());
    auto type = func.getArgument(i).getType().dyn_cast<RankedTensorType>();
    if (found == byKey.end())
      return op->emitError() << "weight argument " << i << " ('" << key.getValue()
                             << "') is not in '" << kWeightsAttr << "'";
    if (!type || found->second.first != "F32" ||
        type.getShape() != llvm::makeArrayRef(found->second.second))
      return op->emitError() << "weight argument " << i << " ('" << key.getValue()
                             << "') has type " << func.getArgument(i).getType()
                             << " but '" << kWeightsAttr << "' lists it as "
                             << found->second.first << " "
                             << netc::nn::formatDims(found->second.second);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Verifiers: recompute the result shape and compare
//===----------------------------------------------------------------------===//

namespace {

llvm::ArrayRef<int64_t> shapeOf(Value v) { return v.getType().cast<RankedTensorType>().getShape(); }

/// Reads a [height, width] array attribute.
LogicalResult readPair(Operation *op, ArrayAttr attr, const char *name, int64_t out[2]) {
  if (attr.size() != 2)
    return op->emitOpError() << "'" << name << "' must have 2 elements, got " << attr.size();
  for (int i = 0; i < 2; ++i)
    out[i] = attr[i].cast<IntegerAttr>().getInt();
  return success();
}

LogicalResult checkResult(Operation *op, const ShapeOrError &inferred) {
  if (!inferred.ok())
    return op->emitOpError() << inferred.error;
  llvm::ArrayRef<int64_t> actual = shapeOf(op->getResult(0));
  if (actual != llvm::ArrayRef<int64_t>(inferred.shape))
    return op->emitOpError() << "result shape " << formatDims(actual)
                             << " does not match the inferred " << formatDims(inferred.shape);
  return success();
}

llvm::Optional<llvm::ArrayRef<int64_t>> optionalShape(Value v) {
  if (!v)
    return llvm::None;
  return shapeOf(v);
}

} // namespace

/// conv2d's rules, for nn.conv2d and nn.fused_conv2d (its convolution).
template <typename Op> static LogicalResult verifyConvolution(Op op) {
  Window w;
  llvm::ArrayRef<int64_t> weight = shapeOf(op.weight());
  if (weight.size() == 4) {
    w.kernel[0] = weight[2];
    w.kernel[1] = weight[3];
  }
  if (failed(readPair(op, op.stride(), "stride", w.stride)) ||
      failed(readPair(op, op.pad(), "pad", w.pad)) ||
      failed(readPair(op, op.dilation(), "dilation", w.dilation)))
    return failure();
  return checkResult(op, inferConv2d(shapeOf(op.input()), weight, optionalShape(op.bias()), w,
                                     op.groups()));
}

static LogicalResult verify(Conv2dOp op) { return verifyConvolution(op); }

static LogicalResult verify(FusedConv2dOp op) {
  if (failed(verifyConvolution(op)))
    return failure();
  // The epilogue: BatchNorm's four tensors with its eps, residuals of the
  // result's type, a known activation.
  if (!op.bn().empty() || op.bn_eps()) {
    if (op.bn().size() != 4 || !op.bn_eps())
      return op.emitOpError() << "a folded BatchNorm needs its 4 tensors (weight, bias, mean, "
                                 "variance) and 'bn_eps', got "
                              << op.bn().size() << " tensors"
                              << (op.bn_eps() ? "" : " and no 'bn_eps'");
    llvm::ArrayRef<int64_t> params[] = {shapeOf(op.bn()[0]), shapeOf(op.bn()[1]),
                                        shapeOf(op.bn()[2]), shapeOf(op.bn()[3])};
    const char *names[] = {"weight", "bias", "mean", "variance"};
    ShapeOrError bn = inferBatchNorm(shapeOf(op.result()), op.bn_eps()->convertToDouble(),
                                     params, names);
    if (!bn.ok())
      return op.emitOpError() << "folded BatchNorm: " << bn.error;
  }
  for (Value residual : op.residuals())
    if (residual.getType() != op.result().getType())
      return op.emitOpError() << "residual of type " << residual.getType()
                              << " does not match the result type " << op.result().getType();
  llvm::StringRef act = op.activation();
  if (act != "none" && act != "relu" && act != "sigmoid" && act != "tanh")
    return op.emitOpError() << "unknown activation '" << act
                            << "' (expected none, relu, sigmoid or tanh)";
  return success();
}

static LogicalResult verify(LinearOp op) {
  return checkResult(op, inferLinear(shapeOf(op.input()), shapeOf(op.weight()),
                                     optionalShape(op.bias())));
}

static LogicalResult verify(BatchNormOp op) {
  llvm::ArrayRef<int64_t> params[] = {shapeOf(op.weight()), shapeOf(op.bias()),
                                      shapeOf(op.mean()), shapeOf(op.variance())};
  const char *names[] = {"weight", "bias", "mean", "variance"};
  return checkResult(op, inferBatchNorm(shapeOf(op.input()), op.eps().convertToDouble(), params,
                                        names));
}

static LogicalResult verify(MaxPool2dOp op) {
  Window w;
  w.ceilMode = op.ceil_mode();
  if (failed(readPair(op, op.kernel(), "kernel", w.kernel)) ||
      failed(readPair(op, op.stride(), "stride", w.stride)) ||
      failed(readPair(op, op.pad(), "pad", w.pad)) ||
      failed(readPair(op, op.dilation(), "dilation", w.dilation)))
    return failure();
  return checkResult(op, inferPool2d(shapeOf(op.input()), w));
}

static LogicalResult verify(AvgPool2dOp op) {
  Window w;
  w.ceilMode = op.ceil_mode();
  if (failed(readPair(op, op.kernel(), "kernel", w.kernel)) ||
      failed(readPair(op, op.stride(), "stride", w.stride)) ||
      failed(readPair(op, op.pad(), "pad", w.pad)))
    return failure();
  return checkResult(op, inferPool2d(shapeOf(op.input()), w));
}

static LogicalResult verify(AdaptiveAvgPool2dOp op) {
  int64_t size[2];
  if (failed(readPair(op, op.output_size(), "output_size", size)))
    return failure();
  return checkResult(op, inferAdaptivePool2d(shapeOf(op.input()), size[0], size[1]));
}

static LogicalResult verify(DropoutOp op) {
  return checkResult(op, inferDropout(shapeOf(op.input()), op.p().convertToDouble()));
}

static LogicalResult verify(SoftmaxOp op) {
  return checkResult(op, inferSoftmax(shapeOf(op.input()), op.axis()));
}

static LogicalResult verify(LocalResponseNormOp op) {
  return checkResult(op, inferLocalResponseNorm(shapeOf(op.input()), op.size()));
}

static LogicalResult verify(ChannelAffineOp op) {
  return checkResult(op, inferChannelAffine(shapeOf(op.input()),
                                            static_cast<int64_t>(op.scale().size()),
                                            static_cast<int64_t>(op.shift().size())));
}

static LogicalResult verify(AddOp op) {
  llvm::SmallVector<llvm::ArrayRef<int64_t>, 4> shapes;
  for (Value v : op.inputs())
    shapes.push_back(shapeOf(v));
  return checkResult(op, inferAdd(shapes));
}

static LogicalResult verify(ChannelLinearOp op) {
  return checkResult(op, inferChannelLinear(shapeOf(op.input()), shapeOf(op.weight()),
                                            optionalShape(op.bias())));
}

static LogicalResult verify(LayerNormOp op) {
  return checkResult(op, inferLayerNorm(shapeOf(op.input()), op.eps().convertToDouble(),
                                        shapeOf(op.weight()), shapeOf(op.bias())));
}

static LogicalResult verify(ChannelScaleOp op) {
  return checkResult(op, inferChannelScale(shapeOf(op.input()), shapeOf(op.scale())));
}

static LogicalResult verify(NarrowOp op) {
  return checkResult(op, inferNarrow(shapeOf(op.input()), op.axis(), op.start(), op.length()));
}

static LogicalResult verify(PadOp op) {
  llvm::SmallVector<int64_t, 4> pads;
  for (mlir::Attribute a : op.pads())
    pads.push_back(a.cast<mlir::IntegerAttr>().getInt());
  return checkResult(op, inferPad(shapeOf(op.input()), pads));
}

static LogicalResult verify(ChannelShuffleOp op) {
  return checkResult(op, inferChannelShuffle(shapeOf(op.input()), op.groups()));
}

static LogicalResult verify(MulOp op) {
  return checkResult(op, inferMul(shapeOf(op.lhs()), shapeOf(op.rhs())));
}

static LogicalResult verify(HardtanhOp op) {
  double lo = op.min_val().convertToDouble(), hi = op.max_val().convertToDouble();
  if (!(lo <= hi))
    return op.emitOpError() << "max_val (" << hi << ") is below min_val (" << lo << ")";
  return success();
}

static LogicalResult verify(ConcatOp op) {
  llvm::SmallVector<llvm::ArrayRef<int64_t>, 4> shapes;
  for (Value v : op.inputs())
    shapes.push_back(shapeOf(v));
  return checkResult(op, inferConcat(shapes, op.axis()));
}

static LogicalResult verify(FlattenOp op) {
  return checkResult(op, inferFlatten(shapeOf(op.input()), op.start()));
}

#define GET_OP_CLASSES
#include "netc/Dialect/NN/NNOps.cpp.inc"

