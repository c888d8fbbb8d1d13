//===- Cpu.cpp - CPU features, netc_isa levels and variant choice ---------===//
#include "Cpu.h"

#include "Error.h"
#include "netc/program.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define NETC_X86 1
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace netc::runtime {

namespace {

/// The features a level needs beyond the level below; the level's LLVM
/// CPU model (haswell, skylake-avx512) and attributes (TargetInfo.cpp) use
/// no other instruction outside intrinsics netc does not call.
enum CpuFeature {
  // NETC_ISA_AVX2: Haswell's vector and bit-manipulation instructions.
  kAvx, kAvx2, kFma, kF16c, kBmi1, kBmi2, kLzcnt, kMovbe, kPopcnt, kOsYmm,
  // NETC_ISA_AVX512: Skylake-SP's.
  kAvx512f, kAvx512cd, kAvx512bw, kAvx512dq, kAvx512vl, kOsZmm,
  // NETC_ISA_AVX512_VNNI: the integer and BF16 dot products.
  kAvx512ifma, kAvx512vbmi, kAvx512vnni, kAvx512bf16,
  // NETC_ISA_AVX512_AMX: the tiles (the runtime's AMX kernels), and Linux's
  // permission to use them (arch_prctl ARCH_REQ_XCOMP_PERM, asked once).
  kAmxTile, kAmxInt8, kAmxBf16, kOsTiles,
  kFeatureCount
};

/// As /proc/cpuinfo names them, so a user can look.
const char *const kFeatureNames[kFeatureCount] = {
    "avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "abm (lzcnt)", "movbe", "popcnt",
    "the OS saving ymm registers (xsave)",
    "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl",
    "the OS saving zmm registers (xsave)",
    "avx512ifma", "avx512vbmi", "avx512_vnni", "avx512_bf16",
    "amx_tile", "amx_int8", "amx_bf16", "Linux's permission to use the AMX tiles (arch_prctl)"};

/// The first feature past each level: level L needs features [0, kEnd[L]).
const int kEnd[NETC_ISA_COUNT] = {0, kOsYmm + 1, kOsZmm + 1, kAvx512bf16 + 1, kFeatureCount};

uint64_t bit(CpuFeature f) { return uint64_t{1} << f; }

uint64_t mask(int isa) { return kEnd[isa] == 64 ? ~uint64_t{0} : (uint64_t{1} << kEnd[isa]) - 1; }

#ifdef NETC_X86
/// Asks Linux for the AMX tile data state (once, for the process); whether
/// it was granted.
bool requestTiles() {
#if defined(__linux__)
  const long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

uint64_t readXcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t{edx} << 32) | eax;
}
#endif

} // namespace

CpuFeatures CpuFeatures::detect() {
  static const CpuFeatures detected = [] {
    CpuFeatures f;
#ifdef NETC_X86
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
      return f;
    auto set = [&](CpuFeature feature, bool on) {
      if (on)
        f.bits |= bit(feature);
    };
    set(kFma, c & (1u << 12));
    set(kMovbe, c & (1u << 22));
    set(kPopcnt, c & (1u << 23));
    set(kAvx, c & (1u << 28));
    set(kF16c, c & (1u << 29));
    bool osxsave = c & (1u << 27);
    uint64_t xcr0 = osxsave ? readXcr0() : 0;
    set(kOsYmm, (xcr0 & 0x6) == 0x6);           // SSE and AVX state
    set(kOsZmm, (xcr0 & 0xe6) == 0xe6);         // and opmask, ZMM_Hi256, Hi16_ZMM
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
      unsigned subleaves = a;
      set(kBmi1, b & (1u << 3));
      set(kAvx2, b & (1u << 5));
      set(kBmi2, b & (1u << 8));
      set(kAvx512f, b & (1u << 16));
      set(kAvx512dq, b & (1u << 17));
      set(kAvx512ifma, b & (1u << 21));
      set(kAvx512cd, b & (1u << 28));
      set(kAvx512bw, b & (1u << 30));
      set(kAvx512vl, b & (1u << 31));
      set(kAvx512vbmi, c & (1u << 1));
      set(kAvx512vnni, c & (1u << 11));
      set(kAmxBf16, d & (1u << 22));
      set(kAmxTile, d & (1u << 24));
      set(kAmxInt8, d & (1u << 25));
      if (subleaves >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d))
        set(kAvx512bf16, a & (1u << 5));
    }
    if (__get_cpuid(0x80000001, &a, &b, &c, &d))
      set(kLzcnt, c & (1u << 5));
    // The tile registers' state (XCR0 bits 17, 18), and Linux's permission.
    if ((f.bits & bit(kAmxTile)) && (xcr0 & 0x60000) == 0x60000)
      set(kOsTiles, requestTiles());
#endif
    return f;
  }();
  return detected;
}

CpuFeatures CpuFeatures::all() { return upTo(NETC_ISA_COUNT - 1); }

CpuFeatures CpuFeatures::upTo(int isa) {
  CpuFeatures f;
  f.bits = mask(isa);
  return f;
}

netc_isa CpuFeatures::level() const {
  int level = NETC_ISA_GENERIC;
  while (level + 1 < NETC_ISA_COUNT && (bits & mask(level + 1)) == mask(level + 1))
    ++level;
  return static_cast<netc_isa>(level);
}

std::string CpuFeatures::lacking(int isa) const {
  std::string out;
  for (int f = 0; f < kEnd[isa]; ++f)
    if (!(bits & (uint64_t{1} << f)))
      out += (out.empty() ? "" : ", ") + std::string(kFeatureNames[f]);
  return out;
}

netc_status chooseIsa(const int32_t *isas, size_t count, const std::string &who,
                      const CpuFeatures &cpu, const char *cap, const char *capSource,
                      size_t *chosen, netc_error *error) {
  std::string prefix = who + ": ";
  if (!isas || count == 0 || !chosen)
    return fail(error, NETC_ERROR_INVALID_ARGUMENT, prefix + "no variants to choose from");
  for (size_t i = 0; i < count; ++i)
    if (!netc_isa_name(isas[i]))
      return fail(error, NETC_ERROR_INVALID_ARGUMENT,
                  prefix + "variant " + std::to_string(i) + " has no instruction set netc knows (" +
                      std::to_string(isas[i]) + ")");
  std::string variants;
  for (size_t i = 0; i < count; ++i)
    variants += (i ? ", " : "") + std::string(netc_isa_name(isas[i]));
  int limit = cpu.level();
  if (cap) {
    int asked = netc_isa_named(cap);
    if (asked <= NETC_ISA_GENERIC)
      return fail(error, NETC_ERROR_INVALID_ARGUMENT,
                  prefix + capSource + " is '" + cap +
                      "', which is not one of avx2, avx512, avx512-vnni, avx512-amx");
    if (asked > limit)
      return fail(error, NETC_ERROR_UNSUPPORTED_CPU,
                  prefix + capSource + " asks for " + cap + ", but this CPU lacks " +
                      cpu.lacking(asked) + " (it runs " + netc_isa_name(limit) + ")");
    limit = asked;
  }
  for (size_t i = 0; i < count; ++i)
    if (isas[i] <= limit) {
      *chosen = i;
      return NETC_OK;
    }
  int lowest = isas[0];
  for (size_t i = 1; i < count; ++i)
    lowest = isas[i] < lowest ? isas[i] : lowest;
  if (cap && lowest <= cpu.level())
    return fail(error, NETC_ERROR_UNSUPPORTED_CPU,
                prefix + capSource + " asks for at most " + cap +
                    ", below every variant the library has (" + variants +
                    "; netc --isa chooses them)");
  return fail(error, NETC_ERROR_UNSUPPORTED_CPU,
              prefix + "this CPU lacks " + cpu.lacking(lowest) +
                  ", which the library's lowest variant, " + netc_isa_name(lowest) +
                  ", needs (its variants: " + variants +
                  "; netc --isa chooses them)");
}

} // namespace netc::runtime

using netc::runtime::CpuFeatures;

extern "C" const char *netc_isa_name(int isa) {
  switch (isa) {
  case NETC_ISA_GENERIC: return "generic";
  case NETC_ISA_AVX2: return "avx2";
  case NETC_ISA_AVX512: return "avx512";
  case NETC_ISA_AVX512_VNNI: return "avx512-vnni";
  case NETC_ISA_AVX512_AMX: return "avx512-amx";
  }
  return nullptr;
}

extern "C" int netc_isa_named(const char *name) {
  for (int isa = 0; name && isa < NETC_ISA_COUNT; ++isa)
    if (std::strcmp(name, netc_isa_name(isa)) == 0)
      return isa;
  return -1;
}

extern "C" netc_isa netc_cpu_isa(void) { return CpuFeatures::detect().level(); }

extern "C" netc_status netc_isa_choose(const int32_t *isas, size_t count, const char *who,
                                       const netc_load_options *options, size_t *chosen,
                                       netc_error *error) {
  const char *cap = options ? options->isa : nullptr;
  const char *source = "the load option isa";
  if (!cap) {
    const char *env = std::getenv("NETC_ISA");
    if (env && *env) {
      cap = env;
      source = "NETC_ISA";
    }
  }
  return netc::runtime::chooseIsa(isas, count, who ? who : "netc_isa_choose",
                                  CpuFeatures::detect(), cap, source, chosen, error);
}

extern "C" netc_status netc_program_select(const netc_program *const *variants, size_t count,
                                           const netc_load_options *options,
                                           const netc_program **selected, netc_error *error) {
  if (!variants || count == 0 || !selected)
    return netc::runtime::fail(error, NETC_ERROR_INVALID_ARGUMENT,
                               "netc_program_select: null argument");
  *selected = nullptr;
  std::string who = std::string(variants[0] && variants[0]->name ? variants[0]->name
                                                                 : "netc_program") +
                    "_load";
  std::vector<int32_t> isas(count);
  for (size_t i = 0; i < count; ++i) {
    if (!variants[i])
      return netc::runtime::fail(error, NETC_ERROR_INVALID_ARGUMENT,
                                 who + ": variant " + std::to_string(i) + " is null");
    // Tables of another ABI have other fields: loading them says so.
    if (variants[i]->abi_version != NETC_ABI_VERSION) {
      *selected = variants[i];
      return NETC_OK;
    }
    isas[i] = variants[i]->isa;
  }
  size_t chosen = 0;
  netc_status status = netc_isa_choose(isas.data(), count, who.c_str(), options, &chosen, error);
  if (status == NETC_OK)
    *selected = variants[chosen];
  return status;
}
