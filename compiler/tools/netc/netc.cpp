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
#include "netc/Lowering/TargetInfo.h"
#include "netc/runtime.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <string>

#if !defined(NETC_ZOO_DIR) || !defined(NETC_RUNTIME_INCLUDE_DIR)
#error "NETC_ZOO_DIR and NETC_RUNTIME_INCLUDE_DIR must name the source tree's zoo and headers"
#endif

namespace cl = llvm::cl;
using namespace netc::driver;

namespace {

cl::OptionCategory category("netc options");

cl::SubCommand runCommand("run", "Run a network with Halide's JIT: netc run [SPEC] --entry "
                                 "NAME --weights W.safetensors --input X.npy (--output Y.npy | "
                                 "--print | --repeat N) [--threads N]");

cl::SubCommand calibrateCommand(
    "calibrate", "Measure every tensor's range for INT8: netc calibrate [SPEC] --entry NAME "
                 "--weights W.safetensors --input CALIB.npy [--method minmax|percentile|mse] "
                 "-o Q.json");

cl::opt<std::string> specPath(cl::Positional, cl::desc("[SPEC.nn | MODULE.mlir | MODEL.onnx]"), cl::init(""),
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
               clEnumValN(Emit::NNOpt, "nn-opt",
                          "the nn dialect after the graph passes and the planner (each op's "
                          "layout and template, for --target)"),
               clEnumValN(Emit::HalideStmt, "halide-stmt",
                          "each distinct pipeline's lowered Halide statement"),
               clEnumValN(Emit::Header, "header", "the generated C header"),
               clEnumValN(Emit::Lib, "lib", "the static library and headers (same as -o)"),
               clEnumValN(Emit::Dot, "dot", "the layer graph for Graphviz")),
    cl::init(Emit::None), cl::cat(category));
cl::opt<std::string> outputDir("o", cl::value_desc("DIR"),
                               cl::desc("Write DIR/libNAME.a, DIR/NAME.h and DIR/NAME.hpp"),
                               cl::cat(category));
cl::opt<std::string> embedWeightsPath(
    "embed-weights", cl::value_desc("W.safetensors"),
    cl::desc("Embed these weights in the library (checked now): NAME_load_embedded loads "
             "them, for a single binary with no file to ship. For MODEL.onnx, give the model\n"
             "itself to embed its initializers"),
    cl::cat(category));
cl::opt<std::string> exportWeightsPath(
    "export-weights", cl::value_desc("W.safetensors"),
    cl::desc("MODEL.onnx: write the weights its layers read (its initializers, external data\n"
             "included) as safetensors, by their names in the graph, for the library's load"),
    cl::cat(category));
cl::opt<std::string> runtimeOut("halide-runtime", cl::value_desc("FILE.a"),
                                cl::desc("Write the Halide runtime that all netc models in one "
                                         "binary share"),
                                cl::cat(category));
cl::opt<std::string> cCompiler("cc", cl::value_desc("PROGRAM"),
                               cl::desc("C compiler for the generated driver (default: $NETC_CC, "
                                        "else " NETC_DEFAULT_CC ")"),
                               cl::cat(category));
cl::opt<std::string> targetString(
    "target", cl::value_desc("HALIDE-TARGET"),
    cl::desc("What the code runs on (default host): host or x86-64-linux, x86 CPUs, with the\n"
             "--isa variants; host-cuda[-cuda_capability_NN], NVIDIA GPUs; or a Halide target\n"
             "naming x86 features (x86-64-linux-avx2-fma-f16c-sse41), that one variant only"),
    cl::init("host"), cl::cat(category));
cl::list<std::string> isaList(
    "isa", cl::CommaSeparated, cl::value_desc("avx2,avx512,avx512-vnni,avx512-amx|host"),
    cl::sub(*cl::AllSubCommands),
    cl::desc("The x86 code variants a library carries; it runs the highest the CPU has (at\n"
             "most $NETC_ISA or the load option isa). Default: avx512,avx2; avx512-vnni too\n"
             "where INT8 (vpdpbusd) or --bf16-dot (vdpbf16ps) use it; avx512-amx too for INT8\n"
             "and BF16 (convs on netc's AMX kernels). host: the one of\n"
             "those this CPU would run. netc run and calibrate run the highest of them this\n"
             "CPU has"),
    cl::cat(category));
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
cl::opt<std::string> precisionName(
    "precision", cl::value_desc("fp32|bf16|int8"), cl::sub(*cl::TopLevelSubCommand),
    cl::sub(runCommand),
    cl::desc("Operand precision of the conv and linear layers (default fp32). bf16: weights\n"
             "rounded to BF16 at load and activations where they are produced, products\n"
             "summed in float32 (FMAs on the widened values, or vdpbf16ps: --bf16-dot).\n"
             "int8 (needs --qparams): u8 activations quantized where they are produced, s8\n"
             "weights per output channel (symmetric, after folding BatchNorm) quantized at\n"
             "load, convs summed in int32 by vpdpbusd, bias, residual and activation in the\n"
             "float32 epilogue. Either way the classifier's last linear, the layers of\n"
             "--fp32-layers and those no reduced template serves (grouped convs, convs of\n"
             "fewer channels than a vector) stay fp32, and 3x3 convs are direct, not\n"
             "Winograd: --summary says which. Input, output, weights file and C API are\n"
             "float32 as always"),
    cl::init("fp32"), cl::cat(category));
cl::opt<std::string> qparamsPath(
    "qparams", cl::value_desc("Q.json"), cl::sub(*cl::TopLevelSubCommand), cl::sub(runCommand),
    cl::desc("With --precision int8: every tensor's quantization, as netc calibrate writes it"),
    cl::cat(category));
cl::opt<std::string> calibrationMethod(
    "method", cl::value_desc("minmax|percentile|mse"), cl::sub(calibrateCommand),
    cl::desc("How a tensor's range is chosen from the calibration batch: its minimum and\n"
             "maximum (default); the 0.01 % and 99.99 % percentiles; or the clipping of least\n"
             "squared quantization error (as PyTorch's HistogramObserver)"),
    cl::init("minmax"), cl::cat(category));
cl::opt<std::string> calibrationOut("o", cl::value_desc("Q.json"), cl::sub(calibrateCommand),
                                    cl::desc("Where to write the quantization parameters "
                                             "(written atomically)"),
                                    cl::cat(category));
cl::list<std::string> fp32LayerList(
    "fp32-layers", cl::CommaSeparated, cl::value_desc("PATH,..."), cl::sub(*cl::AllSubCommands),
    cl::desc("With --precision bf16: keep these layers in fp32, by module path as --summary\n"
             "prints it; a prefix takes the layers under it (--fp32-layers conv1,layer4)"),
    cl::cat(category));
cl::opt<bool> bf16DotOption(
    "bf16-dot", cl::sub(*cl::AllSubCommands),
    cl::desc("With --precision bf16: compute BF16 convs by vdpbf16ps (true) or by float32 FMAs\n"
             "on BF16 operands widened as read (false). Default: false, as vdpbf16ps issues at\n"
             "half the FMA rate on the Sapphire Rapids Xeon (the one CPU Halide 14 targets with\n"
             "AVX512-BF16) and is emulated elsewhere"),
    cl::cat(category));
cl::opt<bool> listZoo("list", cl::desc("List the entries of the model zoo (or of SPEC)"),
                      cl::cat(category));
cl::opt<std::string> zooDir("zoo", cl::value_desc("DIR"), cl::sub(*cl::AllSubCommands),
                            cl::desc("Model zoo directory (default: PREFIX/share/netc/models "
                                     "when netc is installed in PREFIX/bin, else " NETC_ZOO_DIR
                                     ")"),
                            cl::cat(category));

cl::opt<std::string> weightsPath("weights", cl::value_desc("W.safetensors"),
                                 cl::desc("Weights, as a PyTorch state_dict in safetensors "
                                          "(MODEL.onnx: default, its initializers)"),
                                 cl::sub(runCommand), cl::sub(calibrateCommand),
                                 cl::cat(category));
cl::list<std::string> inputPaths(
    "input", cl::value_desc("X.npy"),
    cl::desc("Input batch: float32 NCHW .npy; repeat it to run several batches (of any\n"
             "batch size, the same other sizes) with one compilation (calibrate: one batch,\n"
             "representative inputs, e.g. a few hundred training images)"),
    cl::sub(runCommand), cl::sub(calibrateCommand), cl::cat(category));
cl::list<std::string> outputPaths(
    "output", cl::value_desc("Y.npy"),
    cl::desc("Where to write the output (.npy, written atomically); one per --input,\n"
             "in the same order"),
    cl::sub(runCommand), cl::cat(category));
cl::opt<int> runThreads("threads", cl::value_desc("N"),
                        cl::desc("Threads the run uses (default 0: one per CPU)"),
                        cl::init(0), cl::sub(runCommand), cl::sub(calibrateCommand),
                        cl::cat(category));
cl::opt<int> runRepeat("repeat", cl::value_desc("N"),
                       cl::desc("Run N times and print the median latency (default 1)"),
                       cl::init(1), cl::sub(runCommand), cl::cat(category));
cl::opt<std::string> runStripPrefix(
    "strip-prefix", cl::value_desc("PREFIX"),
    cl::desc("Remove PREFIX from every weight key first (e.g. 'module.', as DataParallel "
             "saves them)"),
    cl::sub(runCommand), cl::cat(category));
cl::opt<bool> runProfile(
    "profile",
    cl::desc("Time each step alone, over --repeat rounds (default 20), and print a line a step:\n"
             "its median ms, share, GFLOP/s and what computes it (ops [template])"),
    cl::sub(runCommand), cl::cat(category));
cl::opt<bool> runPrint("print", cl::desc("Print each sample's five largest outputs (index and "
                                         "value)"),
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

/// Why `name` cannot name a generated library's symbols and types, or "":
/// a C or C++ keyword, or an identifier the standards reserve.
std::string unusableName(const std::string &name) {
  static const char *const keywords[] = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
      "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
      "const", "consteval", "constexpr", "constinit", "const_cast", "continue", "co_await",
      "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast",
      "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
      "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
      "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
      "reinterpret_cast", "requires", "restrict", "return", "short", "signed", "sizeof",
      "static", "static_assert", "static_cast", "struct", "switch", "template", "this",
      "thread_local", "throw", "true", "try", "typedef", "typeid", "typename", "union",
      "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
      "_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary",
      "_Noreturn", "_Static_assert", "_Thread_local"};
  for (const char *k : keywords)
    if (name == k)
      return "'" + name + "' is a C or C++ keyword";
  if (name == "main")
    return "'main' is the program's entry point";
  if (name[0] == '_' && name.size() > 1 &&
      (name[1] == '_' || std::isupper(static_cast<unsigned char>(name[1]))))
    return "'" + name + "' is reserved for the C implementation (it starts with '_' and a "
           "capital or a second '_')";
  if (name.find("__") != std::string::npos)
    return "'" + name + "' is reserved in C++ (it contains '__')";
  if (name.back() == '_')
    return "'" + name + "' ends with '_', so its functions (" + name + "_run) would contain '__', "
           "which C++ reserves";
  if (llvm::StringRef(name).startswith("netc_"))
    return "'" + name + "' starts with 'netc_', which the runtime's symbols use";
  if (llvm::StringRef(name).startswith("halide_"))
    return "'" + name + "' starts with 'halide_', which the Halide runtime's symbols use";
  return "";
}

/// PREFIX/`relative` when this netc runs from an installation (PREFIX/bin/netc)
/// that has `probe` there; else `sourceTree`.
std::string installedOr(const char *argv0, llvm::StringRef relative, llvm::StringRef probe,
                        const char *sourceTree) {
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable(argv0, &anchor);
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(dir, relative);
  llvm::SmallString<256> probed(dir);
  llvm::sys::path::append(probed, probe);
  if (!exe.empty() && llvm::sys::fs::exists(probed))
    return std::string(dir);
  return sourceTree;
}

/// Where this netc finds the zoo and the runtime's headers (set in main).
std::string defaultZoo, runtimeIncludes;

void printVersion(llvm::raw_ostream &os) {
  os << "netc " NETC_VERSION_STRING " (runtime ABI " << NETC_ABI_VERSION << ")\n"
     << "  built with LLVM/MLIR " LLVM_VERSION_STRING ", Halide " NETC_HALIDE_VERSION "\n"
     << "  host target: " << Halide::get_host_target().to_string() << "\n"
     << "  this CPU runs: " << netc_isa_name(netc_cpu_isa()) << "\n"
     << "  model zoo: " << defaultZoo << "\n"
     << "  runtime headers: " << runtimeIncludes << "\n";
}

/// The Halide target named by --target, or nothing (with a message). host
/// is this machine's OS and architecture, its instruction sets left to the
/// variants.
llvm::Optional<Halide::Target> parseTarget() {
  if (targetString == "host")
    return netc::lowering::variantTarget(Halide::get_host_target(), NETC_ISA_GENERIC);
  if (!Halide::Target::validate_target_string(targetString)) {
    fail("'" + targetString + "' is not a Halide target (e.g. x86-64-linux-avx2-avx512)");
    return llvm::None;
  }
  Halide::Target target(targetString);
  // GPU code: CUDA (what users run) and OpenCL (how the tests run the GPU
  // schedules and the device runtime on a CPU, through pocl). Other device
  // APIs have no runtime support in netc.
  if (target.has_gpu_feature() && !target.has_feature(Halide::Target::CUDA) &&
      !target.has_feature(Halide::Target::OpenCL)) {
    fail("--target '" + targetString + "' asks for a GPU API netc does not support; use "
         "host-cuda (NVIDIA GPUs) or a CPU target (e.g. host)");
    return llvm::None;
  }
  if (target.has_feature(Halide::Target::CUDA) && target.has_feature(Halide::Target::OpenCL)) {
    fail("--target '" + targetString + "' names two GPU APIs; give one");
    return llvm::None;
  }
  if (!target.has_gpu_feature() && target.arch == Halide::Target::X86 &&
      netc::lowering::namesIsaFeatures(target)) {
    if (netc::lowering::isaLevelOf(target) == NETC_ISA_GENERIC) {
      fail("--target '" + targetString + "' names x86 features short of AVX2 and FMA, the "
           "least netc's x86 code needs (its levels: avx2, avx512, avx512-vnni)");
      return llvm::None;
    }
    if (!isaList.empty()) {
      fail("--target '" + targetString + "' names its x86 features, which make the one "
           "variant; --isa chooses variants for host or x86-64-linux: give one or the other");
      return llvm::None;
    }
  }
  if (target.has_gpu_feature() && !isaList.empty()) {
    fail("--isa chooses x86 variants; a GPU target (--target '" + targetString +
         "') has none");
    return llvm::None;
  }
  return target;
}

/// --isa's levels, highest first, into `isas` (host: `host`); false after
/// a message.
bool parseIsas(std::vector<netc_isa> &isas, bool &host) {
  for (const std::string &name : isaList) {
    if (name == "host") {
      if (netc_cpu_isa() == NETC_ISA_GENERIC) {
        usageError("--isa host: this CPU lacks AVX2 and FMA, the least netc's x86 code needs");
        return false;
      }
      host = true;
      continue;
    }
    int level = netc_isa_named(name.c_str());
    if (level <= NETC_ISA_GENERIC) {
      usageError("--isa '" + name + "' is not one of avx2, avx512, avx512-vnni, avx512-amx, host");
      return false;
    }
    if (std::find(isas.begin(), isas.end(), level) == isas.end())
      isas.push_back(static_cast<netc_isa>(level));
  }
  std::sort(isas.rbegin(), isas.rend());
  return true;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::HideUnrelatedOptions(category, runCommand);
  cl::HideUnrelatedOptions(category, calibrateCommand);
  defaultZoo = installedOr(argv[0], "share/netc/models", "resnet.nn", NETC_ZOO_DIR);
  runtimeIncludes = installedOr(argv[0], "include", "netc/runtime.h", NETC_RUNTIME_INCLUDE_DIR);
  cl::SetVersionPrinter(printVersion);
  cl::ParseCommandLineOptions(
      argc, argv,
      "netc - ahead-of-time compiler for convolutional networks\n\n"
      "Examples:\n"
      "  netc --entry lenet5 -o out/                  out/liblenet5.a, lenet5.h, lenet5.hpp\n"
      "  netc run --entry lenet5 --weights w.safetensors --input x.npy --output y.npy\n"
      "  netc run --entry lenet5 --weights w.safetensors --input x.npy --print --repeat 20\n"
      "  netc calibrate --entry lenet5 --weights w.safetensors --input calib.npy -o q.json\n"
      "  netc --entry lenet5 --precision int8 --qparams q.json -o out/   an INT8 library\n"
      "  netc --list                                  entries of the model zoo\n"
      "  netc --entry resnet50 --print-keys           parameters, as state_dict keys\n"
      "  netc --entry 'resnet(50, groups=32, wpg=4)' --print-shapes --input-shape 1,3,224,224\n"
      "  netc my_net.nn --entry mynet --print-keys    a spec of your own\n"
      "  netc --entry resnet50 --summary --input-shape 1,3,224,224   parameters and MACs\n"
      "  netc --entry resnet18 --check-weights w.safetensors          does a checkpoint fit?\n"
      "  netc --entry lenet5 --emit=nn-opt > l.mlir   the nn IR (edit it, or run netc-opt)\n"
      "  netc l.mlir --entry lenet5 -o out/           a library from nn IR\n"
      "  netc resnet18.onnx -o out/                   out/libresnet18.a, ... from ONNX\n"
      "  netc resnet18.onnx --export-weights w.safetensors   its weights, for the library\n"
      "  netc run resnet18.onnx --input x.npy --output y.npy  (weights: the initializers)\n");

  Options options;
  options.spec = specPath;
  options.entry = entryText;
  options.zoo = zooDir.getNumOccurrences() ? std::string(zooDir) : defaultZoo;
  options.zooGiven = zooDir.getNumOccurrences() > 0;
  options.runtimeIncludeDir = runtimeIncludes;
  options.elaborate.inputShape.assign(inputShape.begin(), inputShape.end());
  options.name = funcName.empty() ? netc::dsl::entryCallee(options.entry) : std::string(funcName);
  if (options.isOnnx()) {
    // One network per file: named after the file unless --name says.
    if (!options.entry.empty())
      return usageError("--entry picks a network of a spec; an ONNX model is one network (name "
                        "its library with --name)");
    options.entry = netc::onnx::defaultName(options.spec);
    options.name = funcName.empty() ? options.entry : std::string(funcName);
  }
  if (!exportWeightsPath.empty() && !options.isOnnx())
    return usageError("--export-weights writes an ONNX model's weights: give MODEL.onnx");
  if (options.isModule())
    options.name = funcName.empty() ? options.entry : std::string(funcName);
  if (!funcName.empty() && !isIdentifier(funcName))
    return usageError("--name '" + funcName + "' is not a C identifier");
  if (options.isModule() && !options.entry.empty() && !isIdentifier(options.name))
    return usageError("the function '" + options.name + "' is not a C identifier; give the "
                      "library's name with --name");
  if (!options.name.empty() && isIdentifier(options.name)) {
    std::string why = unusableName(options.name);
    if (!why.empty())
      return usageError((funcName.empty() ? "the library's name " : "--name ") + why +
                        "; give another with --name");
  }
  const char *envCC = std::getenv("NETC_CC");
  options.fuse = fuse;
  options.winograd = winograd;
  if (precisionName != "fp32" && precisionName != "bf16" && precisionName != "int8")
    return usageError("--precision '" + precisionName + "' is not one of fp32, bf16, int8");
  options.precision = precisionName == "bf16"   ? netc::lowering::Precision::BF16
                      : precisionName == "int8" ? netc::lowering::Precision::INT8
                                                : netc::lowering::Precision::FP32;
  if (options.precision == netc::lowering::Precision::INT8 && qparamsPath.empty())
    return usageError("--precision int8 needs every tensor's quantization: give --qparams "
                      "Q.json, written by 'netc calibrate [SPEC] --entry NAME --weights W "
                      "--input CALIB.npy -o Q.json'");
  if (!qparamsPath.empty()) {
    if (options.precision != netc::lowering::Precision::INT8)
      return usageError("--qparams quantizes an INT8 build: give --precision int8 too");
    options.qparamsPath = qparamsPath;
    if (!readQParams(qparamsPath, options.qparams))
      return 1;
  }
  options.fp32Layers.assign(fp32LayerList.begin(), fp32LayerList.end());
  if (!parseIsas(options.isas, options.hostIsa))
    return 1;
  // netc run and calibrate run here: on this machine, with the variants.
  options.target = netc::lowering::variantTarget(Halide::get_host_target(), NETC_ISA_GENERIC);
  if (bf16DotOption.getNumOccurrences()) {
    if (options.precision != netc::lowering::Precision::BF16)
      return usageError("--bf16-dot chooses how BF16 convs compute: give --precision bf16 too");
    options.bf16Dot = bf16DotOption;
  }
  if (!options.fp32Layers.empty() && options.precision == netc::lowering::Precision::FP32)
    return usageError("--fp32-layers keeps layers out of a reduced precision: give "
                      "--precision bf16 or int8 too");
  options.cCompiler = !cCompiler.empty() ? std::string(cCompiler)
                      : envCC && *envCC  ? std::string(envCC)
                                         : std::string(NETC_DEFAULT_CC);
  options.outputDir = outputDir;
  options.embedWeights = embedWeightsPath;
  // An ONNX model's own initializers, to embed: written out first.
  OnnxWeights embeddedInitializers;
  if (netc::onnx::isOnnxPath(options.embedWeights)) {
    if (options.embedWeights != options.spec)
      return usageError("--embed-weights " + options.embedWeights + ": to embed an ONNX "
                        "model's initializers, give the model being compiled (" +
                        (options.isOnnx() ? options.spec : std::string("this is a spec")) +
                        "), or a safetensors file");
    if (!embeddedInitializers.write(options))
      return 1;
    options.embedWeights = embeddedInitializers.path();
  }

  if (calibrateCommand) {
    if (options.entry.empty())
      return usageError("no --entry given; 'netc --list' shows the zoo's entries");
    if ((weightsPath.empty() && !options.isOnnx()) || inputPaths.size() != 1 ||
        calibrationOut.empty())
      return usageError("netc calibrate needs --weights, one --input (the calibration batch) "
                        "and -o Q.json");
    if (calibrationMethod != "minmax" && calibrationMethod != "percentile" &&
        calibrationMethod != "mse")
      return usageError("--method '" + calibrationMethod +
                        "' is not one of minmax, percentile, mse");
    if (runThreads < 0 || runThreads > NETC_MAX_THREADS)
      return usageError("--threads " + std::to_string(runThreads) + " is out of range (0 to " +
                        std::to_string(NETC_MAX_THREADS) + ")");
    CalibrateOptions calibration;
    calibration.weights = weightsPath;
    calibration.input = inputPaths.front();
    calibration.output = calibrationOut;
    calibration.method = calibrationMethod;
    calibration.threads = runThreads;
    return calibrate(options, calibration);
  }
  if (runCommand) {
    if (options.entry.empty())
      return usageError("no --entry given; 'netc --list' shows the zoo's entries");
    if ((weightsPath.empty() && !options.isOnnx()) || inputPaths.empty())
      return usageError("netc run needs --weights and --input");
    if (outputPaths.empty() && !runPrint && !runProfile && runRepeat.getNumOccurrences() == 0)
      return usageError(
          "netc run has nothing to do: give --output, --print, --repeat or --profile");
    if (!outputPaths.empty() && outputPaths.size() != inputPaths.size())
      return usageError("netc run got " + std::to_string(inputPaths.size()) + " --input and " +
                        std::to_string(outputPaths.size()) +
                        " --output: give one --output per --input, in the same order");
    if (runThreads < 0 || runThreads > NETC_MAX_THREADS)
      return usageError("--threads " + std::to_string(runThreads) + " is out of range (0 to " +
                        std::to_string(NETC_MAX_THREADS) + ")");
    if (runRepeat < 1)
      return usageError("--repeat " + std::to_string(runRepeat) + " is out of range (1 or more)");
    RunOptions run;
    run.weights = weightsPath;
    run.inputs.assign(inputPaths.begin(), inputPaths.end());
    run.outputs.assign(outputPaths.begin(), outputPaths.end());
    run.threads = runThreads;
    run.repeat = runRepeat;
    if (runProfile && runRepeat.getNumOccurrences() == 0)
      run.repeat = 20;
    run.print = runPrint;
    run.profile = runProfile;
    run.stripPrefix = runStripPrefix;
    return runJit(options, run);
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
  if (!embedWeightsPath.empty() && emit != Emit::Lib && emit != Emit::Header)
    return usageError("--embed-weights goes into a library: give -o DIR");
  if (emit == Emit::Lib && outputDir.empty())
    return usageError("--emit=lib writes files: give the directory with -o DIR");
  if (!outputDir.empty() && emit != Emit::Lib)
    return usageError("-o DIR writes the library; the other --emit kinds print to standard "
                      "output (drop -o)");
  int actions = printKeys + printShapes + printSummaryTable + !checkWeightsPath.empty() +
                !exportWeightsPath.empty() + (emit != Emit::None);
  if (actions == 0)
    return usageError("nothing to do: give -o DIR, --emit, --print-keys, --print-shapes or "
                      "--summary");
  if (actions > 1)
    return usageError("give only one of --print-keys, --print-shapes, --summary, "
                      "--check-weights, --export-weights and --emit");
  if (!exportWeightsPath.empty())
    return exportWeights(options, exportWeightsPath);
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
    // With a reduced precision the table says each layer's, as planned.
    std::map<std::string, std::string> precisions;
    if (printSummaryTable && options.precision != netc::lowering::Precision::FP32) {
      CompilerContext context;
      auto module = buildModule(options, context, true);
      if (!module || !planModule(options, *module))
        return 1;
      precisions = precisionsOf(*module);
    }
    if (printSummaryTable &&
        printSummary(*graph, precisions.empty() ? nullptr : &precisions) != 0)
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
  case Emit::NNOpt:
    if (!planModule(options, *module))
      return 1;
    [[fallthrough]];
  case Emit::NN:
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
