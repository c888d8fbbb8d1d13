//===- Driver.h - netc's stages over one options struct ----------*- C++ -*-===//
//
// The driver is a chain of stage functions: the front end (a spec, or nn IR
// from netc-opt) builds the nn module, the graph passes optimize it, the back
// end lowers it and prints or writes what was asked. Each stage reports its
// own errors (located where the spec says) and returns null / false.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_TOOLS_NETC_DRIVER_H
#define NETC_TOOLS_NETC_DRIVER_H

#include "netc/dsl/Elaborator.h"
#include "netc/dsl/Graph.h"
#include "netc/dsl/Spec.h"
#include "netc/Execution/Jit.h"
#include "netc/FrontEnd/OnnxImport.h"
#include "netc/Lowering/Program.h"
#include "netc/runtime.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <Halide.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace netc::driver {

/// What one invocation asks for, validated by main.
struct Options {
  std::string spec;  // a .nn spec, a .mlir module, or empty: the zoo
  std::string entry; // net, alias or call; for .mlir the function's name
  std::string zoo;
  bool zooGiven = false; // --zoo on the command line (commands netc suggests repeat it)
  std::string name;  // the generated function's name
  dsl::ElaborateOptions elaborate;
  /// --target: what the code runs on. An x86 target without instruction-set
  /// features (host, x86-64-linux) is built as one variant per `isas` level.
  Halide::Target target;
  /// --isa: the x86 variants a library carries (the JIT runs the highest of
  /// them this CPU has), highest first; empty: those the precision needs.
  std::vector<netc_isa> isas;
  /// --isa host: also the variant of those the precision needs that this
  /// CPU would run (what `netc run` runs here).
  bool hostIsa = false;
  std::string outputDir;
  std::string cCompiler;
  std::string runtimeIncludeDir; // holds netc/runtime.h, for the generated driver
  std::string embedWeights; // a weights file to embed in the library, or ""
  bool fuse = true;  // run nn-fuse-conv-epilogue
  bool winograd = true; // 3x3 stride-1 convs by Winograd's F(4x4 or 2x2, 3x3)
  netc::lowering::Precision precision = netc::lowering::Precision::FP32;
  std::vector<std::string> fp32Layers; // module paths kept in FP32 (--fp32-layers)
  std::optional<bool> bf16Dot; // --bf16-dot, when given
  /// --precision int8: each tensor's quantization from --qparams (a Q.json).
  std::map<std::string, netc::lowering::QParams> qparams;
  std::string qparamsPath;
  bool fusions = true; // LowerOptions::fusions (off to calibrate)
  bool isModule() const; // the spec is nn IR (.mlir)
  bool isOnnx() const;   // the spec is an ONNX model (.onnx)
};

/// An MLIR context whose diagnostics print as "file:line:col: error: ..."
/// followed by the spec's source line and a caret, like the front end's.
class CompilerContext {
public:
  CompilerContext() : handler_(sourceMgr_, &context_, llvm::errs()) {
    context_.printOpOnDiagnostic(false);
  }
  mlir::MLIRContext &mlir() { return context_; }
  llvm::SourceMgr &sourceMgr() { return sourceMgr_; }

private:
  llvm::SourceMgr sourceMgr_;
  mlir::MLIRContext context_;
  mlir::SourceMgrDiagnosticHandler handler_;
};

/// Prints "netc: error: MESSAGE" and returns 1.
int fail(const std::string &message);

/// The spec files an invocation reads: SPEC alone, or the whole zoo; or an
/// ONNX model.
struct Sources {
  std::unique_ptr<dsl::Module> spec;
  dsl::Zoo zoo;
  std::unique_ptr<netc::onnx::Model> onnx;
};

/// Front end: loads the spec (or the zoo) and elaborates the entry, or
/// imports the ONNX model.
std::optional<dsl::Graph> elaborateEntry(const Options &options, Sources &sources);

/// The nn module of the entry: elaborated from a spec, or parsed from a
/// .mlir file; after the graph passes when `optimize`. Errors are printed
/// at their spec location. `graph` receives the elaborated graph (specs only).
mlir::OwningOpRef<mlir::ModuleOp> buildModule(const Options &options, CompilerContext &context,
                                              bool optimize,
                                              std::optional<dsl::Graph> *graph = nullptr);

/// What the back end produces.
enum class Output { Header, HalideStmt, Library };
/// One code variant: its Halide target and instruction-set level.
struct Variant {
  Halide::Target target;
  netc_isa isa = NETC_ISA_GENERIC;
};
int runBackEnd(const Options &options, mlir::ModuleOp module, Output output);
/// The targets of the code variants a library of `module` holds, highest
/// first: for an x86 target that names no instruction-set features, one per
/// --isa level (default: those the precision needs: avx512 and avx2, and
/// avx512-vnni where INT8 or BF16 by vdpbf16ps use its dot products), or the
/// level a planned module (nn.isa) was planned for; else the target itself.
/// Empty after printing why.
std::vector<Variant> variantTargets(const Options &options, mlir::ModuleOp module);
/// The one of them the JIT runs here: the highest this CPU has, at most
/// $NETC_ISA. Nothing after printing why.
std::optional<Variant> jitTarget(const Options &options, mlir::ModuleOp module);
/// The planner (netc/Lowering/Planner.h) for the first variant: writes each
/// op's layout and template on the module; false after an error.
bool planModule(const Options &options, mlir::ModuleOp module);

/// What `netc run` is asked to do with its batches.
struct RunOptions {
  std::string weights;               // "" for an ONNX model: its initializers
  std::vector<std::string> inputs;  // one batch each, compiled for the first's sizes
  std::vector<std::string> outputs; // one per input, or none (print or repeat)
  int threads = 0;                    // 0: one per CPU
  int repeat = 1;                     // > 1: time that many runs, print the median
  bool print = false;                 // print each sample's top-5 outputs
  bool profile = false;               // time each step alone, `repeat` rounds
  std::string stripPrefix;            // removed from every weight key first
};

/// `netc run`: the JIT over .npy batches, compiled once.
int runJit(Options &options, const RunOptions &run);

/// .npy batches, read whole (float32), freed with their owner.
using Array = std::unique_ptr<netc_array, void (*)(netc_array *)>;
/// Reads every path; false after printing the first failure.
bool readInputs(const std::vector<std::string> &paths, std::vector<Array> &inputs);
/// An ONNX model's initializers as a weights file of its own, for `netc
/// run` and calibrate without --weights and for --embed-weights: written
/// to a temporary file that goes when this does.
class OnnxWeights {
public:
  /// False after printing why.
  bool write(const Options &options);
  const std::string &path() const { return path_; }
  ~OnnxWeights();

private:
  std::string path_;
};

/// The entry compiled for the JIT (for the first input's sizes unless
/// --input-shape gave them; every input checked against them) with its
/// weights loaded.
struct JitSession {
  CompilerContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  netc::lowering::Program program;
  std::unique_ptr<netc::JitRunner> runner;
  OnnxWeights initializers; // an ONNX model's, when no weights file is given
};
bool startJit(Options &options, const std::vector<std::string> &paths,
              const std::vector<Array> &inputs, const std::string &weights,
              const std::string &stripPrefix, JitSession &session);
/// The LowerOptions an invocation's Options give, for `variant`.
netc::lowering::LowerOptions lowerOptionsFor(const Options &options, const Variant &variant);

// Calibrate.cpp
/// What `netc calibrate` is asked for.
struct CalibrateOptions {
  std::string weights;
  std::string input;  // the calibration batch, .npy
  std::string output; // Q.json
  std::string method = "minmax"; // minmax | percentile | mse
  int threads = 0;
};
/// `netc calibrate`: runs the FP32 network on the batch and writes every
/// tensor's quantization (scale, zero point) by its key, as Q.json.
int calibrate(Options &options, const CalibrateOptions &calibration);
/// Reads a Q.json into `qparams` (key -> scale, zero point); false after
/// printing what is wrong with it, naming the file and the entry.
bool readQParams(const std::string &path,
                 std::map<std::string, netc::lowering::QParams> &qparams);

// Weights.cpp
/// "\n  these weights fit --entry 'resnet34' (...) of the zoo (check: netc
/// --entry resnet34 --check-weights W)", or "" when no other entry of the
/// spec (or zoo) fits the file either.
std::string fittingEntries(const Options &options, const std::string &weightsPath);
/// The `netc [SPEC] --entry ENTRY --check-weights W` that checks W against
/// `entry` of the spec (or zoo) `options` names, quoted for a POSIX shell.
std::string checkWeightsCommand(const Options &options, const std::string &entry,
                                const std::string &weightsPath);
/// `--check-weights W`: does W fit the entry? If not, every problem and the
/// entries it does fit.
int checkWeights(const Options &options, const std::string &weightsPath);

/// Whether a weights file fits the lowered program, to be embedded in its
/// library (--embed-weights); prints every problem when it does not.
bool checkEmbeddable(const netc::lowering::Program &program, const std::string &weightsPath);

/// `--export-weights W`: the ONNX model's weights as safetensors.
int exportWeights(const Options &options, const std::string &path);

// Print.cpp
int listEntries(const Options &options);
void printKeyList(const dsl::Graph &graph);
void printShapeList(const dsl::Graph &graph);
/// A per-layer table (path, op, output shape, parameters, MACs) with totals;
/// with `precisionOf` (module path -> "bf16" / "fp32", from the plan), a
/// precision column for the conv and linear layers.
int printSummary(const dsl::Graph &graph,
                 const std::map<std::string, std::string> *precisionOf = nullptr);
/// Each conv's and linear's planned precision, by module path.
std::map<std::string, std::string> precisionsOf(mlir::ModuleOp module);
void printDot(mlir::ModuleOp module);

} // namespace netc::driver

#endif // NETC_TOOLS_NETC_DRIVER_H
