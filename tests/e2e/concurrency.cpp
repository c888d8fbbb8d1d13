//===- concurrency.cpp - One loaded model, several threads, caller arenas --===//
//
// Loads LeNet-5 once, computes reference outputs one batch at a time, then
// runs 4 threads at once, each on its own batches with its own arena, many
// times, and requires every output to equal the reference bit for bit. Also
// checks the arena-size contract.   concurrency WEIGHTS.safetensors
//
//===----------------------------------------------------------------------===//
#include "lenet5.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s WEIGHTS.safetensors\n", argv[0]);
    return 2;
  }
  netc_error error{};
  lenet5_model *model = nullptr;
  if (lenet5_load(argv[1], &model, &error) != NETC_OK) {
    std::fprintf(stderr, "load: %s\n", error.message);
    return 1;
  }
  const int threads = 4, batch = 3, rounds = 50;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  std::vector<std::vector<float>> inputs(threads), reference(threads);
  int64_t shape[] = {batch, 1, 28, 28};
  for (int t = 0; t < threads; ++t) {
    inputs[t].resize(batch * 784);
    for (float &v : inputs[t])
      v = pixel(rng);
    reference[t].resize(batch * 10);
    if (lenet5_run(model, inputs[t].data(), 4, shape, reference[t].data(), nullptr, 0, 0,
                   &error) != NETC_OK) {
      std::fprintf(stderr, "run: %s\n", error.message);
      return 1;
    }
  }

  // The arena contract: too small is refused, exactly enough works.
  std::vector<float> out(batch * 10);
  size_t needed = lenet5_arena_bytes(batch);
  std::vector<char> small(needed - 1);
  if (lenet5_run(model, inputs[0].data(), 4, shape, out.data(), small.data(), small.size(), 0,
                 &error) != NETC_ERROR_ARENA_TOO_SMALL) {
    std::fprintf(stderr, "FAILED: a %zu-byte arena for a batch needing %zu was accepted\n",
                 small.size(), needed);
    return 1;
  }

  std::vector<int> mismatches(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      std::vector<float> arena(needed / sizeof(float));
      std::vector<float> result(batch * 10);
      netc_error err{};
      for (int r = 0; r < rounds; ++r) {
        if (lenet5_run(model, inputs[t].data(), 4, shape, result.data(), arena.data(), needed, 0,
                       &err) != NETC_OK ||
            std::memcmp(result.data(), reference[t].data(), result.size() * sizeof(float)) != 0)
          ++mismatches[t];
      }
    });
  for (std::thread &th : pool)
    th.join();
  lenet5_free(model);
  int failed = 0;
  for (int t = 0; t < threads; ++t)
    if (mismatches[t]) {
      std::fprintf(stderr, "FAILED: thread %d: %d of %d runs differ from the reference\n", t,
                   mismatches[t], rounds);
      failed = 1;
    }
  if (!failed)
    std::printf("%d threads x %d runs on one model: all outputs equal the reference\n", threads,
                rounds);
  return failed;
}
