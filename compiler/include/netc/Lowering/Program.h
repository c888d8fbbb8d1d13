//===- Program.h - A network lowered to Halide pipelines ---------*- C++ -*-===//
//
// Lowering turns the nn function into a Program: the tensors of the
// network with a static memory plan, one compiled-once Halide pipeline per
// distinct fused group, and the ordered steps that call them. The JIT
// (`netc run`) executes a Program directly; the code generator emits its
// pipelines as objects and its steps as a C driver. Both run the same
// pipelines.
//
// Tensors are dense, [N, F] or rank 4 in NCHW or NHWC (channels innermost:
// every internal tensor with at least a vector's worth of channels that no
// flatten views and that is not the caller's), each of its own element type
// (the caller's input and output: float32). Halide sees the NCHW dimensions
// reversed, (x, y, c, n) or (f, n); the layout only sets the strides. Arena
// offsets are counted in bytes per batch item, so one plan serves every
// batch size: a tensor of batch N lives at arena + offset * N bytes.
//
// Weights that a schedule reads in another order than the checkpoint's, or
// with a BatchNorm folded in, are packs: a pipeline run once at load on file
// weights, whose result the steps read.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_LOWERING_PROGRAM_H
#define NETC_LOWERING_PROGRAM_H

#include "netc/runtime.h"

#include "mlir/IR/BuiltinOps.h"

#include <Halide.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace netc::lowering {

enum class Layout { NCHW, NHWC };

/// Element types of tensors and packs, as the runtime's netc_dtype.
enum class DType { F32, BF16, I8, U8, I32 };
int bytesOf(DType dtype);
Halide::Type halideType(DType dtype);

struct Tensor {
  enum class Kind { Input, Output, Arena, Alias };
  Kind kind = Kind::Arena;
  Layout layout = Layout::NCHW;
  DType dtype = DType::F32;
  std::vector<int64_t> shape; // shape[0] is the batch (kept as 1 here)
  /// The module path of the step that writes it ("input" for the input, a
  /// concat's for one written in place): its key in a Q.json.
  std::string name;
  /// Quantization: real = scale * (q - zeroPoint), for a U8 tensor and for
  /// a float32 one that an INT8 layer quantizes as it reads it.
  bool quantized = false;
  float scale = 1.0f;
  int zeroPoint = 0;
  int aliasOf = -1;           // Alias: shares this tensor's memory (flatten)
  // Alias with slice: channels [channelOffset, + shape[1]) of aliasOf (a
  // concat's result, which its producers write in place), with its strides.
  bool slice = false;
  int64_t channelOffset = 0;
  int64_t offset = 0;         // Arena: bytes per batch item from the arena start
  int64_t perSample() const;  // elements per batch item
  int64_t bytesPerSample() const;
};

/// A tensor the weights file must hold (the checkpoint's manifest, from the
/// function's `nn.weights` attribute): the weights the pipelines read and
/// the others (BatchNorm's num_batches_tracked, auxiliary heads), which are
/// checked and ignored.
struct CheckpointEntry {
  std::string key;
  std::string dtype; // "F32" or "I64"
  std::vector<int64_t> shape;
};

/// A weight the network reads: the function argument with this key.
struct Weight {
  std::string key;
  std::vector<int64_t> shape;
};

/// One distinct pipeline. Its arguments are its input tensors, then its
/// weights (file weights, then packs); its output is the last argument of
/// the compiled function.
struct Group {
  std::string signature;  // op kinds, attributes and shapes: equal => same code
  std::string function;   // symbol of the compiled function
  std::string description;
  Halide::Pipeline pipeline;
  std::vector<Halide::ImageParam> inputs;
  std::vector<Halide::ImageParam> weights;
  std::vector<Halide::Argument> arguments() const;

  /// How a step of this group finds its weights, in its chain's weight
  /// operands (conv weight, bias, then a folded BatchNorm's four): the file
  /// weights the pipeline reads directly, then one pack per `packs` entry,
  /// computed by pipeline `group` from the chain weights `sources`.
  struct PackUse {
    int group = 0; // kConstantPack: the step's quantization parameters
    static constexpr int kConstantPack = -1;
    std::vector<int> sources;
    std::vector<int64_t> shape;
    DType dtype = DType::F32;
  };
  std::vector<int> directWeights;
  std::vector<PackUse> packs;
};

/// A weight computed at load: group `group` (no inputs, weights `sources`,
/// static output of `shape`, last dimension innermost); or, where group is
/// Group::PackUse::kConstantPack, the float32 `values` as they are.
struct Pack {
  int group = 0;
  std::vector<float> values;
  DType dtype = DType::F32;
  std::vector<int> sources; // indices into Program::weights
  std::vector<int64_t> shape;
  std::string name;
};

/// One call: group `group` on these tensors and weights.
struct Step {
  int group = 0;
  std::vector<int> inputs;
  std::vector<int> weights; // < weights.size(): a file weight; then packs
  int output = 0;
  std::string name; // module path of the anchor op, for messages
  /// Multiply-accumulates per batch item of a conv or linear step (0 for
  /// the others), for profiles' GFLOP/s.
  int64_t macsPerSample = 0;
  /// A conv or linear step's operand precision, "fp32", "bf16" or "int8" ("" for
  /// the others, which compute in float32 on what they read).
  std::string precision;
};

struct Program {
  std::string name;
  std::vector<Tensor> tensors;
  std::vector<CheckpointEntry> checkpoint; // state_dict order
  std::vector<Weight> weights;
  std::vector<Pack> packs;
  std::vector<Group> groups;
  std::vector<Step> steps;
  int input = 0;
  int output = 0;
  int64_t arenaBytesPerSample = 0;
  /// The GPU API the steps run on ("cuda", "opencl"), or empty: the CPU.
  std::string deviceApi;
  /// What the pipelines are compiled for: the Halide target and, for x86
  /// code, the instruction-set level (the library's variant) it reaches.
  Halide::Target target;
  netc_isa isa = NETC_ISA_GENERIC;

  /// The tensor that owns `t`'s memory: `t`, or what its aliases lead to.
  int ownerOf(int t) const;
};

/// The element type convs and linears compute on (--precision).
enum class Precision { FP32, BF16, INT8 };

/// A tensor's quantization (u8, asymmetric): real = scale * (q - zeroPoint).
struct QParams {
  double scale = 1.0;
  int64_t zeroPoint = 0;
};

struct LowerOptions {
  Halide::Target target = Halide::get_host_target();
  /// The code's instruction-set level (a library's variant); GENERIC: the
  /// one the target's features reach.
  netc_isa isa = NETC_ISA_GENERIC;
  bool winograd = true; // 3x3 stride-1 convs by Winograd's F(4x4 or 2x2, 3x3)
  Precision precision = Precision::FP32;
  /// Module paths (or their prefixes, "layer4" for "layer4.0.conv1") of the
  /// convs and linears kept in FP32 under a reduced precision; the planner
  /// also keeps the classifier's last linear (the one nearest the output).
  std::vector<std::string> fp32Layers;
  /// BF16 convs by vdpbf16ps (true) or by float32 FMAs on widened BF16
  /// operands (false); unset: as TargetInfo::bf16DotPays says.
  std::optional<bool> bf16Dot;
  /// INT8: each tensor's quantization by its key (Tensor::name), from a
  /// Q.json (`netc calibrate`); `qparamsSource` names it in messages.
  std::map<std::string, QParams> qparams;
  std::string qparamsSource;
  /// Steps that keep a tensor out of memory. FP32 plans: concat operands
  /// that other ops read too, and in-place concats, are written in place
  /// (DenseNet's growing concats); a BatchNorm or a gate's product, with
  /// activations, that only a conv reads is the conv's prologue (DenseNet's
  /// norm1 -> relu1 -> conv1, squeeze-excitation's product). Every plan:
  /// an inverted-residual block's 1x1 expansion is computed inside its
  /// depthwise conv's tasks, and ConvNeXt's layer scale and residual sum
  /// join its channel linear. Off for calibration, which measures every
  /// tensor an INT8 plan stores.
  bool fusions = true;
};

/// Lowers the single function of `module` (nn dialect, after the graph
/// passes). Returns false after emitting an error, located at the offending
/// op (its spec file:line:col), through the context's diagnostic handler.
bool lower(mlir::ModuleOp module, const LowerOptions &options, Program &program);

/// The memory plan: assigns arena offsets (bytes) by tensor lifetime (first
/// fit).
void planMemory(Program &program);

} // namespace netc::lowering

#endif // NETC_LOWERING_PROGRAM_H
