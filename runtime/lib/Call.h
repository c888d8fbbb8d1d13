//===- Call.h - What one run or load passes its pipelines -------*- C++ -*-===//
//
// Every compiled pipeline takes a user context (Halide's UserContext target
// feature) and hands it to the Halide runtime's parallel loops and error
// reports. netc passes a netc::runtime::Call: its parallel loops run on
// netc's thread pool with the call's own thread count, and its errors land in
// the call's message instead of on stderr. Halide code of other origins in
// the same process (a null or foreign user context) keeps Halide's defaults.
//
//===----------------------------------------------------------------------===//
#ifndef NETC_RUNTIME_CALL_H
#define NETC_RUNTIME_CALL_H

#include "netc/program.h"

#include <HalideRuntime.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace netc::runtime {

struct Call {
  static constexpr uint64_t kMagic = 0x6e6574635f63616cULL; // "netc_cal"
  uint64_t magic = kMagic;
  int threads = 1; // this call's parallel loops use at most this many threads
  std::mutex mutex; // guards `halideMessage`: parallel tasks may fail at once
  std::string halideMessage; // what the Halide runtime reported, if anything

  explicit Call(int threads) : threads(threads) {}
  ~Call() { magic = 0; }
  Call(const Call &) = delete;
  Call &operator=(const Call &) = delete;
};

/// The thread count a run asked for: `requested`, or for 0 the number of
/// CPUs the process may run on. Negative or above NETC_MAX_THREADS: -1.
int resolveThreads(int requested);

/// Installs netc's parallel-loop and error handlers in the Halide runtime
/// the program's pipelines call (through its setters; once per runtime).
void installHalideHandlers(const netc_program &program);

/// Runs task(user_context, min .. min + size - 1, closure) on at most
/// `threads` threads: the caller's and helpers from netc's pool. Returns 0,
/// or the first nonzero status a task returned (later tasks are skipped).
int parallelFor(int threads, void *user_context, halide_task_t task, int min, int size,
                uint8_t *closure);

} // namespace netc::runtime

#endif // NETC_RUNTIME_CALL_H
