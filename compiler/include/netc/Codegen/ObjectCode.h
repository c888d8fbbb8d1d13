//===- ObjectCode.h - Pipelines and the Halide runtime as machine code -*- C++ -*-===//
//
// The one place netc turns Halide pipelines into object code, for the
// library (Codegen.cpp writes the objects into libNAME.a) and for the JIT
// (Jit.cpp links the same bytes in memory), so the two run identical code.
// x86 code is generated for its variant's LLVM CPU model and attributes
// (TargetInfo.h's IsaVariant) rather than the ones Halide would choose.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_CODEGEN_OBJECTCODE_H
#define NETC_CODEGEN_OBJECTCODE_H

#include "netc/Lowering/Program.h"

#include <string>

namespace netc::codegen {

/// `group` of `program` as an ELF object defining GROUP_argv (and the rest of
/// Halide's entry points): the call is the user context, and the Halide
/// runtime is left to the binary (one for all models). False with `error`.
bool compileObject(const lowering::Program &program, lowering::Group &group, std::string &object,
                   std::string &error);

/// The target the Halide runtime is built for, for code of `target`: its
/// OS, architecture and GPU API, without x86 instruction-set features, so
/// that one runtime serves every variant.
Halide::Target runtimeTarget(const Halide::Target &target);

/// The Halide runtime for `target` (see runtimeTarget) as one ELF object.
bool compileHalideRuntime(const Halide::Target &target, std::string &object, std::string &error);

} // namespace netc::codegen

#endif // NETC_CODEGEN_OBJECTCODE_H
