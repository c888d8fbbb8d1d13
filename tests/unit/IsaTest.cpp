//===- IsaTest.cpp - netc_isa levels and the choice of a library's variant ===//
#include "Cpu.h"

#include "netc/program.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

using netc::runtime::chooseIsa;
using netc::runtime::CpuFeatures;

const int32_t kAll[] = {NETC_ISA_AVX512_VNNI, NETC_ISA_AVX512, NETC_ISA_AVX2};

struct Choice {
  netc_status status;
  size_t chosen = 99;
  std::string message;
};

Choice choose(const int32_t *isas, size_t count, const CpuFeatures &cpu, const char *cap = nullptr) {
  Choice c;
  netc_error error{};
  c.status = chooseIsa(isas, count, "m_load", cpu, cap, "NETC_ISA", &c.chosen, &error);
  c.message = error.message;
  return c;
}

TEST(Isa, NamesRoundTrip) {
  for (int isa = 0; isa < NETC_ISA_COUNT; ++isa)
    EXPECT_EQ(netc_isa_named(netc_isa_name(isa)), isa) << "level " << isa;
  EXPECT_EQ(netc_isa_named("avx512_vnni"), -1);
  EXPECT_EQ(netc_isa_named(nullptr), -1);
  EXPECT_EQ(netc_isa_name(NETC_ISA_COUNT), nullptr);
}

TEST(Isa, LevelsNest) {
  for (int isa = 0; isa < NETC_ISA_COUNT; ++isa) {
    EXPECT_EQ(CpuFeatures::upTo(isa).level(), isa) << "level " << isa;
    EXPECT_EQ(CpuFeatures::upTo(isa).lacking(isa), "") << "level " << isa;
  }
  // One feature short of a level is the level below.
  CpuFeatures noBf16 = CpuFeatures::all();
  noBf16.bits &= ~(uint64_t{1} << 19);
  EXPECT_EQ(noBf16.level(), NETC_ISA_AVX512);
  EXPECT_EQ(noBf16.lacking(NETC_ISA_AVX512_VNNI), "avx512_bf16");
  EXPECT_EQ(CpuFeatures().lacking(NETC_ISA_AVX2).substr(0, 9), "avx, avx2");
}

TEST(Isa, ThisCpuAgreesWithTheRuntime) {
  EXPECT_EQ(netc_cpu_isa(), CpuFeatures::detect().level());
  std::printf("this CPU runs %s\n", netc_isa_name(netc_cpu_isa()));
}

TEST(Isa, HighestTheCpuRuns) {
  EXPECT_EQ(choose(kAll, 3, CpuFeatures::all()).chosen, 0u);
  EXPECT_EQ(choose(kAll, 3, CpuFeatures::upTo(NETC_ISA_AVX512)).chosen, 1u);
  EXPECT_EQ(choose(kAll, 3, CpuFeatures::upTo(NETC_ISA_AVX2)).chosen, 2u);
  // An FP32 library (no VNNI variant) on a VNNI CPU runs its AVX-512 one.
  const int32_t fp32[] = {NETC_ISA_AVX512, NETC_ISA_AVX2};
  EXPECT_EQ(choose(fp32, 2, CpuFeatures::all()).chosen, 0u);
}

TEST(Isa, CapChoosesALowerVariant) {
  EXPECT_EQ(choose(kAll, 3, CpuFeatures::all(), "avx2").chosen, 2u);
  EXPECT_EQ(choose(kAll, 3, CpuFeatures::all(), "avx512").chosen, 1u);
  EXPECT_EQ(choose(kAll, 3, CpuFeatures::all(), "avx512-vnni").chosen, 0u);
}

TEST(Isa, RefusesWhatTheCpuLacks) {
  Choice c = choose(kAll, 3, CpuFeatures::upTo(NETC_ISA_AVX512), "avx512-vnni");
  EXPECT_EQ(c.status, NETC_ERROR_UNSUPPORTED_CPU);
  EXPECT_EQ(c.message, "m_load: NETC_ISA asks for avx512-vnni, but this CPU lacks avx512ifma, "
                       "avx512vbmi, avx512_vnni, avx512_bf16 (it runs avx512)");
  const int32_t wide[] = {NETC_ISA_AVX512};
  c = choose(wide, 1, CpuFeatures::upTo(NETC_ISA_AVX2));
  EXPECT_EQ(c.status, NETC_ERROR_UNSUPPORTED_CPU);
  EXPECT_NE(c.message.find("this CPU lacks avx512f, avx512cd"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("lowest variant, avx512"), std::string::npos) << c.message;
  c = choose(kAll, 3, CpuFeatures());
  EXPECT_EQ(c.status, NETC_ERROR_UNSUPPORTED_CPU);
  EXPECT_NE(c.message.find("lacks avx, avx2, fma"), std::string::npos) << c.message;
}

TEST(Isa, CapBelowEveryVariant) {
  const int32_t wide[] = {NETC_ISA_AVX512_VNNI, NETC_ISA_AVX512};
  Choice c = choose(wide, 2, CpuFeatures::all(), "avx2");
  EXPECT_EQ(c.status, NETC_ERROR_UNSUPPORTED_CPU);
  EXPECT_EQ(c.message, "m_load: NETC_ISA asks for at most avx2, below every variant the library "
                       "has (avx512-vnni, avx512; netc --isa chooses them)");
}

TEST(Isa, UnknownNamesAndBadTables) {
  Choice c = choose(kAll, 3, CpuFeatures::all(), "avx512_vnni");
  EXPECT_EQ(c.status, NETC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(c.message, "m_load: NETC_ISA is 'avx512_vnni', which is not one of avx2, avx512, "
                       "avx512-vnni, avx512-amx");
  EXPECT_EQ(choose(kAll, 3, CpuFeatures::all(), "generic").status, NETC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(choose(kAll, 0, CpuFeatures::all()).status, NETC_ERROR_INVALID_ARGUMENT);
  const int32_t bad[] = {7};
  c = choose(bad, 1, CpuFeatures::all());
  EXPECT_EQ(c.status, NETC_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(c.message.find("no instruction set netc knows (7)"), std::string::npos) << c.message;
}

TEST(Isa, LoadOptionOutranksTheEnvironment) {
  ::setenv("NETC_ISA", "nonsense", 1);
  size_t chosen = 99;
  netc_error error{};
  netc_load_options options{};
  options.isa = "avx2";
  int32_t avx2[] = {NETC_ISA_AVX2};
  if (netc_cpu_isa() >= NETC_ISA_AVX2) {
    EXPECT_EQ(netc_isa_choose(avx2, 1, "m_load", &options, &chosen, &error), NETC_OK)
        << error.message;
    EXPECT_EQ(chosen, 0u);
  }
  EXPECT_EQ(netc_isa_choose(avx2, 1, "m_load", nullptr, &chosen, &error),
            NETC_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(error.message,
               "m_load: NETC_ISA is 'nonsense', which is not one of avx2, avx512, avx512-vnni, avx512-amx");
  ::unsetenv("NETC_ISA");
}

} // namespace
