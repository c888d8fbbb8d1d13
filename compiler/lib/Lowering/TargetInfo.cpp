//===- TargetInfo.cpp - A Halide target's facts for the planner -----------===//
#include "netc/Lowering/TargetInfo.h"

namespace netc::lowering {

using Halide::Target;

namespace {

/// The x86 instruction-set features of Halide targets, which the variants
/// set (and a target string may name).
const Target::Feature kIsaFeatures[] = {
    Target::SSE41,          Target::AVX,               Target::AVX2,
    Target::FMA,            Target::FMA4,              Target::F16C,
    Target::AVX512,         Target::AVX512_KNL,        Target::AVX512_Skylake,
    Target::AVX512_Cannonlake, Target::AVX512_SapphireRapids};

} // namespace

const IsaVariant &isaVariant(netc_isa isa) {
  // LLVM's haswell and skylake-avx512 are the CPU models Halide 14 itself
  // gives AVX2 and AVX-512 (Skylake) targets; the dot products' level adds
  // their four extensions to the latter instead of taking Halide's
  // "sapphirerapids".
  static const IsaVariant variants[] = {
      {NETC_ISA_AVX2,
       {Target::SSE41, Target::AVX, Target::AVX2, Target::FMA, Target::F16C},
       "haswell",
       "+avx2,+fma,+f16c,+bmi,+bmi2,+lzcnt,+movbe,+popcnt"},
      {NETC_ISA_AVX512,
       {Target::SSE41, Target::AVX, Target::AVX2, Target::FMA, Target::F16C, Target::AVX512,
        Target::AVX512_Skylake},
       "skylake-avx512",
       "+avx2,+fma,+f16c,+bmi,+bmi2,+lzcnt,+movbe,+popcnt,+avx512f,+avx512cd,+avx512bw,"
       "+avx512dq,+avx512vl"},
      {NETC_ISA_AVX512_VNNI,
       {Target::SSE41, Target::AVX, Target::AVX2, Target::FMA, Target::F16C, Target::AVX512,
        Target::AVX512_Skylake, Target::AVX512_Cannonlake, Target::AVX512_SapphireRapids},
       "skylake-avx512",
       "+avx2,+fma,+f16c,+bmi,+bmi2,+lzcnt,+movbe,+popcnt,+avx512f,+avx512cd,+avx512bw,"
       "+avx512dq,+avx512vl,+avx512ifma,+avx512vbmi,+avx512vnni,+avx512bf16"},
  };
  // The AMX level's pipelines are compiled as the level below's; the tile
  // instructions are in the runtime's kernels (runtime/lib/Amx.cpp).
  netc_isa compiledAs = isa == NETC_ISA_AVX512_AMX ? NETC_ISA_AVX512_VNNI : isa;
  for (const IsaVariant &v : variants)
    if (v.isa == compiledAs)
      return v;
  return variants[0];
}

Target variantTarget(const Target &base, netc_isa isa) {
  Target target = base;
  for (Target::Feature f : kIsaFeatures)
    target = target.without_feature(f);
  if (isa == NETC_ISA_GENERIC)
    return target;
  for (Target::Feature f : isaVariant(isa).features)
    target = target.with_feature(f);
  return target;
}

bool namesIsaFeatures(const Target &target) {
  for (Target::Feature f : kIsaFeatures)
    if (target.has_feature(f))
      return true;
  return false;
}

netc_isa isaLevelOf(const Target &target) {
  if (target.arch != Target::X86 || target.has_gpu_feature())
    return NETC_ISA_GENERIC;
  if (target.has_feature(Target::AVX512_SapphireRapids))
    return NETC_ISA_AVX512_VNNI;
  if (target.has_feature(Target::AVX512_Skylake))
    return NETC_ISA_AVX512;
  if (target.has_feature(Target::AVX2))
    return NETC_ISA_AVX2;
  return NETC_ISA_GENERIC;
}

TargetInfo TargetInfo::of(const Target &target, netc_isa level) {
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
    if (dot && level == NETC_ISA_AVX512_AMX) {
      info.isa = Isa::Avx512Amx;
      info.amx = true;
    }
  } else if (target.arch == Target::X86 && target.has_feature(Target::AVX2)) {
    info.isa = Isa::Avx2;
  } else {
    info.isa = Isa::Other;
  }
  bool wide = info.isa == Isa::Avx512 || info.isa == Isa::Avx512Dot || info.isa == Isa::Avx512Amx;
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
  case Isa::Avx2: return netc_isa_name(NETC_ISA_AVX2);
  case Isa::Avx512: return netc_isa_name(NETC_ISA_AVX512);
  case Isa::Avx512Dot: return netc_isa_name(NETC_ISA_AVX512_VNNI);
  case Isa::Avx512Amx: return netc_isa_name(NETC_ISA_AVX512_AMX);
  case Isa::Cuda: return "cuda";
  case Isa::OpenCL: return "opencl";
  case Isa::Other: break;
  }
  return "other";
}

} // namespace netc::lowering
