//===- TargetInfo.h - What the code generator knows of a machine -*- C++ -*-===//
//
// The facts the planner and the templates consult, in one place (as Halide's
// hannk keeps get_accumulator_count(target) and use_8bit_multiply(target)):
// the instruction set, the vector width, how many vector registers a
// register tile may take, the caches, and whether the dot-product
// instructions of reduced precision are there. Made from a Halide target.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_LOWERING_TARGETINFO_H
#define NETC_LOWERING_TARGETINFO_H

#include "netc/runtime.h"

#include <Halide.h>

#include <cstdint>
#include <vector>

namespace netc::lowering {

/// One variant of a library's x86 code: a netc_isa level, the Halide target
/// features that select netc's templates and Halide's instruction patterns
/// for it, and the LLVM CPU model and attributes its object code is made for
/// (Halide 14 would give LLVM "sapphirerapids" for the dot products, whose
/// AVX512-FP16 and AVX-VNNI AMD's Zen 4 lacks; runtime/lib/Cpu.cpp checks a
/// CPU for exactly the instructions these allow).
struct IsaVariant {
  netc_isa isa;
  std::vector<Halide::Target::Feature> features;
  const char *llvmCpu;
  const char *llvmAttributes;
};

/// The variant of level `isa` (NETC_ISA_AVX2 and up).
const IsaVariant &isaVariant(netc_isa isa);
/// `base` (its OS, architecture and other features) with exactly the x86
/// instruction-set features of level `isa` (none for NETC_ISA_GENERIC).
Halide::Target variantTarget(const Halide::Target &base, netc_isa isa);
/// Whether a target names x86 instruction-set features (x86-64-linux-avx2),
/// rather than leaving them to netc's variants (host, x86-64-linux).
bool namesIsaFeatures(const Halide::Target &target);
/// The netc_isa level an x86 target's features reach (GENERIC for GPU and
/// other targets). (AVX512_AMX is never a Halide target's: its pipelines
/// are AVX512_VNNI's with calls to the runtime's AMX kernels.)
netc_isa isaLevelOf(const Halide::Target &target);

struct TargetInfo {
  /// The instruction sets netc has templates for; Other: a vector target
  /// of no class below (scalar or non-x86), planned as AVX2 would be.
  enum class Isa { Avx2, Avx512, Avx512Dot, Avx512Amx, Cuda, OpenCL, Other };
  Isa isa = Isa::Avx2;
  Halide::Target target;
  int vectorBits = 256;     // a vector register's width
  int vectorRegisters = 16; // vector registers per core (ymm0-15, zmm0-31)
  int64_t l1Bytes = 32 << 10, l2Bytes = 1 << 20; // data caches per core
  bool bf16Dot = false;     // vdpbf16ps (AVX512-BF16)
  bool int8Dot = false;     // vpdpbusd (AVX512-VNNI)
  bool amx = false;         // the runtime's AMX kernels (conv.amx)

  /// The facts of `target`, for code of level `isa` (GENERIC: the level
  /// the target's features reach).
  static TargetInfo of(const Halide::Target &target, netc_isa isa = NETC_ISA_GENERIC);

  bool gpu() const { return isa == Isa::Cuda || isa == Isa::OpenCL; }
  /// CUDA schedules a warp's threads as lanes (gpu_lanes); Halide 14's
  /// OpenCL back end has no lanes.
  bool warpLanes() const { return isa == Isa::Cuda; }
  /// Elements of `bytes` each per vector; on a GPU a warp's 32 threads.
  int lanes(int bytes = 4) const { return gpu() ? 32 : vectorBits / (8 * bytes); }
  /// Vector registers a register tile's accumulators may take: the others
  /// hold the tile's weight vectors and a broadcast input (28 of 32 on
  /// AVX-512, 12 of 16 on AVX2).
  int accumulatorRegisters() const { return vectorRegisters - 4; }
  /// Whether BF16 convs should use vdpbf16ps rather than float32 FMAs on
  /// BF16 operands widened as they are read. Not on the one target Halide
  /// 14 gives AVX512-BF16 (Sapphire Rapids): there a vdpbf16ps, 32
  /// multiply-adds, issues every other cycle, two FMAs of 16 every cycle
  /// (Intel Xeon, one core: 80 GFLOP/s vs 160); elsewhere it is emulated.
  bool bf16DotPays() const { return false; }
  /// "avx512", "avx2", "avx512-vnni", "cuda", ... as netc's messages and the
  /// plan (nn.isa) name it; the x86 levels as netc_isa_name spells them.
  const char *isaName() const;
};

} // namespace netc::lowering

#endif // NETC_LOWERING_TARGETINFO_H
