//===- Jit.h - Running a lowered Program with Halide's JIT -------*- C++ -*-===//
//
// `netc run` executes the very object code the code generator puts in a
// library (ObjectCode.h), linked in memory with LLVM's ORC against one
// Halide runtime per process, through the runtime's step interpreter
// (netc_program_run) over the same tables and memory plan: the JIT and the
// AOT library of one variant run identical instructions.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_EXECUTION_JIT_H
#define NETC_EXECUTION_JIT_H

#include "netc/Lowering/Program.h"
#include "netc/Lowering/ProgramTables.h"

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace netc {

class JitRunner {
public:
  explicit JitRunner(lowering::Program &program);
  ~JitRunner();
  JitRunner(const JitRunner &) = delete;
  JitRunner &operator=(const JitRunner &) = delete;

  /// Compiles every group to object code and links it, then loads and
  /// strictly checks the weights (against the program's checkpoint manifest).
  /// `stripPrefix`: removed from every key first (e.g. "module."), or "".
  bool load(const std::string &weightsPath, const std::string &stripPrefix, std::string &error);
  /// input: [batch, ...input shape] float32 NCHW; output likewise.
  /// threads: the most threads the run uses (0: one per CPU).
  bool run(const float *input, int batch, float *output, int threads, std::string &error);
  /// Times each step alone (netc_program_run_steps, in order, after one
  /// whole run), `rounds` times; `ms[s]` gets step s's times, sorted.
  bool profile(const float *input, int batch, int threads, int rounds,
               std::vector<std::vector<double>> &ms, std::string &error);

  /// Runs the batch one step at a time in one arena and calls `observe`
  /// after each with the step's index and the arena (a tensor of the batch
  /// lives at arena + Tensor::offset * batch bytes) and the output buffer:
  /// what `netc calibrate` measures.
  bool observe(const float *input, int batch, int threads,
               const std::function<void(size_t step, const unsigned char *arena,
                                        const float *output)> &observer,
               std::string &error);

private:
  /// One arena for a batch (`bytes` of it), 64-byte aligned; null, with
  /// `error` set, when it cannot be had.
  using Arena = std::unique_ptr<void, decltype(&std::free)>;
  Arena allocateArena(int batch, size_t &bytes, std::string &error) const;
  /// Steps [first, last) over `arena` (null: one of the run's own).
  bool runSteps(size_t first, size_t last, const float *input, int batch, float *output,
                void *arena, size_t arenaBytes, int threads, std::string &error);
  size_t outputSize(int batch) const; // floats in a batch's output

  /// Compiles and links the groups into tables_.pipelines (once).
  bool link(std::string &error);

  lowering::Program &program_;
  lowering::ProgramTables tables_;
  std::vector<netc_pipeline_fn> pipelines_;
  class Code;                  // the linked objects (Jit.cpp)
  std::unique_ptr<Code> code_;
  netc_model *model_ = nullptr;
};

} // namespace netc

#endif // NETC_EXECUTION_JIT_H
