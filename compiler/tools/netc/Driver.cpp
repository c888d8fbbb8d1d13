//===- Driver.cpp - netc's stages: front end, graph passes, back end, JIT -===//
#include "Driver.h"

#include "netc/Codegen/Codegen.h"
#include "netc/Dialect/NN/NNDialect.h"
#include "netc/Execution/Jit.h"
#include "netc/FrontEnd/BuildNN.h"
#include "netc/Lowering/Planner.h"
#include "netc/Lowering/Program.h"
#include "netc/Lowering/TargetInfo.h"
#include "netc/Transforms/Passes.h"
#include "netc/runtime.h"

#include "mlir/Dialect/StandardOps/IR/Ops.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace netc::driver {

using namespace netc::dsl;

bool Options::isModule() const { return llvm::StringRef(spec).endswith(".mlir"); }
bool Options::isOnnx() const { return netc::onnx::isOnnxPath(spec); }

int fail(const std::string &message) {
  llvm::errs() << "netc: error: " << message << "\n";
  return 1;
}

namespace {

std::optional<Graph> importOnnx(const Options &options, Sources &sources) {
  std::string error;
  sources.onnx = netc::onnx::Model::load(options.spec, error);
  std::optional<Graph> graph;
  if (sources.onnx)
    graph = sources.onnx->import(options.elaborate.inputShape, error);
  if (!graph) {
    fail(error);
    return std::nullopt;
  }
  graph->name = options.entry;
  return graph;
}

} // namespace

bool OnnxWeights::write(const Options &options) {
  llvm::SmallString<128> path;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("netc-weights", "safetensors", path)) {
    fail("cannot create a temporary file for the model's weights: " + ec.message());
    return false;
  }
  path_ = std::string(path);
  Sources sources;
  std::optional<Graph> graph = importOnnx(options, sources);
  if (!graph)
    return false;
  std::string error;
  if (!sources.onnx->writeWeights(*graph, path_, error)) {
    fail(error);
    return false;
  }
  return true;
}

OnnxWeights::~OnnxWeights() {
  if (!path_.empty())
    llvm::sys::fs::remove(path_);
}

int exportWeights(const Options &options, const std::string &path) {
  Sources sources;
  std::optional<Graph> graph = importOnnx(options, sources);
  if (!graph)
    return 1;
  std::string error;
  if (!sources.onnx->writeWeights(*graph, path, error))
    return fail(error);
  llvm::outs() << path << ": " << graph->weights().size() << " tensors\n";
  return 0;
}

std::optional<Graph> elaborateEntry(const Options &options, Sources &sources) {
  if (options.isOnnx())
    return importOnnx(options, sources);
  Diagnostic diag;
  const dsl::Module *module = nullptr;
  if (!options.spec.empty()) {
    sources.spec = loadSpec(options.spec, diag);
    module = sources.spec.get();
  } else if (sources.zoo.load(options.zoo, diag)) {
    std::string callee = entryCallee(options.entry);
    if (callee.empty()) {
      // Let the elaborator explain what is wrong with the entry text.
      static const dsl::Module empty{std::make_unique<SourceFile>("<zoo>", ""), {}};
      module = &empty;
    } else {
      module = sources.zoo.find(callee, diag);
    }
  }
  if (!module) {
    llvm::errs() << diag.render();
    return std::nullopt;
  }
  std::optional<Graph> graph = elaborate(*module, options.entry, options.elaborate, diag);
  if (!graph)
    llvm::errs() << diag.render();
  return graph;
}

namespace {

/// nn IR written by `netc --emit=nn[-opt]` or netc-opt: one function, named
/// by --entry, renamed to --name.
mlir::OwningOpRef<mlir::ModuleOp> parseModule(const Options &options, CompilerContext &context) {
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(options.spec, context.sourceMgr(), &context.mlir());
  if (!module)
    return nullptr;
  std::vector<mlir::FuncOp> funcs(module->getOps<mlir::FuncOp>().begin(),
                                  module->getOps<mlir::FuncOp>().end());
  if (funcs.size() != 1) {
    fail(options.spec + ": expected one function, found " + std::to_string(funcs.size()));
    return nullptr;
  }
  if (funcs[0].getName() != options.entry) {
    fail(options.spec + ": the module's function is '" + funcs[0].getName().str() +
         "', not '" + options.entry + "'; give --entry " + funcs[0].getName().str());
    return nullptr;
  }
  if (options.name != options.entry)
    mlir::SymbolTable::setSymbolName(funcs[0], options.name);
  return module;
}

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> buildModule(const Options &options, CompilerContext &context,
                                              bool optimize, std::optional<Graph> *graphOut) {
  loadNetcDialects(context.mlir());
  mlir::OwningOpRef<mlir::ModuleOp> module;
  if (options.isModule()) {
    module = parseModule(options, context);
  } else {
    Sources sources;
    std::optional<Graph> graph = elaborateEntry(options, sources);
    if (!graph)
      return nullptr;
    std::string error;
    module = netc::buildNNModule(*graph, options.name, context.mlir(), error);
    if (!module)
      fail(error);
    if (graphOut)
      *graphOut = std::move(graph);
  }
  if (!module || !optimize)
    return module;
  mlir::PassManager pm(&context.mlir());
  pm.addNestedPass<mlir::FuncOp>(netc::nn::createStripInferenceIdentitiesPass());
  if (options.fuse)
    pm.addNestedPass<mlir::FuncOp>(netc::nn::createFuseConvEpiloguePass());
  pm.addPass(mlir::createCanonicalizerPass());
  if (mlir::failed(pm.run(*module))) {
    fail("the graph passes failed");
    return nullptr;
  }
  return module;
}

/// The back end's options, for code that runs on `target`.
netc::lowering::LowerOptions lowerOptionsFor(const Options &options, const Variant &variant) {
  netc::lowering::LowerOptions lower;
  lower.target = variant.target;
  lower.isa = variant.isa;
  lower.winograd = options.winograd;
  lower.precision = options.precision;
  lower.fp32Layers = options.fp32Layers;
  lower.bf16Dot = options.bf16Dot;
  lower.qparams = options.qparams;
  lower.qparamsSource = options.qparamsPath;
  lower.fusions = options.fusions;
  return lower;
}

namespace {

/// The --isa levels, or those the precision needs: the dot products'
/// level only where a template uses them (INT8's vpdpbusd, BF16's
/// vdpbf16ps when asked for); FP32 code is the same on both AVX-512 levels.
std::vector<netc_isa> isaLevels(const Options &options) {
  bool dots = options.precision == netc::lowering::Precision::INT8 ||
              (options.precision == netc::lowering::Precision::BF16 &&
               options.bf16Dot.value_or(false));
  std::vector<netc_isa> defaults = {NETC_ISA_AVX512, NETC_ISA_AVX2};
  if (dots)
    defaults.insert(defaults.begin(), NETC_ISA_AVX512_VNNI);
  // The AMX kernels serve INT8 and BF16 convs.
  if (options.precision != netc::lowering::Precision::FP32)
    defaults.insert(defaults.begin(), NETC_ISA_AVX512_AMX);
  if (options.isas.empty() && !options.hostIsa)
    return defaults;
  std::vector<netc_isa> levels = options.isas;
  if (options.hostIsa)
    for (netc_isa level : defaults)
      if (level <= netc_cpu_isa()) {
        if (std::find(levels.begin(), levels.end(), level) == levels.end())
          levels.push_back(level);
        break;
      }
  std::sort(levels.rbegin(), levels.rend());
  return levels;
}

/// The instruction set a planned module's plan is for (nn.isa), or "".
std::string plannedIsa(mlir::ModuleOp module) {
  for (mlir::FuncOp func : module.getOps<mlir::FuncOp>())
    if (auto isa = func->getAttrOfType<mlir::StringAttr>(netc::nn::kIsaAttr))
      return isa.getValue().str();
  return "";
}

} // namespace

std::vector<Variant> variantTargets(const Options &options, mlir::ModuleOp module) {
  const Halide::Target &target = options.target;
  auto variant = [&](netc_isa isa) { return Variant{netc::lowering::variantTarget(target, isa), isa}; };
  if (target.has_gpu_feature()) // its host side runs on any x86-64
    return {variant(NETC_ISA_GENERIC)};
  if (target.arch != Halide::Target::X86 || netc::lowering::namesIsaFeatures(target))
    return {Variant{target, netc::lowering::isaLevelOf(target)}};
  std::string planned = plannedIsa(module);
  if (!planned.empty()) {
    int level = netc_isa_named(planned.c_str());
    if (level <= NETC_ISA_GENERIC) {
      fail("this nn IR was planned for " + planned + " (nn.isa), not for an x86 CPU: give its "
           "--target, or plan it anew from IR without a plan (netc --emit=nn)");
      return {};
    }
    std::vector<netc_isa> asked = options.isas.empty() && !options.hostIsa
                                      ? std::vector<netc_isa>()
                                      : isaLevels(options);
    if (!asked.empty() && (asked.size() != 1 || asked[0] != level)) {
      fail("this nn IR was planned for " + planned + " (nn.isa), so its library has that "
           "variant only: give --isa " + planned + " or none, or plan it anew from IR without a "
           "plan (netc --emit=nn)");
      return {};
    }
    return {variant(static_cast<netc_isa>(level))};
  }
  std::vector<Variant> targets;
  for (netc_isa isa : isaLevels(options))
    targets.push_back(variant(isa));
  return targets;
}

std::optional<Variant> jitTarget(const Options &options, mlir::ModuleOp module) {
  std::vector<Variant> targets = variantTargets(options, module);
  if (targets.empty())
    return std::nullopt;
  std::vector<int32_t> isas;
  for (const Variant &v : targets)
    isas.push_back(v.isa);
  size_t chosen = 0;
  netc_error error{};
  if (isas.front() != NETC_ISA_GENERIC &&
      netc_isa_choose(isas.data(), isas.size(), "netc", nullptr, &chosen, &error) != NETC_OK) {
    fail(std::string(error.message).substr(6)); // without its "netc: "
    return std::nullopt;
  }
  return targets[chosen];
}

bool planModule(const Options &options, mlir::ModuleOp module) {
  std::vector<Variant> targets = variantTargets(options, module);
  return !targets.empty() &&
         netc::lowering::plan(module, lowerOptionsFor(options, targets.front()));
}

int runBackEnd(const Options &options, mlir::ModuleOp module, Output output) {
  std::vector<Variant> targets = variantTargets(options, module);
  if (targets.empty())
    return 1;
  // Each variant plans and lowers a copy of its own: plans differ by target.
  std::vector<netc::lowering::Program> variants(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    mlir::OwningOpRef<mlir::ModuleOp> copy = module.clone();
    if (!netc::lowering::lower(*copy, lowerOptionsFor(options, targets[i]), variants[i]))
      return 1;
  }
  bool embedded = !options.embedWeights.empty();
  if (embedded && output != Output::HalideStmt &&
      !checkEmbeddable(variants.front(), options.embedWeights))
    return 1;
  if (output == Output::Header) {
    llvm::outs() << netc::codegen::emitHeader(variants, embedded);
    return 0;
  }
  if (output == Output::HalideStmt) {
    llvm::SmallString<128> path;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile("netc", "stmt", path))
      return fail("cannot create a temporary file: " + ec.message());
    for (netc::lowering::Program &variant : variants)
      for (netc::lowering::Group &group : variant.groups) {
        group.pipeline.compile_to_lowered_stmt(std::string(path), group.arguments(),
                                               Halide::StmtOutputFormat::Text, variant.target);
        auto text = llvm::MemoryBuffer::getFile(path);
        llvm::outs() << "// " << group.function << ": " << group.description << "\n"
                     << (text ? (*text)->getBuffer() : "") << "\n";
      }
    llvm::sys::fs::remove(path);
    return 0;
  }
  netc::codegen::CodegenOptions codegen;
  codegen.outputDir = options.outputDir.empty() ? "." : options.outputDir;
  codegen.cCompiler = options.cCompiler;
  codegen.includeDirs = {options.runtimeIncludeDir};
  codegen.embedWeights = options.embedWeights;
  std::string error;
  if (!netc::codegen::writeLibrary(variants, codegen, error))
    return fail(error);
  return 0;
}

namespace {

std::string formatDims(const int64_t *dims, int rank) {
  std::string out = "[";
  for (int i = 0; i < rank; ++i)
    out += (i ? "," : "") + std::to_string(dims[i]);
  return out + "]";
}

} // namespace

namespace {

/// "sample 0: 3 (7.21), 5 (2.1), ..." for each of `batch` rows of `perSample`.
void printTopFive(const std::vector<float> &result, int batch, int64_t perSample) {
  for (int b = 0; b < batch; ++b) {
    const float *row = result.data() + static_cast<size_t>(b) * static_cast<size_t>(perSample);
    std::vector<int64_t> order(static_cast<size_t>(perSample));
    for (int64_t i = 0; i < perSample; ++i)
      order[static_cast<size_t>(i)] = i;
    size_t shown = std::min<size_t>(5, order.size());
    // NaN sorts first, as the largest: it is what a reader must see.
    auto larger = [&](int64_t a, int64_t b) {
      if (std::isnan(row[a]) != std::isnan(row[b]))
        return std::isnan(row[a]);
      return row[a] > row[b];
    };
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown),
                      order.end(), larger);
    llvm::outs() << "sample " << b << ":";
    for (size_t k = 0; k < shown; ++k)
      llvm::outs() << (k ? ", " : " ") << order[k] << " ("
                   << llvm::format("%.6g", row[order[k]]) << ")";
    llvm::outs() << "\n";
  }
}

} // namespace

/// `netc run --profile`: each step alone, a line each, slowest first.
bool printProfile(const netc::lowering::Program &program, netc::JitRunner &runner,
                  const float *input, int batch, const RunOptions &run, std::string &error) {
  std::vector<std::vector<double>> ms;
  if (!runner.profile(input, batch, run.threads, run.repeat, ms, error))
    return false;
  std::vector<size_t> order(ms.size());
  double total = 0;
  for (size_t s = 0; s < ms.size(); ++s) {
    order[s] = s;
    total += ms[s][ms[s].size() / 2];
  }
  auto median = [&](size_t s) { return ms[s][ms[s].size() / 2]; };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return median(a) > median(b); });
  llvm::outs() << llvm::format("%zu steps, batch %d, ", ms.size(), batch)
               << (run.threads ? std::to_string(run.threads) : std::string("default"))
               << llvm::format(" threads (JIT), medians of %d rounds: %.4f ms in all\n",
                               run.repeat, total)
               << llvm::left_justify("step", 28) << llvm::right_justify("ms", 9)
               << llvm::right_justify("share", 8) << llvm::right_justify("GFLOP/s", 9)
               << "  computed by\n";
  for (size_t s : order) {
    const netc::lowering::Step &step = program.steps[s];
    int64_t macs = step.macsPerSample * batch;
    llvm::outs() << llvm::left_justify(step.name, 28)
                 << llvm::format("%9.4f%7.1f%%", median(s), 100 * median(s) / total)
                 << (macs ? llvm::formatv("{0,9:f1}", 2e-6 * static_cast<double>(macs) / median(s))
                                .str()
                          : std::string(9, ' '))
                 << "  " << program.groups[static_cast<size_t>(step.group)].description << "\n";
  }
  return true;
}

bool readInputs(const std::vector<std::string> &paths, std::vector<Array> &inputs) {
  netc_error err{};
  for (const std::string &path : paths) {
    Array input(new netc_array{}, [](netc_array *a) {
      netc_array_free(a);
      delete a;
    });
    if (netc_npy_read(path.c_str(), input.get(), &err) != NETC_OK) {
      fail(err.message);
      return false;
    }
    inputs.push_back(std::move(input));
  }
  return true;
}

bool startJit(Options &options, const std::vector<std::string> &paths,
              const std::vector<Array> &inputs, const std::string &weights,
              const std::string &stripPrefix, JitSession &session) {
  const netc_array &first = *inputs.front();
  const std::string &firstPath = paths.front();
  bool shapeFromInput = options.elaborate.inputShape.empty();
  if (shapeFromInput) {
    if (first.rank < 2) {
      fail(firstPath + ": the input has shape " + formatDims(first.shape, first.rank) +
           "; a network takes a batch [N, ...] of rank 2 or more");
      return false;
    }
    options.elaborate.inputShape.assign(first.shape, first.shape + first.rank);
    options.elaborate.inputShapeSource = "the input " + firstPath + " (shape " +
                                         formatDims(first.shape, first.rank) + "):";
  }
  auto module = buildModule(options, session.context, /*optimize=*/true);
  if (!module)
    return false;
  // The function's input type says what the network takes (the batch is ?).
  mlir::FuncOp func = *module->getOps<mlir::FuncOp>().begin();
  llvm::ArrayRef<int64_t> declared =
      func.getArgument(0).getType().cast<mlir::RankedTensorType>().getShape();
  for (size_t k = 0; k < inputs.size(); ++k) {
    const netc_array &input = *inputs[k];
    bool matches = static_cast<size_t>(input.rank) == declared.size() && input.rank > 0 &&
                   input.shape[0] >= 1 && input.shape[0] <= INT32_MAX;
    for (size_t i = 1; matches && i < declared.size(); ++i)
      matches = declared[i] == input.shape[i];
    if (!matches) {
      std::string takes = "[N";
      for (size_t i = 1; i < declared.size(); ++i)
        takes += "," + std::to_string(declared[i]);
      fail(paths[k] + ": the input has shape " + formatDims(input.shape, input.rank) + " but '" +
           options.entry + "' takes " + takes + "]" +
           (k > 0 && shapeFromInput ? " (the sizes of the first --input)" : ""));
      return false;
    }
  }
  netc::lowering::Program &program = session.program;
  std::optional<Variant> target = jitTarget(options, *module);
  if (!target || !netc::lowering::lower(*module, lowerOptionsFor(options, *target), program))
    return false;
  session.module = std::move(module);
  session.runner = std::make_unique<netc::JitRunner>(program);
  std::string weightsPath = weights;
  if (weightsPath.empty()) { // an ONNX model's own (main checked)
    if (!session.initializers.write(options))
      return false;
    weightsPath = session.initializers.path();
  }
  std::string error;
  if (!session.runner->load(weightsPath, stripPrefix, error)) {
    // The library's accessor for the full list is --check-weights here,
    // and the runtime's general advice becomes the command to run.
    auto replace = [&](const std::string &from, const std::string &to) {
      size_t at = error.find(from);
      if (at != std::string::npos)
        error.replace(at, from.size(), to);
    };
    std::string check =
        options.isModule() ? std::string() : checkWeightsCommand(options, options.entry, weights);
    if (!check.empty()) {
      replace(program.name + "_check_weights lists them all", check + " lists them all");
      replace("'netc --entry NAME --check-weights FILE' lists the zoo entries they fit",
              "'" + check + "' lists the entries they fit");
    }
    fail(error + (options.isModule() ? "" : fittingEntries(options, weights)));
    return false;
  }
  return true;
}

int runJit(Options &options, const RunOptions &run) {
  netc_error err{};
  std::vector<Array> inputs;
  if (!readInputs(run.inputs, inputs))
    return 1;
  JitSession session;
  if (!startJit(options, run.inputs, inputs, run.weights, run.stripPrefix, session))
    return 1;
  netc::lowering::Program &program = session.program;
  netc::JitRunner &runner = *session.runner;
  std::string error;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const netc_array &input = *inputs[k];
    int batch = static_cast<int>(input.shape[0]);
    std::vector<int64_t> outShape = program.tensors[program.output].shape;
    outShape[0] = batch;
    int64_t perSample = program.tensors[program.output].perSample();
    std::vector<float> result(static_cast<size_t>(perSample) * static_cast<size_t>(batch));
    if (run.profile) {
      if (inputs.size() > 1)
        llvm::outs() << run.inputs[k] << ":\n";
      if (!printProfile(program, runner, input.data, batch, run, error))
        return fail(run.inputs[k] + ": " + error);
    }
    // --repeat counts a profile's rounds; the outputs come from one more run.
    int repeat = run.profile ? 1 : run.repeat;
    std::vector<double> ms;
    for (int i = 0; i < repeat; ++i) {
      auto start = std::chrono::steady_clock::now();
      if (!runner.run(input.data, batch, result.data(), run.threads, error))
        return fail(run.inputs[k] + ": " + error);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                             start).count());
    }
    if (inputs.size() > 1 && !run.profile && (repeat > 1 || run.print))
      llvm::outs() << run.inputs[k] << ":\n";
    if (repeat > 1) {
      std::sort(ms.begin(), ms.end());
      llvm::outs() << llvm::format("median %.3f ms over %d runs (min %.3f, max %.3f), batch %d, ",
                                   ms[ms.size() / 2], repeat, ms.front(), ms.back(), batch)
                   << (run.threads ? std::to_string(run.threads) : std::string("default"))
                   << " threads (JIT)\n";
    }
    if (run.print)
      printTopFive(result, batch, perSample);
    if (!run.outputs.empty() &&
        netc_npy_write(run.outputs[k].c_str(), result.data(), static_cast<int>(outShape.size()),
                       outShape.data(), &err) != NETC_OK)
      return fail(err.message);
  }
  return 0;
}

} // namespace netc::driver
