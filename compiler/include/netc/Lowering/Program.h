//===- Program.h - A network lowered to Halide pipelines ---------*- C++ -*-===//
//
// Lowering turns the nn function into a Program: the tensors of the
// network with a static memory plan, one compiled-once Halide pipeline per
// distinct fused group, and the ordered steps that call them. The JIT
// (`netc run`) executes a Program directly; the code generator emits its
// pipelines as objects and its steps as a C driver. Both run the same
// pipelines.
//
// Tensors are float32, dense, NCHW (or [N, F]); Halide sees the dimensions
// reversed: (x, y, c, n) or (f, n). Arena offsets are counted in floats per
// batch item, so one plan serves every batch size: a tensor of batch N lives
// at arena + offset * N.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_LOWERING_PROGRAM_H
#define NETC_LOWERING_PROGRAM_H

#include "mlir/IR/BuiltinOps.h"

#include <Halide.h>

#include <cstdint>
#include <string>
#include <vector>

namespace netc::lowering {

struct Tensor {
  enum class Kind { Input, Output, Arena, Alias };
  Kind kind = Kind::Arena;
  std::vector<int64_t> shape; // shape[0] is the batch (kept as 1 here)
  int aliasOf = -1;           // Alias: shares this tensor's memory (flatten)
  int64_t offset = 0;         // Arena: floats per batch item from the arena start
  int64_t perSample() const;  // elements per batch item
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
/// weights; its output is the last argument of the compiled function.
struct Group {
  std::string signature;  // op kinds, attributes and shapes: equal => same code
  std::string function;   // symbol of the compiled function
  std::string description;
  Halide::Pipeline pipeline;
  std::vector<Halide::ImageParam> inputs;
  std::vector<Halide::ImageParam> weights;
  std::vector<Halide::Argument> arguments() const;
};

/// One call: group `group` on these tensors and weights.
struct Step {
  int group = 0;
  std::vector<int> inputs;
  std::vector<int> weights;
  int output = 0;
  std::string name; // module path of the anchor op, for messages
};

struct Program {
  std::string name;
  std::vector<Tensor> tensors;
  std::vector<CheckpointEntry> checkpoint; // state_dict order
  std::vector<Weight> weights;
  std::vector<Group> groups;
  std::vector<Step> steps;
  int input = 0;
  int output = 0;
  int64_t arenaPerSample = 0; // floats per batch item
};

struct LowerOptions {
  Halide::Target target = Halide::get_host_target();
  std::string prefix; // prefix of the group function names
};

/// Lowers the single function of `module` (nn dialect, after the graph
/// passes). Returns false after emitting an error, located at the offending
/// op (its spec file:line:col), through the context's diagnostic handler.
bool lower(mlir::ModuleOp module, const LowerOptions &options, Program &program);

/// The memory plan: assigns arena offsets by tensor lifetime (first fit).
void planMemory(Program &program);

} // namespace netc::lowering

#endif // NETC_LOWERING_PROGRAM_H
