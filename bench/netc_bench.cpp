//===- netc_bench.cpp - Times a compiled network through the public C API -===//
//
//   netc-bench MODEL WEIGHTS BATCH SECONDS THREADS [--profile]
//
// Loads the weights, runs one warm-up, then runs back to back for at least
// SECONDS (and at least 3 runs) with a caller arena, and prints
// "median_ms=X runs=N rss_load_mb=L rss_run_mb=R peak_rss_mb=P": resident
// memory after the load, after the runs, and the peak (load included).
// --profile times each step alone instead (netc_program_run_steps; the best
// of the rounds) and prints a line a step.
//
//===----------------------------------------------------------------------===//
#include "bench_models.h"
#include "netc/program.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// A line of /proc/self/status in MB (VmRSS: resident now; VmHWM: peak).
double procStatusMB(const char *field) {
  std::FILE *f = std::fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  double kb = -1;
  size_t length = std::strlen(field);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, field, length) == 0 && line[length] == ':')
      kb = std::atof(line + length + 1);
  std::fclose(f);
  return kb / 1024;
}

int fail(const char *what, netc_status status, const netc_error &error) {
  std::fprintf(stderr, "netc-bench: %s: %s: %s\n", what, netc_status_name(status), error.message);
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s MODEL WEIGHTS BATCH SECONDS THREADS [--profile]\nmodels:",
                 argv[0]);
    for (const auto &m : kModels)
      std::fprintf(stderr, " %s", m.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  const netc_program *program = nullptr;
  for (const auto &m : kModels)
    if (std::strcmp(m.name, argv[1]) == 0)
      program = m.program();
  if (!program) {
    std::fprintf(stderr, "netc-bench: no model '%s'\n", argv[1]);
    return 2;
  }
  int64_t batch = std::atoll(argv[3]);
  double seconds = std::atof(argv[4]);
  int threads = std::atoi(argv[5]);
  bool profile = argc > 6 && std::strcmp(argv[6], "--profile") == 0;
  if (batch < 1 || seconds < 0 || threads < 0) {
    std::fprintf(stderr, "netc-bench: bad BATCH, SECONDS or THREADS\n");
    return 2;
  }
  netc_error error{};
  netc_model *model = nullptr;
  netc_status status = netc_program_load(program, argv[2], &model, &error);
  if (status != NETC_OK)
    return fail("load", status, error);
  double rssLoad = procStatusMB("VmRSS");

  const netc_program_tensor &in = program->tensors[program->input];
  const netc_program_tensor &out = program->tensors[program->output];
  std::vector<int64_t> shape(in.shape, in.shape + in.rank);
  shape[0] = batch;
  int64_t inCount = batch, outCount = batch;
  for (int d = 1; d < in.rank; ++d)
    inCount *= in.shape[d];
  for (int d = 1; d < out.rank; ++d)
    outCount *= out.shape[d];
  std::vector<float> input(static_cast<size_t>(inCount)), output(static_cast<size_t>(outCount));
  for (size_t i = 0; i < input.size(); ++i)
    input[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f;
  std::vector<char> arena(netc_program_arena_bytes(program, batch) + 64);
  void *aligned = arena.data() + (64 - reinterpret_cast<uintptr_t>(arena.data()) % 64) % 64;

  auto runOnce = [&]() {
    return netc_program_run(model, input.data(), in.rank, shape.data(), output.data(),
                            output.size(), aligned, arena.size() - 64, threads, &error);
  };
  if ((status = runOnce()) != NETC_OK) // warm-up: thread pool, caches
    return fail("run", status, error);

  if (profile) {
    // One step at a time, over the arena the warm-up filled.
    std::vector<std::vector<double>> times(program->num_steps);
    double start = now();
    int rounds = 0;
    do {
      for (size_t s = 0; s < program->num_steps; ++s) {
        double t0 = now();
        status = netc_program_run_steps(model, s, s + 1, input.data(), in.rank, shape.data(),
                                        output.data(), output.size(), aligned,
                                        arena.size() - 64, threads, &error);
        double t = now() - t0;
        if (status != NETC_OK)
          return fail("run", status, error);
        times[s].push_back(t);
      }
      ++rounds;
    } while (now() - start < seconds || rounds < 3);
    for (size_t s = 0; s < program->num_steps; ++s) {
      std::vector<double> &t = times[s];
      std::sort(t.begin(), t.end());
      std::printf("step=%zu name=%s pipeline=%d ms=%.4f median_ms=%.4f\n", s,
                  program->steps[s].name, program->steps[s].pipeline, t.front() * 1e3,
                  t[t.size() / 2] * 1e3);
    }
    netc_model_free(model);
    return 0;
  }

  std::vector<double> times;
  double start = now();
  while (now() - start < seconds || times.size() < 3) {
    double t0 = now();
    if ((status = runOnce()) != NETC_OK)
      return fail("run", status, error);
    times.push_back(now() - t0);
  }
  std::sort(times.begin(), times.end());
  std::printf("median_ms=%.4f runs=%zu rss_load_mb=%.1f rss_run_mb=%.1f peak_rss_mb=%.1f\n",
              times[times.size() / 2] * 1e3, times.size(), rssLoad, procStatusMB("VmRSS"),
              procStatusMB("VmHWM"));
  netc_model_free(model);
  return 0;
}
