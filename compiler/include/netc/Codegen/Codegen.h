//===- Codegen.h - Static library, C header and C++ header -------*- C++ -*-===//
//
// Writes DIR/libNAME.a (one object per distinct pipeline plus a C driver
// that runs the steps over the memory plan), DIR/NAME.h (the C ABI) and
// DIR/NAME.hpp (a thin C++ wrapper). Everything is produced in a private
// temporary directory and renamed into place only when all of it succeeded,
// so a failed compile leaves no partial files. The same inputs give
// byte-identical outputs.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_CODEGEN_CODEGEN_H
#define NETC_CODEGEN_CODEGEN_H

#include "netc/Lowering/Program.h"

#include <string>
#include <vector>

namespace netc::codegen {

struct CodegenOptions {
  std::string outputDir;
  std::string cCompiler;  // compiles the generated driver
  std::vector<std::string> includeDirs; // netc/runtime.h
  /// A weights file (already checked against the program) to embed in the
  /// library, loaded by NAME_load_embedded; empty: none.
  std::string embedWeights;
};

/// A library holds the network once per code variant: `variants` are the
/// same network lowered for each instruction set, highest first (or one
/// program, for a GPU or a single target).

/// The C header text (also what --emit=header prints); `embedded`: the
/// library holds its weights (NAME_load_embedded).
std::string emitHeader(const std::vector<lowering::Program> &variants, bool embedded = false);
/// The C driver source: every variant's tables, and the entry points that
/// choose one at load.
std::string emitDriver(const std::vector<lowering::Program> &variants, bool embedded = false);
/// The C++ wrapper header.
std::string emitCppHeader(const lowering::Program &program);

/// Writes the library and headers. False with `error` on failure (nothing
/// written then).
bool writeLibrary(std::vector<lowering::Program> &variants, const CodegenOptions &options,
                  std::string &error);

/// Writes the Halide runtime that every netc model in one binary shares,
/// for code of `target` (without its x86 instruction-set features: one
/// runtime serves every variant).
bool writeHalideRuntime(const std::string &path, const Halide::Target &target,
                        std::string &error);

} // namespace netc::codegen

#endif // NETC_CODEGEN_CODEGEN_H
