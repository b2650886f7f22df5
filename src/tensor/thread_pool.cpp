#include "tensor/thread_pool.h"

#include <immintrin.h>

#include <chrono>

namespace gavel::tensor {

namespace {

// How long a thread spins for the next job (or for the workers to finish) before it sleeps.
// A forward pass posts a job every few microseconds (each matmul, norm and attention step):
// sleeping between them costs a futex wake-up per job, which on one-token decoding was about
// a tenth of the time. Past this an idle thread sleeps and costs nothing.
constexpr auto kSpin = std::chrono::microseconds(200);

// Spins until pred() holds (true) or kSpin has passed (false).
template <class Pred>
bool spin_until(Pred pred) {
  const auto start = std::chrono::steady_clock::now();
  for (unsigned i = 1;; ++i) {
    if (pred()) return true;
    if (i % 128 == 0 && std::chrono::steady_clock::now() - start > kSpin) return pred();
    _mm_pause();
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_release);
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_tasks() {
  for (int t = next_.fetch_add(1); t < n_tasks_; t = next_.fetch_add(1)) (*fn_)(t);
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  auto posted = [&] {
    return stop_.load(std::memory_order_acquire) ||
           generation_.load(std::memory_order_acquire) != seen;
  };
  for (;;) {
    if (!spin_until(posted)) {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, posted);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    run_tasks();
    if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);  // the caller checks active_ under the lock
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int n_tasks, const std::function<void(int)>& fn) {
  if (n_tasks <= 0) return;
  if (workers_.empty() || n_tasks == 1) {
    for (int t = 0; t < n_tasks; ++t) fn(t);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    n_tasks_ = n_tasks;
    next_.store(0);
    active_.store(int(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);  // publishes the fields above
  }
  start_cv_.notify_all();  // no system call when every worker is spinning
  run_tasks();
  auto finished = [&] { return active_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(finished)) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, finished);
  }
  fn_ = nullptr;
}

}  // namespace gavel::tensor
