//===- Cpu.h - What the CPU runs, and which variant of a library --*- C++ -*-===//
//
// netc's instruction-set levels (netc_isa) as CPU features: what each level
// adds to the one below, read from CPUID and XCR0 once per process. The
// features are those the code generator lets LLVM use for the level (its
// CPU model and attributes, compiler/lib/Lowering/TargetInfo.cpp), so a
// variant whose level the CPU has cannot meet an unknown instruction.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_RUNTIME_CPU_H
#define NETC_RUNTIME_CPU_H

#include "netc/runtime.h"

#include <cstdint>
#include <string>

namespace netc::runtime {

/// A CPU's features, one bit each (CpuFeature).
struct CpuFeatures {
  uint64_t bits = 0;
  static CpuFeatures detect();     // this CPU's, read once
  static CpuFeatures all();        // every feature netc knows (tests)
  static CpuFeatures upTo(int isa); // exactly what level `isa` needs (tests)
  /// The highest level these features reach.
  netc_isa level() const;
  /// What they lack of level `isa`, as /proc/cpuinfo names the flags
  /// ("avx512_bf16, avx512_vnni"); "" when nothing.
  std::string lacking(int isa) const;
};

/// netc_isa_choose with the CPU's features given, and the cap's value and
/// where it came from ("NETC_ISA", "the load option isa") when there is one.
netc_status chooseIsa(const int32_t *isas, size_t count, const std::string &who,
                      const CpuFeatures &cpu, const char *cap, const char *capSource,
                      size_t *chosen, netc_error *error);

} // namespace netc::runtime

#endif // NETC_RUNTIME_CPU_H
