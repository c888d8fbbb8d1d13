//===- netc.cpp - The netc driver ------------------------------------------===//
//
// netc [SPEC.nn | MODULE.mlir] --entry NAME (-o DIR | --emit=... | --print-*)
// netc run [SPEC] --entry NAME --weights W --input X.npy --output Y.npy
// netc --list
//
// This file reads and validates the command line; the stages live in
// Driver.cpp and the listings in Print.cpp.
//
//===----------------------------------------------------------------------===//
#include "Driver.h"

#include "netc/Codegen/Codegen.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>
#include <memory>
#include <optional>
#include <string>

#ifndef NETC_ZOO_DIR
#error "NETC_ZOO_DIR must name the model zoo directory"
#endif

namespace cl = llvm::cl;
using namespace netc::driver;

namespace {

cl::OptionCategory category("netc options");

cl::SubCommand runCommand("run", "Run a network with Halide's JIT: netc run [SPEC] --entry "
                                 "NAME --weights W.safetensors --input X.npy --output Y.npy");

cl::opt<std::string> specPath(cl::Positional, cl::desc("[SPEC.nn | MODULE.mlir]"), cl::init(""),
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
cl::opt<bool> printSummaryTable(
    "summary",
    cl::desc("Print a per-layer table (module path, op, output shape, parameters, MACs)\n"
             "with totals; needs static sizes (--input-shape)"),
    cl::cat(category));
cl::opt<std::string> checkWeightsPath(
    "check-weights", cl::value_desc("W.safetensors"),
    cl::desc("Check that a weights file fits the entry (names, dtypes, shapes); when it\n"
             "does not, list every problem and the entries it does fit"),
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
cl::opt<bool> fuse("fuse", cl::sub(*cl::AllSubCommands),
                   cl::desc("Fuse each conv with the BatchNorm, sum and activation that only it "
                            "feeds (pass nn-fuse-conv-epilogue; default true). --fuse=false "
                            "keeps them separate steps, for comparison"),
                   cl::init(true), cl::cat(category));
cl::opt<bool> winograd("winograd", cl::sub(*cl::AllSubCommands),
                       cl::desc("Compute 3x3 stride-1 convs by Winograd's F(4x4, 3x3) or "
                                "F(2x2, 3x3): 4x or 2.25x fewer multiply-adds (default true). "
                                "--winograd=false keeps the direct convolution, for "
                                "comparison"),
                       cl::init(true), cl::cat(category));
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


int usageError(const std::string &message) {
  llvm::errs() << "netc: error: " << message << "\n"
               << "Run 'netc --help' for usage.\n";
  return 1;
}

bool isIdentifier(const std::string &s) {
  return !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0])) &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
             std::string::npos;
}

/// The Halide target named by --target, or nothing (with a message).
llvm::Optional<Halide::Target> parseTarget() {
  if (targetString == "host")
    return Halide::get_host_target();
  if (!Halide::Target::validate_target_string(targetString)) {
    fail("'" + targetString + "' is not a Halide target (e.g. x86-64-linux-avx2-avx512)");
    return llvm::None;
  }
  return Halide::Target(targetString);
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
      "  netc my_net.nn --entry mynet --print-keys    a spec of your own\n"
      "  netc --entry resnet50 --summary --input-shape 1,3,224,224   parameters and MACs\n"
      "  netc --entry resnet18 --check-weights w.safetensors          does a checkpoint fit?\n"
      "  netc --entry lenet5 --emit=nn-opt > l.mlir   the nn IR (edit it, or run netc-opt)\n"
      "  netc l.mlir --entry lenet5 -o out/           a library from nn IR\n");

  Options options;
  options.spec = specPath;
  options.entry = entryText;
  options.zoo = zooDir;
  options.elaborate.inputShape.assign(inputShape.begin(), inputShape.end());
  options.name = funcName.empty() ? netc::dsl::entryCallee(options.entry) : std::string(funcName);
  if (options.isModule())
    options.name = funcName.empty() ? options.entry : std::string(funcName);
  if (!funcName.empty() && !isIdentifier(funcName))
    return usageError("--name '" + funcName + "' is not a C identifier");
  if (llvm::StringRef(options.name).startswith("netc_"))
    return usageError("the name '" + options.name + "' starts with 'netc_', which the runtime's "
                      "symbols use; give another with --name");
  if (options.isModule() && !options.entry.empty() && !isIdentifier(options.name))
    return usageError("the function '" + options.name + "' is not a C identifier; give the "
                      "library's name with --name");
  const char *envCC = std::getenv("NETC_CC");
  options.fuse = fuse;
  options.winograd = winograd;
  options.cCompiler = !cCompiler.empty() ? std::string(cCompiler)
                      : envCC && *envCC  ? std::string(envCC)
                                         : std::string(NETC_DEFAULT_CC);
  options.outputDir = outputDir;

  if (runCommand) {
    if (options.entry.empty())
      return usageError("no --entry given; 'netc --list' shows the zoo's entries");
    if (weightsPath.empty() || inputPath.empty() || outputPath.empty())
      return usageError("netc run needs --weights, --input and --output");
    return runJit(options, weightsPath, inputPath, outputPath);
  }
  llvm::Optional<Halide::Target> target = parseTarget();
  if (!target)
    return 1;
  options.target = *target;
  if (!runtimeOut.empty()) {
    std::string error;
    if (!netc::codegen::writeHalideRuntime(runtimeOut, *target, error))
      return fail(error);
    if (options.entry.empty())
      return 0;
  }
  if (listZoo) {
    if (!options.entry.empty() || printKeys || printShapes || printSummaryTable)
      return usageError("--list cannot be combined with --entry or --print-*");
    return listEntries(options);
  }
  if (options.entry.empty())
    return usageError("no --entry given; 'netc --list' shows the zoo's entries");
  if (!outputDir.empty() && emit == Emit::None)
    emit = Emit::Lib;
  int actions = printKeys + printShapes + printSummaryTable + !checkWeightsPath.empty() +
                (emit != Emit::None);
  if (actions == 0)
    return usageError("nothing to do: give -o DIR, --emit, --print-keys, --print-shapes or "
                      "--summary");
  if (actions > 1)
    return usageError("give only one of --print-keys, --print-shapes, --summary, "
                      "--check-weights and --emit");
  if (options.isModule() && (printKeys || printShapes || printSummaryTable ||
                             !checkWeightsPath.empty()))
    return usageError("--print-keys, --print-shapes, --summary and --check-weights read a spec "
                      "(.nn), not nn IR");
  if (!checkWeightsPath.empty())
    return checkWeights(options, checkWeightsPath);
  if (options.isModule() && !options.elaborate.inputShape.empty())
    return usageError("--input-shape binds a spec's sizes; nn IR has static sizes already");

  if (printKeys || printShapes || printSummaryTable) {
    Sources sources;
    std::optional<netc::dsl::Graph> graph = elaborateEntry(options, sources);
    if (!graph)
      return 1;
    if (printSummaryTable && printSummary(*graph) != 0)
      return 1;
    if (printKeys)
      printKeyList(*graph);
    else if (printShapes)
      printShapeList(*graph);
    llvm::outs().flush();
    return 0;
  }
  CompilerContext context;
  auto module = buildModule(options, context, emit != Emit::NN);
  if (!module)
    return 1;
  switch (emit) {
  case Emit::NN:
  case Emit::NNOpt:
    module->print(llvm::outs(), mlir::OpPrintingFlags().enableDebugInfo());
    llvm::outs() << "\n";
    break;
  case Emit::Dot:
    printDot(*module);
    break;
  case Emit::Header:
    return runBackEnd(options, *module, Output::Header);
  case Emit::HalideStmt:
    return runBackEnd(options, *module, Output::HalideStmt);
  default:
    return runBackEnd(options, *module, Output::Library);
  }
  llvm::outs().flush();
  return 0;
}
