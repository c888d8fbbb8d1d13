//===- Emit.h - Shared by the per-family Halide emitters ---------*- C++ -*-===//
//
// Each op family has one file that writes its algorithm, then its schedule.
// An emitter receives its operands as Funcs over Halide coordinates
// (x, y, c, n) or (f, n) and returns the op's Func; `schedule*` functions
// give the group's output Func its loop structure.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_LIB_LOWERING_EMIT_H
#define NETC_LIB_LOWERING_EMIT_H

#include "netc/Dialect/NN/NNDialect.h"
#include "netc/Lowering/Program.h"
#include "netc/Lowering/TargetInfo.h"

#include <Halide.h>

#include <functional>
#include <vector>

namespace netc::lowering {

/// The coordinates every emitter uses.
struct Vars {
  Halide::Var x{"x"}, y{"y"}, c{"c"}, n{"n"}, f{"f"};
};
const Vars &vars();
/// The coordinates of a tensor of this rank: (x, y, c, n) or (f, n).
std::vector<Halide::Var> coordsFor(size_t rank);

/// A weight an emitter wants computed once, at load (Program::packs): `func`
/// over the file weights it reads, of this static shape (outermost first).
struct PackRequest {
  Halide::Func func; // undefined: a constant pack (EmitContext::quant)
  std::vector<int64_t> shape;
  Halide::ImageParam param; // how the group's pipeline reads the result
  DType dtype = DType::F32; // the result's (func's) element type
};

/// What an emitter needs: its operands, their layouts, the target and the
/// op's plan; what it may give back: packs and its own schedule.
struct EmitContext {
  const TargetInfo *target = nullptr;
  mlir::DictionaryAttr plan; // the op's nn.plan (null for ops with one way)
  std::vector<Halide::Func> inputs;          // activations, in operand order
  std::vector<Halide::ImageParam> inputParams; // the buffers behind `inputs`
  std::vector<Halide::ImageParam> weights;   // the chain's weight operands, in order
  std::vector<std::vector<int64_t>> inputShapes; // NCHW / NF, batch as 1
  std::vector<Layout> inputLayouts;
  std::vector<int64_t> outputShape;          // the group's result, NCHW / NF
  Layout outputLayout = Layout::NCHW;
  int vectorWidth = 8; // target->lanes()
  /// A BatchNorm folded into a conv's packed weights (nn.fused_conv2d):
  /// its eps, and its four tensors are weights[bnFirst .. bnFirst + 4).
  llvm::Optional<double> bnEps;
  size_t bnFirst = 0;
  /// inputs[0] computes a prologue (a BatchNorm and activations) from the
  /// stored input: a template that reads an input element more than once
  /// stages it (Lower.cpp, prologueOf).
  bool prologue = false;
  /// inputs[0] is a 1x1 conv (with its activations) that the template
  /// computes per task, for the rows and channels the task reads, instead
  /// of reading a stored tensor (Lower.cpp, prologueOf: an inverted-residual
  /// block's expansion read by its depthwise conv). Given the anchor's
  /// output and its task loop, it schedules that stage there.
  std::function<void(Halide::Func consumer, Halide::Var task)> stageInput;
  /// The channels of the stage's register tiles (its last tile shifts
  /// inwards: a task must ask it for at least that many).
  int stageChannels = 1;
  /// The group's output is such a stage, computed inside another group's
  /// task loop: `schedule` gives it no parallel loop of its own and stores
  /// it channels innermost.
  bool nested = false;
  /// A GPU target: every stage of the group runs on the device (Gpu.cpp),
  /// so emitters give no CPU schedule of their own (target->gpu()).
  bool gpu = false;

  /// A step that reads or writes quantized tensors, or computes in INT8:
  /// its quantization parameters, [scale, zero point] of each activation
  /// input in operand order, then of the output (1 and 0 for a float32
  /// tensor no INT8 layer reads), read from a constant pack so that steps of
  /// equal shapes share one pipeline. Undefined otherwise.
  Halide::ImageParam quant;
  /// An INT8 conv's prologue (`prologue`): where in `quant` the
  /// quantization of the prologue's result is, which the conv quantizes what
  /// it reads with and takes as its input's (-1: none). (The stored input's
  /// dequantization was made with the input's own before this is set.)
  int prologueQuant = -1;
  Halide::Expr inputScale(size_t i) const { return quant(inputSlot(i)); }
  Halide::Expr inputZero(size_t i) const { return quant(inputSlot(i) + 1); }
  Halide::Expr outputScale() const { return quant(static_cast<int>(2 * inputs.size())); }
  Halide::Expr outputZero() const { return quant(static_cast<int>(2 * inputs.size() + 1)); }

  std::vector<PackRequest> packs;
  /// The prefix of the packs' parameter names (a nested stage's differ from
  /// its consumer's, whose pipeline reads both).
  std::string packPrefix = "p";
  /// Registers `func` (of element type `dtype`) as a pack and returns the
  /// parameter that reads it.
  Halide::ImageParam addPack(Halide::Func func, std::vector<int64_t> shape,
                             DType dtype = DType::F32);
  /// Set by an emitter that schedules the group itself, given the group's
  /// output Func (its epilogue: residual add, activation).
  std::function<void(Halide::Func output)> schedule;

private:
  /// Where input i's [scale, zero point] are in `quant`.
  int inputSlot(size_t i) const {
    return i == 0 && prologueQuant >= 0 ? prologueQuant : static_cast<int>(2 * i);
  }
};

// Conv.cpp (the conv templates compute nn.conv2d or nn.fused_conv2d's
// convolution; the caller adds the residuals and the activation, ctx.bnEps
// says whether to fold a BatchNorm).
/// A conv's sizes and attributes, as its templates read them.
struct ConvShape {
  int cout, cin; // cin per group
  int kernel[2], stride[2], pad[2], dilation[2]; // [h, w]
  int groups;
  bool hasBias;
};
/// Those of nn.conv2d or nn.fused_conv2d; nn.channel_linear's are a 1x1
/// conv's, which the reduced-precision conv templates compute it as.
ConvShape convShapeOf(mlir::Operation *op);
/// A conv's weight W[co, ci, ky, kx] from ctx.weights[0]; a channel
/// linear's (2-D, [out, in]) as the 1x1 conv's.
Halide::Expr convWeight(const EmitContext &ctx, Halide::Expr kx, Halide::Expr ky, Halide::Expr ci,
                        Halide::Expr co);
/// The per-channel scale and shift a conv's packs apply to output channel
/// `co`: its bias, and the BatchNorm ctx.bnEps says to fold (scale 1 and
/// the bias, or 0, without one).
std::pair<Halide::Expr, Halide::Expr> foldedScaleAndBias(const EmitContext &ctx, Halide::Expr co,
                                                         bool hasBias);
/// A conv's weights as INT8 codes, per output channel and symmetric as
/// PyTorch's per_channel_symmetric qint8: scale[co] = max|W'[co]| / 127.5 (W'
/// with the BatchNorm folded in), code(co, ci, kx, ky) = clamp(round(W' /
/// scale), -128, 127) as a float, for co in [0, cout); the scales and each
/// channel's sum of codes (what the input's zero point costs) are packs of
/// `coutPadded`, zero past `cout`.
struct Int8Codes {
  std::function<Halide::Expr(Halide::Expr, Halide::Expr, Halide::Expr, Halide::Expr)> code;
  Halide::ImageParam scale; // float32
  Halide::ImageParam sum;   // int32
};
Int8Codes int8Codes(const ConvShape &conv, EmitContext &ctx, int coutPadded);
/// The bias a conv's epilogue adds, BatchNorm folded in, as a pack of
/// `coutPadded` (zero past `cout`).
Halide::ImageParam packShift(const ConvShape &conv, EmitContext &ctx, int coutPadded);
/// An INT8 conv's input, u8, the zero point outside the image and past
/// `cin` in its last group of `group` channels (quantized from float32 where
/// the tensor is float32). `copied`: whether it is a Func to compute (else
/// the u8 input buffer as it is read); `always`: a Func whatever the input.
Halide::Func int8Input(const ConvShape &conv, const EmitContext &ctx, int group, bool &copied,
                       bool always = false);
/// The same for BF16 (zero outside and past an odd `cin`).
Halide::Func bf16Input(const ConvShape &conv, const EmitContext &ctx, bool &copied,
                       bool always = false);
/// The conv's input with a zero halo (reads outside the image give 0), as
/// Func `name`.
Halide::Func zeroHalo(const EmitContext &ctx, const char *name);
/// The convolution itself, every template's (CPU, GPU): shift(c) plus the
/// sum over r = (input channel of c's group, kernel column, kernel row) of
/// padded(...) * weightAt(c, r.x, r.y, r.z). Channels past `cout` (a padded
/// tile) read the last group.
Halide::Func convolve(const ConvShape &shape, Halide::Func padded, const Halide::RDom &r,
                      const std::function<Halide::Expr(Halide::Expr, Halide::Expr, Halide::Expr,
                                                       Halide::Expr)> &weightAt,
                      Halide::ImageParam shift);
/// Columns (or tiles) per register tile: a divisor of `width` in [4, most] if
/// there is one (no ragged tile), all of them when `width` <= `most`, else
/// the count in [4, most] whose tiles cover the row with the least overlap.
int columnsPerTile(int64_t width, int most);
/// Vectors of output channels per register tile: the most (up to `most`)
/// that keep the tile's accumulators within `budget` vector registers
/// (TargetInfo::accumulatorRegisters) and divide the channels evenly; else
/// 2 where the budget allows (or 1), with padding.
int vectorsPerTile(int cout, int V, int columns, int most, int budget);
/// Output rows per row task of a conv whose output is `out` (NCHW, batch
/// 1): a few rows each (at least 8 tasks per image), so the input rows a
/// task reads are shared by more outputs, and at least ~64K multiply-adds,
/// so a tiny layer (LeNet's) is not split into tasks that cost less than
/// waking a thread.
int64_t rowsPerTask(const ConvShape &conv, const std::vector<int64_t> &out);
/// Whether a conv's tasks are blocks of output channels over the whole
/// image (each weight read once per task), rather than a few output rows
/// each: when the image is 14x14 or smaller and the (packed) weights
/// outweigh the input the tasks read, or when the weights exceed
/// `rowTaskWeights` (which row tasks re-read once per output row).
bool channelBlockTasks(int64_t outHeight, int64_t weightBytes, int64_t inputBytes,
                       int64_t rowTaskWeights = int64_t{4} << 20);
// Pool.cpp
Halide::Func emitMaxPool2d(netc::nn::MaxPool2dOp op, EmitContext &ctx);
Halide::Func emitAvgPool2d(netc::nn::AvgPool2dOp op, EmitContext &ctx);
Halide::Func emitAdaptiveAvgPool2d(netc::nn::AdaptiveAvgPool2dOp op, EmitContext &ctx);
// Elementwise.cpp
Halide::Func emitBatchNorm(netc::nn::BatchNormOp op, EmitContext &ctx);
Halide::Func emitChannelAffine(netc::nn::ChannelAffineOp op, EmitContext &ctx);
Halide::Func emitAdd(netc::nn::AddOp op, EmitContext &ctx);
/// terms[0] + terms[1] + ..., elementwise (a residual join).
Halide::Func emitSum(const std::vector<Halide::Func> &terms, const std::string &name);
Halide::Func emitSoftmax(netc::nn::SoftmaxOp op, EmitContext &ctx);
Halide::Func emitLocalResponseNorm(netc::nn::LocalResponseNormOp op, EmitContext &ctx);
Halide::Func emitMul(netc::nn::MulOp op, EmitContext &ctx);
Halide::Func emitNarrow(netc::nn::NarrowOp op, EmitContext &ctx);
Halide::Func emitLayerNorm(netc::nn::LayerNormOp op, EmitContext &ctx);
Halide::Func emitChannelScale(netc::nn::ChannelScaleOp op, EmitContext &ctx);
Halide::Func emitChannelShuffle(netc::nn::ChannelShuffleOp op, EmitContext &ctx);
Halide::Func emitPad(netc::nn::PadOp op, EmitContext &ctx);
/// An activation op (relu, sigmoid, tanh, hardtanh, hardswish, hardsigmoid,
/// silu, gelu, leaky_relu) applied to `input`, as a group epilogue.
Halide::Func emitActivation(mlir::Operation *op, Halide::Func input);
/// The parameters of those that have them.
struct ActivationParams {
  float min = 0.0f, max = 0.0f; // hardtanh
  float slope = 0.0f;           // leaky_relu
};
/// The same by name, for the parameterless ones ("relu", "sigmoid", ...):
/// a fused conv's `activation`.
Halide::Func emitActivation(llvm::StringRef kind, Halide::Func input,
                            ActivationParams params = {});
// Gpu.cpp
/// Schedules a group's output on a GPU: one thread per element, in the
/// memory order of `layout`.
void scheduleOutputGpu(Halide::Func output, const std::vector<int64_t> &shape, Layout layout);
// Concat.cpp
Halide::Func emitConcat(netc::nn::ConcatOp op, EmitContext &ctx);

/// Schedules a group's output, of this NCHW / NF shape: vectorized along the
/// innermost dimension of `layout` (x for NCHW, c for NHWC), parallel over
/// the outer ones (over batch items only when one is small). Returns the
/// parallel loop, where the group's producers are computed.
Halide::Var scheduleOutput(Halide::Func output, const std::vector<int64_t> &shape,
                           int vectorWidth, Layout layout);
/// Vectorizes every stage of `f` (computed inside a group) along the
/// innermost dimension of `layout`.
void vectorizeInner(Halide::Func f, Layout layout, int vectorWidth);

/// NaN and finiteness tests that hold inside fast code. Halide 14 puts
/// LLVM's fast-math flags (nnan, ninf, ...) on every float instruction outside
/// strict_float, the convolutions' sums included; LLVM then takes a value they
/// produced to be neither NaN nor Inf and folds is_nan(x) (fcmp uno) to false
/// and is_finite(x) to true, even when x itself is read under strict_float
/// (an fsub or fmul of such values counts as never NaN too). These read the
/// float's bits instead: integer compares, which no float flag reaches.
Halide::Expr isNan(Halide::Expr x);
Halide::Expr isFinite(Halide::Expr x);

/// `x` (float32) quantized to u8 with this scale and zero point (float32
/// Exprs): round(x / scale) + zeroPoint, ties to even, clamped to [0, 255],
/// as PyTorch's quantize_per_tensor; NaN gives 0, as PyTorch's does.
Halide::Expr quantizeU8(Halide::Expr x, Halide::Expr scale, Halide::Expr zeroPoint);

/// `x` (float32) rounded to the nearest BF16, ties to even, as PyTorch's
/// .to(torch.bfloat16) rounds; NaN stays NaN, +-Inf and overflow give +-Inf.
/// On the float's bits, so every instruction set rounds the same.
Halide::Expr roundToBf16(Halide::Expr x);

/// [h, w] pair attribute.
void readPair(mlir::ArrayAttr attr, int64_t out[2]);

} // namespace netc::lowering

#endif // NETC_LIB_LOWERING_EMIT_H
