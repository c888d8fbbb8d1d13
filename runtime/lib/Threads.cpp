//===- Threads.cpp - netc's thread pool and Halide runtime handlers -------===//
//
// A parallel loop is a job: its tasks are handed out by an atomic counter to
// the calling thread and to at most (threads - 1) helpers from one shared
// pool. The caller always works on its own job, so a loop nested in a task
// makes progress even when every helper is busy, and two calls with
// different thread counts never change each other's.
//
//===----------------------------------------------------------------------===//
#include "Call.h"

#include "netc/program.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <thread>
#include <vector>

namespace netc::runtime {

namespace {

/// A pause in a spin-wait: cheap for the sibling hyperthread and the bus.
inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

/// How long a helper (or a caller waiting for helpers) spins before it
/// sleeps: about 50-100 us. Consecutive parallel loops of one inference are
/// microseconds apart; waking a sleeping thread costs tens of microseconds.
constexpr int kSpins = 4000;

struct Job {
  halide_task_t task;
  void *userContext;
  uint8_t *closure;
  int end;
  std::atomic<int> next;
  std::atomic<int> result{0};
  int slots;                  // helpers that may still join; guarded by the pool's mutex
  std::atomic<int> active{0}; // helpers working on it; changed under the pool's mutex

  Job(halide_task_t task, void *userContext, uint8_t *closure, int min, int size, int slots)
      : task(task), userContext(userContext), closure(closure), end(min + size), next(min),
        slots(slots) {}

  /// Runs tasks until none is left or one has failed.
  void work() {
    for (int i = next.fetch_add(1); i < end; i = next.fetch_add(1)) {
      if (result.load(std::memory_order_relaxed) != 0)
        return;
      if (int status = task(userContext, i, closure)) {
        int none = 0;
        result.compare_exchange_strong(none, status);
      }
    }
  }
};

class Pool {
public:
  /// Never destroyed: helpers may still wait on it while the process exits.
  static Pool &instance() {
    static Pool *pool = new Pool;
    return *pool;
  }

  int run(Job &job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (helpers_ < job.slots) {
        std::thread(&Pool::helperLoop, this).detach();
        ++helpers_;
      }
      queue_.push_back(&job);
      queued_.store(static_cast<int>(queue_.size()));
    }
    // A helper that saw the queue empty under the lock counted itself first.
    if (sleeping_.load() > 0)
      work_.notify_all();
    job.work();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.erase(std::remove(queue_.begin(), queue_.end(), &job), queue_.end());
      queued_.store(static_cast<int>(queue_.size()));
      job.slots = 0;
    }
    // The helpers that joined finish their last task: spin, then sleep.
    for (int spin = 0; job.active.load() != 0 && spin < kSpins; ++spin)
      relax();
    if (job.active.load() != 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return job.active.load() == 0; });
    }
    return job.result.load();
  }

private:
  void helperLoop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (queue_.empty()) {
        lock.unlock();
        for (int spin = 0; queued_.load(std::memory_order_relaxed) == 0 && spin < kSpins; ++spin)
          relax();
        lock.lock();
        if (queue_.empty()) {
          sleeping_.fetch_add(1);
          work_.wait(lock, [&] { return !queue_.empty(); });
          sleeping_.fetch_sub(1);
        }
      }
      Job *job = queue_.front();
      if (--job->slots == 0) {
        queue_.pop_front();
        queued_.store(static_cast<int>(queue_.size()));
      }
      job->active.fetch_add(1);
      lock.unlock();
      job->work();
      lock.lock();
      // The job may end (its caller return) as soon as this reaches zero:
      // nothing of it is touched after.
      if (job->active.fetch_sub(1) == 1)
        done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable work_, done_;
  std::deque<Job *> queue_;       // jobs with slots > 0
  std::atomic<int> queued_{0};    // queue_.size(), for spinning helpers
  std::atomic<int> sleeping_{0};  // helpers waiting on work_
  int helpers_ = 0;
};

Call *asCall(void *userContext) {
  auto *call = static_cast<Call *>(userContext);
  return call && call->magic == Call::kMagic ? call : nullptr;
}

// Halide's own handlers, for Halide code that is not netc's.
std::atomic<halide_do_par_for_t> previousParFor{nullptr};
std::atomic<halide_error_handler_t> previousError{nullptr};

int doParFor(void *userContext, halide_task_t task, int min, int size, uint8_t *closure) {
  if (Call *call = asCall(userContext))
    return parallelFor(call->threads, userContext, task, min, size, closure);
  halide_do_par_for_t previous = previousParFor.load();
  return previous ? previous(userContext, task, min, size, closure)
                  : parallelFor(1, userContext, task, min, size, closure);
}

/// Keeps the first message of a call (parallel tasks may fail at once).
void record(Call &call, const char *message) {
  std::lock_guard<std::mutex> lock(call.mutex);
  if (call.halideMessage.empty())
    call.halideMessage = message ? message : "";
}

void onError(void *userContext, const char *message) {
  if (Call *call = asCall(userContext))
    return record(*call, message);
  if (halide_error_handler_t previous = previousError.load())
    previous(userContext, message);
}

} // namespace

int resolveThreads(int requested) {
  if (requested < 0 || requested > NETC_MAX_THREADS)
    return -1;
  if (requested > 0)
    return requested;
  // Asked once: a run with threads 0 is every inference's path.
  static const int cpus = [] {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
      return CPU_COUNT(&set);
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }();
  return cpus;
}

int parallelFor(int threads, void *userContext, halide_task_t task, int min, int size,
                uint8_t *closure) {
  int helpers = std::min(threads, size) - 1;
  Job job(task, userContext, closure, min, size, std::max(helpers, 0));
  if (helpers <= 0) {
    job.work();
    return job.result.load();
  }
  return Pool::instance().run(job);
}

void installHalideHandlers(const netc_program &program) {
  static std::mutex mutex;
  static std::vector<const void *> installed; // one Halide runtime per setter
  if (!program.set_custom_do_par_for || !program.set_error_handler)
    return;
  std::lock_guard<std::mutex> lock(mutex);
  const void *key = reinterpret_cast<const void *>(program.set_custom_do_par_for);
  if (std::find(installed.begin(), installed.end(), key) != installed.end())
    return;
  installed.push_back(key);
  auto parFor = program.set_custom_do_par_for(reinterpret_cast<netc_par_for_fn>(&doParFor));
  auto error = program.set_error_handler(reinterpret_cast<netc_error_fn>(&onError));
  if (installed.size() == 1) {
    previousParFor.store(reinterpret_cast<halide_do_par_for_t>(parFor));
    previousError.store(reinterpret_cast<halide_error_handler_t>(error));
  }
}

} // namespace netc::runtime

using namespace netc::runtime;

extern "C" int netc_parallel_for(void *call_context, netc_task_fn task, void *task_context,
                                 int min, int size, uint8_t *closure) {
  Call *call = asCall(call_context);
  return parallelFor(call ? call->threads : 1, task_context,
                     reinterpret_cast<halide_task_t>(task), min, size, closure);
}

extern "C" void netc_report(void *call_context, const char *message) {
  if (Call *call = asCall(call_context))
    record(*call, message);
}
