//===- Templates.h - The templates each op family offers ---------*- C++ -*-===//
//
// A template is one way to compute an op: whether it fits the op on a
// target, the parameters the planner chooses for it, a check of parameters
// written by hand, and the algorithm with its schedule (CPU or GPU). Each
// op family lists its templates, in the order the planner tries them, in
// one table (Templates.cpp); the planner (Planner.cpp) writes its choice
// on the op as `nn.plan = {template = "conv.winograd", tile = 4, ...}` and
// lowering only reads it, so a plan already on the IR (a test's, or a
// user's through netc-opt) wins.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_LIB_LOWERING_TEMPLATES_H
#define NETC_LIB_LOWERING_TEMPLATES_H

#include "Emit.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Operation.h"

#include "llvm/ADT/ArrayRef.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace netc::lowering {

/// The attribute names the planner writes (NNDialect.h).
using nn::kInPlaceAttr;
using nn::kLayoutAttr;
using nn::kPlanAttr;
using nn::kPrecisionAttr;
using nn::kStorageAttr;

/// What the planner knows when it plans an op.
struct PlanContext {
  const TargetInfo &target;
  bool winograd = true; // whether Winograd templates may be chosen
  /// BF16 convs by vdpbf16ps (true), by float32 FMAs on widened BF16
  /// (false), or as the target's facts say (none).
  std::optional<bool> bf16Dot;
  /// LowerOptions::fusions: an expansion its depthwise conv computes
  /// (expansionReader) is planned for that.
  bool fusions = true;
  /// The plan written on the op, if any: a template's `plan` builds its
  /// defaults around the choices written there (row tasks written over a
  /// planner's channel blocks get a default rows_per_task).
  mlir::DictionaryAttr written;
};

/// A template's parameters, by name; integers, bools and strings.
using PlanParams = std::vector<std::pair<std::string, mlir::Attribute>>;

struct Template {
  const char *name; // "conv.direct": the plan's `template`
  /// Whether it can serve `op` on this target, with its operands' layouts.
  bool (*fits)(mlir::Operation *op, const PlanContext &ctx);
  /// The parameters the planner chooses (none: null). `b` makes attributes.
  PlanParams (*plan)(mlir::Operation *op, const PlanContext &ctx, mlir::Builder &b);
  /// "" when `plan` (the planner's, or one written in the IR) can be used
  /// for `op`, else what is wrong with it, naming the parameter.
  std::string (*check)(mlir::Operation *op, const PlanContext &ctx, mlir::DictionaryAttr plan);
  /// The algorithm and its schedule; ctx.plan is the op's plan.
  Halide::Func (*emit)(mlir::Operation *op, EmitContext &ctx);
};

/// The templates that may serve `op`, in the planner's order (empty: the
/// code generator has no lowering for it).
llvm::ArrayRef<Template> templatesFor(mlir::Operation *op);
/// The template of `op` named `name`, or null.
const Template *templateNamed(mlir::Operation *op, llvm::StringRef name);

/// Ops that move no data (flatten, dropout): their result is a view.
bool isView(mlir::Operation *op);
bool isActivation(mlir::Operation *op);
/// The ops one step computes: `anchor`, then the activations that only it
/// (and each in turn) feeds, up to the function's `result`.
std::vector<mlir::Operation *> stepChain(mlir::Operation *anchor, mlir::Value result);

/// The conv that alone reads `conv`'s result, through activations only
/// each the only reader of the one before, where `conv` is an inverted
/// residual block's expansion: a 1x1, stride-1, unpadded, ungrouped conv
/// with no residual sum, read by a depthwise conv (one input channel per
/// group) as its input; null where it is not. Lower.cpp computes such an
/// expansion inside the depthwise conv's tasks (conv.depthwise's staged
/// input) in FP32 and BF16 plans.
mlir::Operation *expansionReader(mlir::Operation *conv);

/// The value whose memory `value` is: views (flatten, dropout) lead to
/// their operand's.
mlir::Value viewOwner(mlir::Value value);
/// The module path of `op` ("layer1.0.conv1"), from its location; its op
/// name where it has none (hand-written IR).
std::string modulePath(mlir::Operation *op);
/// Whether `op` (a conv or linear) computes on BF16 (INT8) operands
/// (nn.precision).
bool computesInBf16(mlir::Operation *op);
bool computesInInt8(mlir::Operation *op);
/// Whether any op of `func` computes in BF16 or INT8 (an FP32 plan: none).
bool computesReduced(mlir::FuncOp func);
/// The element type a step that stores `value` stores it in: float32, or
/// BF16 / U8 as nn.storage on the op that defines its memory says.
DType storedDType(mlir::Value value);
/// The quantization of `value` (nn.quant on the op that defines its
/// memory, or on the function's argument for the input), if it has one.
std::optional<QParams> quantOf(mlir::Value value);
using nn::kQuantAttr;

/// "nchw" or "nhwc", as nn.layout spells it.
const char *layoutName(Layout layout);
/// A value's layout, as the planner recorded it on its defining op (a view
/// has its owner's; a function argument, the caller's input, is NCHW).
Layout layoutOf(mlir::Value value);
/// An integer parameter of a plan (the planner wrote every one, so a
/// missing one is a bug: checks run first).
int64_t planInt(mlir::DictionaryAttr plan, llvm::StringRef key);
std::string planString(mlir::DictionaryAttr plan, llvm::StringRef key);
/// A bool parameter; false where the plan has none (a template's optional
/// parameter, e.g. bf16_dot of an fp32 conv).
bool planBool(mlir::DictionaryAttr plan, llvm::StringRef key);
/// "" when `plan` holds a bool `key`, else the problem.
std::string checkBool(mlir::DictionaryAttr plan, llvm::StringRef key);
/// The written plan's integer (string) `key`, or `otherwise` where it has none.
int64_t writtenInt(const PlanContext &ctx, llvm::StringRef key, int64_t otherwise);
std::string writtenString(const PlanContext &ctx, llvm::StringRef key, llvm::StringRef otherwise);
/// "" when `plan` holds an integer `key` in [lo, hi], else the problem.
std::string checkInt(mlir::DictionaryAttr plan, llvm::StringRef key, int64_t lo, int64_t hi);
/// "" when `plan` holds `key` as one of `choices`, else the problem.
std::string checkChoice(mlir::DictionaryAttr plan, llvm::StringRef key,
                        llvm::ArrayRef<llvm::StringRef> choices);

/// "" when a register tile of `vectors` x `columns` accumulators (both
/// checked before) fits the target's accumulator registers, else the problem.
std::string checkAccumulators(mlir::DictionaryAttr plan, const TargetInfo &target);

// The templates, by family (their files).
Template convGpuTemplate();       // Gpu.cpp
Template convAmxTemplate();       // ConvAmx.cpp
Template convWinogradTemplate();  // Winograd.cpp
Template convDepthwiseTemplate(); // ConvDepthwise.cpp
Template convRowsTemplate();      // Conv.cpp
Template convDirectTemplate();    // Conv.cpp
Template linearGpuTemplate();     // Gpu.cpp
Template linearTemplate();        // Dense.cpp
Template channelLinearTemplate(); // Dense.cpp

} // namespace netc::lowering

#endif // NETC_LIB_LOWERING_TEMPLATES_H
