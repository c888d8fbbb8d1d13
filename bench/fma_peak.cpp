//===- fma_peak.cpp - The machine's FP32 FMA peak, measured ---------------===//
//
//   netc-fma-peak [THREADS] [SECONDS]
//
// Each thread runs independent chains of fused multiply-adds on the widest
// vectors the CPU has (AVX-512, else AVX2+FMA), enough chains to cover the
// FMA latency on both ports. Prints "gflops=G isa=NAME threads=T": the bound
// the benchmark's peak_fraction divides by. Where the CPU has AVX512-BF16
// and VNNI, a second line gives the rates of their dot products the same
// way, "bf16_dot_gflops=G vnni_gops=G" (2 operations per multiply-add):
// what reduced precision can reach without AMX.
//
//===----------------------------------------------------------------------===//
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr long kIterations = 20'000'000;
constexpr int kChains = 12; // 2 ports x 4-cycle latency, with margin

__attribute__((target("avx512f"))) float run512(float seed) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm512_set1_ps(seed + static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  // Unrolled, so the chains live in registers (a loop over the array
  // keeps them in memory and measures store-to-load latency instead).
  for (long n = 0; n < kIterations; ++n)
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  alignas(64) float lanes[16];
  float out = 0;
  for (int i = 0; i < kChains; ++i) {
    _mm512_store_ps(lanes, acc[i]);
    for (float l : lanes)
      out += l;
  }
  return out;
}

__attribute__((target("avx2,fma"))) float run256(float seed) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm256_set1_ps(seed + static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < kIterations; ++n)
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  alignas(32) float lanes[8];
  float out = 0;
  for (int i = 0; i < kChains; ++i) {
    _mm256_store_ps(lanes, acc[i]);
    for (float l : lanes)
      out += l;
  }
  return out;
}

constexpr int kDotChains = 24; // the dot products' latency is longer

__attribute__((target("avx512f,avx512bf16"))) float runBf16(float seed) {
  __m512 acc[kDotChains];
  for (int i = 0; i < kDotChains; ++i)
    acc[i] = _mm512_set1_ps(seed + static_cast<float>(i));
  const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80); // (1, 1)
  const __m512bh b = (__m512bh)_mm512_set1_epi32(0x33d633d6); // (1e-7, 1e-7)
  for (long n = 0; n < kIterations; ++n)
#pragma GCC unroll 24
    for (int i = 0; i < kDotChains; ++i)
      acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  alignas(64) float lanes[16];
  float out = 0;
  for (int i = 0; i < kDotChains; ++i) {
    _mm512_store_ps(lanes, acc[i]);
    for (float l : lanes)
      out += l;
  }
  return out;
}

__attribute__((target("avx512f,avx512vnni"))) float runVnni(float seed) {
  __m512i acc[kDotChains];
  for (int i = 0; i < kDotChains; ++i)
    acc[i] = _mm512_set1_epi32(static_cast<int>(seed) + i);
  const __m512i a = _mm512_set1_epi32(0x01010101), b = _mm512_set1_epi32(0x01010101);
  for (long n = 0; n < kIterations; ++n)
#pragma GCC unroll 24
    for (int i = 0; i < kDotChains; ++i)
      acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  alignas(64) int lanes[16];
  long out = 0;
  for (int i = 0; i < kDotChains; ++i) {
    _mm512_store_si512(lanes, acc[i]);
    for (int l : lanes)
      out += l;
  }
  return static_cast<float>(out);
}

/// The best of 3 runs of `kernel` on `threads` threads, in G operations per
/// second, `perIteration` operations per iteration (every chain's).
template <typename Kernel> double measure(int threads, Kernel kernel, double perIteration) {
  double best = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<std::thread> pool;
    std::vector<float> sink(static_cast<size_t>(threads));
    auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { sink[t] = kernel(float(t)); });
    for (std::thread &t : pool)
      t.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, perIteration * static_cast<double>(kIterations) * threads / seconds / 1e9);
    if (sink[0] == 12345.0f) // keep the results alive
      std::puts("");
  }
  return best;
}

} // namespace

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  if (threads < 1)
    threads = 1;
  bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    std::fprintf(stderr, "netc-fma-peak: the CPU has neither AVX-512 nor AVX2+FMA\n");
    return 1;
  }
  int lanes = avx512 ? 16 : 8;
  double best = measure(threads, avx512 ? run512 : run256, 2.0 * lanes * kChains);
  std::printf("gflops=%.1f isa=%s threads=%d\n", best, avx512 ? "avx512" : "avx2", threads);
  if (avx512 && __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vnni"))
    std::printf("bf16_dot_gflops=%.1f vnni_gops=%.1f\n",
                measure(threads, runBf16, 2.0 * 32 * kDotChains),
                measure(threads, runVnni, 2.0 * 64 * kDotChains));
  return 0;
}
