//===- TargetInfo.cpp - A Halide target's facts for the planner -----------===//
#include "netc/Lowering/TargetInfo.h"

namespace netc::lowering {

using Halide::Target;

TargetInfo TargetInfo::of(const Target &target) {
  TargetInfo info;
  info.target = target;
  if (target.has_feature(Target::CUDA)) {
    info.isa = Isa::Cuda;
  } else if (target.has_feature(Target::OpenCL)) {
    info.isa = Isa::OpenCL;
  } else if (target.arch == Target::X86 && target.has_feature(Target::AVX512_Skylake)) {
    // Sapphire Rapids is Halide 14's only target with both AVX512-BF16
    // (vdpbf16ps) and VNNI (vpdpbusd).
    bool dot = target.has_feature(Target::AVX512_SapphireRapids);
    info.isa = dot ? Isa::Avx512Dot : Isa::Avx512;
    info.bf16Dot = info.int8Dot = dot;
  } else if (target.arch == Target::X86 && target.has_feature(Target::AVX2)) {
    info.isa = Isa::Avx2;
  } else {
    info.isa = Isa::Other;
  }
  bool wide = info.isa == Isa::Avx512 || info.isa == Isa::Avx512Dot;
  info.vectorBits = info.gpu() ? 32 * 32 : target.natural_vector_size<float>() * 32;
  info.vectorRegisters = wide ? 32 : 16;
  // Per core, as on the machines netc runs on (Xeon and Zen: 32-48 KB L1d,
  // 1-2 MB L2); the templates' thresholds were measured there.
  info.l1Bytes = 32 << 10;
  info.l2Bytes = wide ? int64_t{2} << 20 : int64_t{1} << 20;
  return info;
}

const char *TargetInfo::isaName() const {
  switch (isa) {
  case Isa::Avx2: return "avx2";
  case Isa::Avx512: return "avx512";
  case Isa::Avx512Dot: return "avx512-bf16-vnni";
  case Isa::Cuda: return "cuda";
  case Isa::OpenCL: return "opencl";
  case Isa::Other: break;
  }
  return "other";
}

} // namespace netc::lowering
