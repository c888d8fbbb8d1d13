//===- Jit.cpp - Running a lowered Program with Halide's JIT --------------===//
#include "netc/Execution/Jit.h"

#include "netc/program.h"

#include <algorithm>
#include <chrono>
#include <memory>

namespace netc {

JitRunner::JitRunner(lowering::Program &program) : program_(program), tables_(program) {
  tables_.program.invoke = &JitRunner::invoke;
  tables_.program.invoke_context = this;
}

JitRunner::~JitRunner() { netc_model_free(model_); }

bool JitRunner::load(const std::string &weightsPath, const std::string &stripPrefix,
                     std::string &error) {
  // Compiled first: loading runs the packs' pipelines.
  try {
    for (lowering::Group &group : program_.groups)
      group.pipeline.compile_jit(Halide::get_host_target());
  } catch (const Halide::Error &e) {
    error = std::string("Halide JIT compilation failed: ") + e.what();
    return false;
  }
  netc_error err{};
  netc_model *model = nullptr;
  halideError_.clear();
  netc_load_options options{};
  options.strip_prefix = stripPrefix.empty() ? nullptr : stripPrefix.c_str();
  if (netc_program_load_with_options(&tables_.program, weightsPath.c_str(), &options, &model,
                                     &err) != NETC_OK) {
    error = err.message;
    if (!halideError_.empty())
      error += ": " + halideError_;
    return false;
  }
  netc_model_free(model_);
  model_ = model;
  return true;
}

namespace {

/// A JIT realization on behalf of a runtime call: its parallel loops run on
/// netc's thread pool with the call's thread count, its errors go to the call.
struct CallContext : Halide::JITUserContext {
  void *call;
  explicit CallContext(void *call) : call(call) {
    handlers.custom_do_par_for = [](Halide::JITUserContext *context,
                                    int (*task)(Halide::JITUserContext *, int, uint8_t *),
                                    int min, int size, uint8_t *closure) {
      return netc_parallel_for(static_cast<CallContext *>(context)->call,
                               reinterpret_cast<netc_task_fn>(task), context, min, size, closure);
    };
    handlers.custom_error = [](Halide::JITUserContext *context, const char *message) {
      netc_report(static_cast<CallContext *>(context)->call, message);
    };
  }
};

} // namespace

/// The runtime passes the call (args[0]) and the step's buffers (inputs,
/// weights, output) as it would to a compiled pipeline's argv entry point.
int JitRunner::invoke(void *self, int pipeline, void **args) {
  auto &runner = *static_cast<JitRunner *>(self);
  lowering::Group &group = runner.program_.groups[static_cast<size_t>(pipeline)];
  auto buffer = [&](size_t i) {
    return Halide::Buffer<float>(*static_cast<const halide_buffer_t *>(args[i]));
  };
  try {
    CallContext context(*static_cast<void **>(args[0]));
    Halide::ParamMap params;
    size_t next = 1;
    for (const Halide::ImageParam &input : group.inputs)
      params.set(input, buffer(next++));
    for (const Halide::ImageParam &weight : group.weights)
      params.set(weight, buffer(next++));
    Halide::Buffer<float> out = buffer(next);
    group.pipeline.realize(&context, out, Halide::get_host_target(), params);
  } catch (const Halide::Error &e) {
    runner.halideError_ = e.what();
    return -1;
  }
  return 0;
}

bool JitRunner::runSteps(size_t first, size_t last, const float *input, int batch,
                        float *output, void *arena, size_t arenaBytes, int threads,
                        std::string &error) {
  if (!model_) {
    error = "no weights are loaded";
    return false;
  }
  const netc_program_tensor &in = tables_.tensors[static_cast<size_t>(program_.input)];
  std::vector<int64_t> shape(in.shape, in.shape + in.rank);
  shape[0] = batch;
  netc_error err{};
  halideError_.clear();
  if (netc_program_run_steps(model_, first, last, input, in.rank, shape.data(), output,
                             outputSize(batch), arena, arenaBytes, threads, &err) != NETC_OK) {
    error = err.message;
    if (!halideError_.empty())
      error += ": " + halideError_;
    return false;
  }
  return true;
}

size_t JitRunner::outputSize(int batch) const {
  return static_cast<size_t>(batch) *
         static_cast<size_t>(program_.tensors[program_.output].perSample());
}

bool JitRunner::run(const float *input, int batch, float *output, int threads,
                    std::string &error) {
  return runSteps(0, program_.steps.size(), input, batch, output, nullptr, 0, threads, error);
}

JitRunner::Arena JitRunner::allocateArena(int batch, size_t &bytes, std::string &error) const {
  bytes = netc_program_arena_bytes(&tables_.program, batch);
  Arena arena(std::aligned_alloc(64, (std::max<size_t>(bytes, 1) + 63) / 64 * 64), &std::free);
  if (!arena)
    error = "cannot allocate " + std::to_string(bytes) + " arena bytes";
  return arena;
}

bool JitRunner::observe(const float *input, int batch, int threads,
                        const std::function<void(size_t, const unsigned char *, const float *)>
                            &observer,
                        std::string &error) {
  std::vector<float> output(outputSize(batch));
  size_t bytes = 0;
  Arena arena = allocateArena(batch, bytes, error);
  if (!arena)
    return false;
  for (size_t s = 0; s < program_.steps.size(); ++s) {
    if (!runSteps(s, s + 1, input, batch, output.data(), arena.get(), bytes, threads, error))
      return false;
    observer(s, static_cast<const unsigned char *>(arena.get()), output.data());
  }
  return true;
}

bool JitRunner::profile(const float *input, int batch, int threads, int rounds,
                        std::vector<std::vector<double>> &ms, std::string &error) {
  std::vector<float> output(outputSize(batch));
  // One arena for every step: each reads what the steps before it wrote.
  size_t bytes = 0;
  Arena arena = allocateArena(batch, bytes, error);
  if (!arena)
    return false;
  size_t steps = program_.steps.size();
  auto runSome = [&](size_t first, size_t last) {
    return runSteps(first, last, input, batch, output.data(), arena.get(), bytes, threads, error);
  };
  ms.assign(steps, {});
  if (!runSome(0, steps)) // the warm-up: threads started, every step's data written
    return false;
  for (int round = 0; round < rounds; ++round)
    for (size_t s = 0; s < steps; ++s) {
      auto start = std::chrono::steady_clock::now();
      if (!runSome(s, s + 1))
        return false;
      ms[s].push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
  for (std::vector<double> &times : ms)
    std::sort(times.begin(), times.end());
  return true;
}

} // namespace netc
