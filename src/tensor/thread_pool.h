// A small persistent thread pool: parallel_for hands out task indices dynamically to the
// workers and the calling thread, and returns when every task has finished. Idle threads spin
// briefly before they sleep, so the many small jobs of a forward pass start without a wake-up.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gavel::tensor {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // total threads, caller included (>= 1)
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }
  // fn(task) for task in [0, n_tasks). Not reentrant: fn must not call parallel_for.
  void parallel_for(int n_tasks, const std::function<void(int)>& fn);

 private:
  void worker_loop();
  void run_tasks();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  // The job: written under mu_ before generation_ moves on, read by workers after they see it.
  const std::function<void(int)>* fn_ = nullptr;
  int n_tasks_ = 0;
  std::atomic<int> next_{0};
  std::atomic<int> active_{0};  // workers still inside the current job
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace gavel::tensor
