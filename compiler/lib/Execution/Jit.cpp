//===- Jit.cpp - Running a lowered Program with Halide's JIT --------------===//
#include "netc/Execution/Jit.h"

#include "netc/Codegen/ObjectCode.h"
#include "netc/program.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>

namespace netc {

namespace {

/// The in-process linker, made on first use and never destroyed (the
/// runtime's thread pool and handlers live in its memory), holding the one
/// Halide runtime every JIT program's pipelines call, as one binary links
/// one runtime for all its models. Each JitRunner links its pipelines in a
/// JITDylib of its own that resolves the runtime's symbols here and the C
/// library's in the process.
struct Engine {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  netc_par_for_fn (*setParFor)(netc_par_for_fn) = nullptr;
  netc_error_fn (*setErrorHandler)(netc_error_fn) = nullptr;
  int dylibs = 0;
};

template <typename T> T symbolAs(llvm::Expected<llvm::JITEvaluatedSymbol> symbol) {
  return reinterpret_cast<T>(static_cast<uintptr_t>(symbol->getAddress()));
}

std::string describe(llvm::Error error) { return llvm::toString(std::move(error)); }

Engine *engine(std::string &error) {
  static std::mutex mutex;
  static Engine *made = nullptr;
  static std::string failure;
  std::lock_guard<std::mutex> lock(mutex);
  if (made || !failure.empty()) {
    error = failure;
    return made;
  }
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto fail = [&](const std::string &why) -> Engine * {
    failure = "the JIT's linker: " + why;
    error = failure;
    return nullptr;
  };
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit)
    return fail(describe(jit.takeError()));
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!process)
    return fail(describe(process.takeError()));
  (*jit)->getMainJITDylib().addGenerator(std::move(*process));
  // The runtime's kernels that pipelines call (linked into this program,
  // but not among its dynamic symbols).
  llvm::orc::MangleAndInterner mangle((*jit)->getExecutionSession(), (*jit)->getDataLayout());
  auto kernel = [](auto *function) {
    return llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(function),
                                    llvm::JITSymbolFlags::Exported);
  };
  if (llvm::Error e = (*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(
          {{mangle("netc_amx_conv_u8s8"), kernel(&netc_amx_conv_u8s8)},
           {mangle("netc_amx_conv_bf16"), kernel(&netc_amx_conv_bf16)}})))
    return fail(describe(std::move(e)));
  std::string runtime;
  if (!codegen::compileHalideRuntime(Halide::get_host_target(), runtime, failure))
    return fail(failure);
  if (llvm::Error e = (*jit)->addObjectFile(
          llvm::MemoryBuffer::getMemBufferCopy(runtime, "netc_halide_runtime.o")))
    return fail(describe(std::move(e)));
  auto parFor = (*jit)->lookup("halide_set_custom_do_par_for");
  if (!parFor)
    return fail(describe(parFor.takeError()));
  auto errorHandler = (*jit)->lookup("halide_set_error_handler");
  if (!errorHandler)
    return fail(describe(errorHandler.takeError()));
  auto *e = new Engine;
  e->setParFor = symbolAs<netc_par_for_fn (*)(netc_par_for_fn)>(std::move(parFor));
  e->setErrorHandler = symbolAs<netc_error_fn (*)(netc_error_fn)>(std::move(errorHandler));
  e->jit = std::move(*jit);
  made = e;
  return made;
}

} // namespace

/// One runner's linked pipelines, unlinked when it goes.
class JitRunner::Code {
public:
  Code(Engine &engine, llvm::orc::JITDylib &dylib) : engine_(engine), dylib_(dylib) {}
  ~Code() { llvm::consumeError(engine_.jit->getExecutionSession().removeJITDylib(dylib_)); }
  Engine &engine_;
  llvm::orc::JITDylib &dylib_;
};

JitRunner::JitRunner(lowering::Program &program) : program_(program), tables_(program) {}

JitRunner::~JitRunner() { netc_model_free(model_); }

bool JitRunner::link(std::string &error) {
  if (code_)
    return true;
  Engine *e = engine(error);
  if (!e)
    return false;
  auto dylib = e->jit->createJITDylib("netc-" + program_.name + "-" + std::to_string(++e->dylibs));
  if (!dylib) {
    error = "the JIT's linker: " + describe(dylib.takeError());
    return false;
  }
  dylib->addToLinkOrder(e->jit->getMainJITDylib());
  auto code = std::make_unique<Code>(*e, *dylib);
  for (lowering::Group &group : program_.groups) {
    std::string object;
    if (!codegen::compileObject(program_, group, object, error))
      return false;
    if (llvm::Error err = e->jit->addObjectFile(
            *dylib, llvm::MemoryBuffer::getMemBufferCopy(object, group.function + ".o"))) {
      error = "the JIT's linker: " + describe(std::move(err));
      return false;
    }
  }
  pipelines_.clear();
  for (lowering::Group &group : program_.groups) {
    auto symbol = e->jit->lookup(*dylib, group.function + "_argv");
    if (!symbol) {
      error = "the JIT's linker: " + describe(symbol.takeError());
      return false;
    }
    pipelines_.push_back(symbolAs<netc_pipeline_fn>(std::move(symbol)));
  }
  tables_.program.pipelines = pipelines_.data();
  tables_.program.set_custom_do_par_for = e->setParFor;
  tables_.program.set_error_handler = e->setErrorHandler;
  code_ = std::move(code);
  return true;
}

bool JitRunner::load(const std::string &weightsPath, const std::string &stripPrefix,
                     std::string &error) {
  // Linked first: loading runs the packs' pipelines.
  if (!link(error))
    return false;
  netc_error err{};
  netc_model *model = nullptr;
  netc_load_options options{};
  options.strip_prefix = stripPrefix.empty() ? nullptr : stripPrefix.c_str();
  if (netc_program_load_with_options(&tables_.program, weightsPath.c_str(), &options, &model,
                                     &err) != NETC_OK) {
    error = err.message;
    return false;
  }
  netc_model_free(model_);
  model_ = model;
  return true;
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
  if (netc_program_run_steps(model_, first, last, input, in.rank, shape.data(), output,
                             outputSize(batch), arena, arenaBytes, threads, &err) != NETC_OK) {
    error = err.message;
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
