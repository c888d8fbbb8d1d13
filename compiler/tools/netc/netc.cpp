//===- netc.cpp - The netc driver ------------------------------------------===//
//
// netc [SPEC] --entry NAME (--print-keys | --print-shapes) [--input-shape ...]
// netc --list
//
// The driver is a chain of stage functions over one Options struct: the front
// end (parse + elaborate) produces a layer graph that each action prints.
//
//===----------------------------------------------------------------------===//
#include "netc/Codegen/Codegen.h"
#include "netc/Execution/Jit.h"
#include "netc/FrontEnd/BuildNN.h"
#include "netc/Lowering/Program.h"
#include "netc/Transforms/Passes.h"
#include "netc/dsl/Elaborator.h"
#include "netc/dsl/Spec.h"
#include "netc/runtime.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>
#include <memory>
#include <optional>
#include <string>

#ifndef NETC_ZOO_DIR
#error "NETC_ZOO_DIR must name the model zoo directory"
#endif

namespace cl = llvm::cl;
using namespace netc::dsl;

namespace {

cl::OptionCategory category("netc options");

cl::SubCommand runCommand("run", "Run a network with Halide's JIT: netc run [SPEC] --entry "
                                 "NAME --weights W.safetensors --input X.npy --output Y.npy");

cl::opt<std::string> specPath(cl::Positional, cl::desc("[SPEC.nn]"), cl::init(""),
                              cl::cat(category), cl::sub(*cl::AllSubCommands));
cl::opt<std::string> entryText(
    "entry", cl::value_desc("NAME or CALL"), cl::sub(*cl::AllSubCommands),
    cl::desc("The net or alias to compile, optionally with arguments:\n"
             "  --entry resnet50   --entry 'resnet(50, groups=32, wpg=4)'\n"
             "Without SPEC it is looked up in the model zoo"),
    cl::cat(category));
cl::opt<bool> printKeys("print-keys",
                        cl::desc("Print one line per parameter: KEY DTYPE [d0,d1,...], "
                                 "in state_dict order"),
                        cl::cat(category));
cl::opt<bool> printShapes("print-shapes",
                          cl::desc("Print every layer's output shape"), cl::cat(category));
enum class Emit { None, NN, NNOpt, HalideStmt, Header, Lib, Dot };
cl::opt<Emit> emit(
    "emit", cl::desc("Print a stage of the compilation (or, for lib, write it):"),
    cl::values(clEnumValN(Emit::NN, "nn", "the nn dialect, as elaborated"),
               clEnumValN(Emit::NNOpt, "nn-opt", "the nn dialect after the graph passes"),
               clEnumValN(Emit::HalideStmt, "halide-stmt",
                          "each distinct pipeline's lowered Halide statement"),
               clEnumValN(Emit::Header, "header", "the generated C header"),
               clEnumValN(Emit::Lib, "lib", "the static library and headers (same as -o)"),
               clEnumValN(Emit::Dot, "dot", "the layer graph for Graphviz")),
    cl::init(Emit::None), cl::cat(category));
cl::opt<std::string> outputDir("o", cl::value_desc("DIR"),
                               cl::desc("Write DIR/libNAME.a, DIR/NAME.h and DIR/NAME.hpp"),
                               cl::cat(category));
cl::opt<std::string> runtimeOut("halide-runtime", cl::value_desc("FILE.a"),
                                cl::desc("Write the Halide runtime that all netc models in one "
                                         "binary share"),
                                cl::cat(category));
cl::opt<std::string> cCompiler("cc", cl::value_desc("PROGRAM"),
                               cl::desc("C compiler for the generated driver (default: $NETC_CC, "
                                        "else " NETC_DEFAULT_CC ")"),
                               cl::cat(category));
cl::opt<std::string> targetString("target", cl::value_desc("HALIDE-TARGET"),
                                  cl::desc("Halide target, e.g. x86-64-linux-avx2 (default: host)"),
                                  cl::init("host"), cl::cat(category));
cl::opt<std::string> funcName("name", cl::value_desc("IDENT"),
                              cl::desc("Name of the generated function (default: the "
                                       "entry's name)"),
                              cl::cat(category));
cl::list<int64_t> inputShape(
    "input-shape", cl::CommaSeparated, cl::value_desc("N,C,H,W"), cl::sub(*cl::AllSubCommands),
    cl::desc("Bind the input's symbolic sizes, e.g. --input-shape 1,3,224,224"),
    cl::cat(category));
cl::opt<bool> listZoo("list", cl::desc("List the entries of the model zoo (or of SPEC)"),
                      cl::cat(category));
cl::opt<std::string> zooDir("zoo", cl::value_desc("DIR"), cl::sub(*cl::AllSubCommands),
                            cl::desc("Model zoo directory (default: " NETC_ZOO_DIR ")"),
                            cl::init(NETC_ZOO_DIR), cl::cat(category));

cl::opt<std::string> weightsPath("weights", cl::value_desc("W.safetensors"),
                                 cl::desc("Weights, as a PyTorch state_dict in safetensors"),
                                 cl::sub(runCommand), cl::cat(category));
cl::opt<std::string> inputPath("input", cl::value_desc("X.npy"),
                               cl::desc("Input batch: float32 NCHW .npy"), cl::sub(runCommand),
                               cl::cat(category));
cl::opt<std::string> outputPath("output", cl::value_desc("Y.npy"),
                                cl::desc("Where to write the output (.npy, written atomically)"),
                                cl::sub(runCommand), cl::cat(category));

/// What one invocation asks for, validated.
struct Options {
  std::string spec;       // empty: use the zoo
  std::string entry;
  std::string zoo;
  std::string name;       // generated function name
  ElaborateOptions elaborate;
};

int reportError(const Diagnostic &diag) {
  llvm::errs() << diag.render();
  return 1;
}

int usageError(const std::string &message) {
  llvm::errs() << "netc: error: " << message << "\n"
               << "Run 'netc --help' for usage.\n";
  return 1;
}

/// The spec files an invocation reads: SPEC alone, or the whole zoo.
struct Sources {
  std::unique_ptr<Module> spec;
  Zoo zoo;
};

/// Front end: loads the spec (or the zoo) and elaborates the entry.
std::optional<Graph> runFrontEnd(const Options &options, Sources &sources) {
  Diagnostic diag;
  const Module *module = nullptr;
  if (!options.spec.empty()) {
    sources.spec = loadSpec(options.spec, diag);
    module = sources.spec.get();
  } else if (sources.zoo.load(options.zoo, diag)) {
    std::string callee = entryCallee(options.entry);
    if (callee.empty()) {
      // Let the elaborator explain what is wrong with the entry text.
      static const Module empty{std::make_unique<SourceFile>("<zoo>", ""), {}};
      module = &empty;
    } else {
      module = sources.zoo.find(callee, diag);
    }
  }
  if (!module) {
    reportError(diag);
    return std::nullopt;
  }
  std::optional<Graph> graph = elaborate(*module, options.entry, options.elaborate, diag);
  if (!graph)
    reportError(diag);
  return graph;
}

/// Middle end: the nn module, and the graph passes when `optimize`.
mlir::OwningOpRef<mlir::ModuleOp> buildModule(const Options &options, const Graph &graph,
                                              mlir::MLIRContext &context, bool optimize) {
  std::string error;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      netc::buildNNModule(graph, options.name, context, error);
  if (!module) {
    llvm::errs() << "netc: error: " << error << "\n";
    return nullptr;
  }
  if (!optimize)
    return module;
  mlir::PassManager pm(&context);
  pm.addNestedPass<mlir::FuncOp>(netc::nn::createStripInferenceIdentitiesPass());
  pm.addPass(mlir::createCanonicalizerPass());
  if (mlir::failed(pm.run(*module))) {
    llvm::errs() << "netc: error: the graph passes failed\n";
    return nullptr;
  }
  return module;
}

/// `netc run`: elaborate, lower, JIT, execute on one .npy batch.
int runJit(Options &options) {
  if (weightsPath.empty() || inputPath.empty() || outputPath.empty())
    return usageError("netc run needs --weights, --input and --output");
  netc_error err{};
  netc_array input{};
  if (netc_npy_read(inputPath.c_str(), &input, &err) != NETC_OK) {
    llvm::errs() << "netc: error: " << err.message << "\n";
    return 1;
  }
  std::unique_ptr<netc_array, void (*)(netc_array *)> inputOwner(&input, netc_array_free);
  if (options.elaborate.inputShape.empty())
    options.elaborate.inputShape.assign(input.shape, input.shape + input.rank);
  Sources sources;
  std::optional<Graph> graph = runFrontEnd(options, sources);
  if (!graph)
    return 1;
  const Shape &declared = graph->layers[0].shape;
  bool matches = static_cast<size_t>(input.rank) == declared.size();
  for (size_t i = 1; matches && i < declared.size(); ++i)
    matches = declared[i].known() && declared[i].value == input.shape[i];
  if (!matches || input.rank < 1 || input.shape[0] < 1) {
    llvm::errs() << "netc: error: " << inputPath << ": the input has shape "
                 << formatShape([&] {
                      Shape s;
                      for (int i = 0; i < input.rank; ++i)
                        s.push_back(Dim::of(input.shape[i]));
                      return s;
                    }())
                 << " but '" << options.entry << "' takes " << formatShape(declared) << "\n";
    return 1;
  }
  mlir::MLIRContext context;
  auto module = buildModule(options, *graph, context, /*optimize=*/true);
  if (!module)
    return 1;
  netc::lowering::Program program;
  netc::lowering::LowerOptions lowerOptions;
  std::string error;
  if (!netc::lowering::lower(*module, lowerOptions, program, error)) {
    llvm::errs() << "netc: error: " << error << "\n";
    return 1;
  }
  netc::JitRunner runner(program);
  if (!runner.load(weightsPath, netc::expectedWeights(*graph), error)) {
    llvm::errs() << "netc: error: " << error << "\n";
    return 1;
  }
  int batch = static_cast<int>(input.shape[0]);
  const netc::lowering::Tensor &out = program.tensors[program.output];
  std::vector<int64_t> outShape = out.shape;
  outShape[0] = batch;
  std::vector<float> result(static_cast<size_t>(out.perSample()) * batch);
  if (!runner.run(input.data, batch, result.data(), error)) {
    llvm::errs() << "netc: error: " << error << "\n";
    return 1;
  }
  if (netc_npy_write(outputPath.c_str(), result.data(), static_cast<int>(outShape.size()),
                     outShape.data(), &err) != NETC_OK) {
    llvm::errs() << "netc: error: " << err.message << "\n";
    return 1;
  }
  return 0;
}

/// The Halide target named by --target, or nothing (with a message).
llvm::Optional<Halide::Target> parseTarget() {
  if (targetString == "host")
    return Halide::get_host_target();
  if (!Halide::Target::validate_target_string(targetString)) {
    llvm::errs() << "netc: error: '" << targetString << "' is not a Halide target (e.g. "
                 << "x86-64-linux-avx2-avx512)\n";
    return llvm::None;
  }
  return Halide::Target(targetString);
}

/// Graphviz: one node per op with its module path and result shape.
void printDot(mlir::ModuleOp module) {
  llvm::outs() << "digraph net {\n  node [shape=box, fontname=\"monospace\"];\n";
  llvm::DenseMap<mlir::Value, std::string> names;
  int next = 0;
  module.walk([&](mlir::FuncOp func) {
    names[func.getArgument(0)] = "n0";
    llvm::outs() << "  n0 [label=\"input\"];\n";
    for (mlir::Operation &op : func.getBody().front()) {
      if (op.getNumResults() == 0) {
        for (mlir::Value v : op.getOperands())
          if (names.count(v))
            llvm::outs() << "  " << names[v] << " -> out;\n";
        continue;
      }
      std::string id = "n" + std::to_string(++next);
      names[op.getResult(0)] = id;
      std::string label = op.getName().stripDialect().str();
      if (auto loc = op.getLoc().dyn_cast<mlir::NameLoc>())
        label = loc.getName().str() + "\\n" + label;
      std::string type;
      llvm::raw_string_ostream os(type);
      os << op.getResult(0).getType();
      llvm::outs() << "  " << id << " [label=\"" << label << "\\n" << os.str() << "\"];\n";
      for (mlir::Value v : op.getOperands())
        if (names.count(v))
          llvm::outs() << "  " << names[v] << " -> " << id << ";\n";
    }
  });
  llvm::outs() << "  out [label=\"output\"];\n}\n";
}

/// Back end: lower, then print or write what was asked.
int runBackEnd(const Graph &graph, mlir::ModuleOp module) {
  llvm::Optional<Halide::Target> target = parseTarget();
  if (!target)
    return 1;
  netc::lowering::Program program;
  netc::lowering::LowerOptions lowerOptions;
  lowerOptions.target = *target;
  std::string error;
  if (!netc::lowering::lower(module, lowerOptions, program, error)) {
    llvm::errs() << "netc: error: " << error << "\n";
    return 1;
  }
  std::vector<netc::ExpectedWeight> expected = netc::expectedWeights(graph);
  if (emit == Emit::Header) {
    llvm::outs() << netc::codegen::emitHeader(program, expected);
    return 0;
  }
  if (emit == Emit::HalideStmt) {
    llvm::SmallString<128> path;
    llvm::sys::fs::createTemporaryFile("netc", "stmt", path);
    for (netc::lowering::Group &group : program.groups) {
      group.pipeline.compile_to_lowered_stmt(std::string(path), group.arguments(),
                                             Halide::StmtOutputFormat::Text, *target);
      auto text = llvm::MemoryBuffer::getFile(path);
      llvm::outs() << "// " << group.function << ": " << group.description << "\n"
                   << (text ? (*text)->getBuffer() : "") << "\n";
    }
    llvm::sys::fs::remove(path);
    return 0;
  }
  netc::codegen::CodegenOptions codegen;
  codegen.outputDir = outputDir.empty() ? "." : std::string(outputDir);
  codegen.target = *target;
  const char *envCC = std::getenv("NETC_CC");
  codegen.cCompiler = !cCompiler.empty() ? std::string(cCompiler)
                      : envCC && *envCC  ? std::string(envCC)
                                         : std::string(NETC_DEFAULT_CC);
  codegen.includeDirs = {NETC_RUNTIME_INCLUDE_DIR, NETC_HALIDE_INCLUDE_DIR};
  if (!netc::codegen::writeLibrary(program, expected, codegen, error)) {
    llvm::errs() << "netc: error: " << error << "\n";
    return 1;
  }
  return 0;
}

int listEntries(const Options &options) {
  Diagnostic diag;
  if (!options.spec.empty()) {
    auto module = loadSpec(options.spec, diag);
    if (!module)
      return reportError(diag);
    for (const EntryInfo &e : netc::dsl::listEntries(*module))
      llvm::outs() << e.name << "  " << e.signature << "\n";
    return 0;
  }
  Zoo zoo;
  if (!zoo.load(options.zoo, diag))
    return reportError(diag);
  for (const Zoo::Entry &e : zoo.entries()) {
    std::string file = e.module->source->name();
    file = file.substr(file.find_last_of('/') + 1);
    llvm::outs() << llvm::left_justify(e.info.name, 22) << " "
                 << llvm::left_justify(file, 16) << " " << e.info.signature << "\n";
  }
  return 0;
}

void printKeyList(const Graph &graph) {
  for (const Weight *w : graph.weights()) {
    llvm::outs() << w->key << " " << dtypeName(w->dtype) << " [";
    for (size_t i = 0; i < w->shape.size(); ++i)
      llvm::outs() << (i ? "," : "") << w->shape[i];
    llvm::outs() << "]\n";
  }
}

void printShapeList(const Graph &graph) {
  for (const Layer &layer : graph.layers) {
    // An unnamed layer shows where it sits: "layer1.0/relu".
    std::string name = layer.path.empty()
                           ? (layer.scope.empty() ? "" : layer.scope + "/") + opName(layer.kind)
                           : layer.path;
    llvm::outs() << llvm::left_justify(name, 34) << " "
                 << llvm::left_justify(opName(layer.kind), 17) << " "
                 << formatShape(layer.shape) << (layer.auxiliary ? "  (auxiliary)" : "")
                 << "\n";
  }
  llvm::outs() << "output: " << formatShape(graph.layers[graph.output].shape) << "\n";
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::HideUnrelatedOptions(category, runCommand);
  cl::ParseCommandLineOptions(
      argc, argv,
      "netc - ahead-of-time compiler for convolutional networks\n\n"
      "Examples:\n"
      "  netc --entry lenet5 -o out/                  out/liblenet5.a, lenet5.h, lenet5.hpp\n"
      "  netc run --entry lenet5 --weights w.safetensors --input x.npy --output y.npy\n"
      "  netc --list                                  entries of the model zoo\n"
      "  netc --entry resnet50 --print-keys           parameters, as state_dict keys\n"
      "  netc --entry 'resnet(50, groups=32, wpg=4)' --print-shapes --input-shape 1,3,224,224\n"
      "  netc my_net.nn --entry mynet --print-keys    a spec of your own\n");

  Options options;
  options.spec = specPath;
  options.entry = entryText;
  options.zoo = zooDir;
  options.elaborate.inputShape.assign(inputShape.begin(), inputShape.end());
  options.name = funcName.empty() ? entryCallee(options.entry) : std::string(funcName);
  if (!funcName.empty() &&
      (funcName.empty() || std::isdigit(static_cast<unsigned char>(funcName[0])) ||
       funcName.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789_") != std::string::npos))
    return usageError("--name '" + funcName + "' is not a C identifier");

  if (runCommand) {
    if (options.entry.empty())
      return usageError("no --entry given; 'netc --list' shows the zoo's entries");
    return runJit(options);
  }
  if (!runtimeOut.empty()) {
    llvm::Optional<Halide::Target> target = parseTarget();
    if (!target)
      return 1;
    std::string error;
    if (!netc::codegen::writeHalideRuntime(runtimeOut, *target, error)) {
      llvm::errs() << "netc: error: " << error << "\n";
      return 1;
    }
    if (options.entry.empty())
      return 0;
  }
  if (listZoo) {
    if (!options.entry.empty() || printKeys || printShapes)
      return usageError("--list cannot be combined with --entry or --print-*");
    return listEntries(options);
  }
  if (options.entry.empty())
    return usageError("no --entry given; 'netc --list' shows the zoo's entries");
  if (!outputDir.empty() && emit == Emit::None)
    emit = Emit::Lib;
  int actions = printKeys + printShapes + (emit != Emit::None);
  if (actions == 0)
    return usageError("nothing to do: give -o DIR, --emit, --print-keys or --print-shapes");
  if (actions > 1)
    return usageError("give only one of --print-keys, --print-shapes and --emit");

  Sources sources;
  std::optional<Graph> graph = runFrontEnd(options, sources);
  if (!graph)
    return 1;
  if (printKeys) {
    printKeyList(*graph);
  } else if (printShapes) {
    printShapeList(*graph);
  } else {
    mlir::MLIRContext context;
    auto module = buildModule(options, *graph, context, emit != Emit::NN);
    if (!module)
      return 1;
    if (emit == Emit::NN || emit == Emit::NNOpt) {
      module->print(llvm::outs(), mlir::OpPrintingFlags().enableDebugInfo());
      llvm::outs() << "\n";
    } else if (emit == Emit::Dot) {
      printDot(*module);
    } else {
      return runBackEnd(*graph, *module);
    }
  }
  llvm::outs().flush();
  return 0;
}
