//===- fma_peak.cpp - The machine's FP32 FMA peak, measured ---------------===//
//
//   netc-fma-peak [THREADS] [SECONDS]
//
// Each thread runs independent chains of fused multiply-adds on the widest
// vectors the CPU has (AVX-512, else AVX2+FMA), enough chains to cover the
// FMA latency on both ports. Prints "gflops=G isa=NAME threads=T": the bound
// the benchmark's peak_fraction divides by.
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
  double best = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<std::thread> pool;
    std::vector<float> sink(static_cast<size_t>(threads));
    auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { sink[t] = avx512 ? run512(float(t)) : run256(float(t)); });
    for (std::thread &t : pool)
      t.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double flops = 2.0 * lanes * kChains * static_cast<double>(kIterations) * threads;
    best = std::max(best, flops / seconds / 1e9);
    if (sink[0] == 12345.0f) // keep the results alive
      std::puts("");
  }
  std::printf("gflops=%.1f isa=%s threads=%d\n", best, avx512 ? "avx512" : "avx2", threads);
  return 0;
}
