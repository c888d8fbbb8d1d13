//===- Jit.h - Running a lowered Program with Halide's JIT -------*- C++ -*-===//
//
// `netc run` executes the very pipelines the code generator emits, compiled
// in-process, over the same memory plan, so the JIT and the AOT library can
// be held to agree.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_EXECUTION_JIT_H
#define NETC_EXECUTION_JIT_H

#include "netc/Lowering/Program.h"
#include "netc/dsl/Graph.h"

#include <string>
#include <vector>

namespace netc {

/// Every tensor a checkpoint for `graph` must hold, in state_dict order:
/// the weights the inference path reads and the others (BatchNorm's
/// num_batches_tracked, auxiliary heads), which are checked and ignored.
struct ExpectedWeight {
  std::string key;
  std::string dtype; // "F32" or "I64"
  std::vector<int64_t> shape;
};
std::vector<ExpectedWeight> expectedWeights(const dsl::Graph &graph);

class JitRunner {
public:
  explicit JitRunner(lowering::Program &program) : program_(program) {}

  /// Loads and strictly checks the weights, then JIT-compiles every group.
  bool load(const std::string &weightsPath, const std::vector<ExpectedWeight> &expected,
            std::string &error);
  /// input: [batch, ...input shape] float32 NCHW; output likewise.
  bool run(const float *input, int batch, float *output, std::string &error);

private:
  lowering::Program &program_;
  std::vector<Halide::Buffer<float>> weights_; // by Program::weights index
};

} // namespace netc

#endif // NETC_EXECUTION_JIT_H
