// One model, many connections: model work (scoring, generation, judging) runs on a single
// worker thread in arrival order, while the HTTP threads stay free to read, write and answer
// cheap routes. The queue is bounded: when it is full a request is refused at once (503 with
// Retry-After) instead of piling up; a request that waited past its deadline is answered 504
// and its job, if not yet started, is dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "server/api_error.h"

namespace gavel::server {

class ModelQueue {
 public:
  explicit ModelQueue(int capacity);
  ~ModelQueue();  // finishes the running job; queued ones are dropped (their callers get 503)
  ModelQueue(const ModelQueue&) = delete;
  ModelQueue& operator=(const ModelQueue&) = delete;

  // Runs `fn` on the model thread and returns its result, or 503 (queue full) / 504 (not done
  // within `timeout`). `fn` must not throw.
  template <class T>
  ApiResult<T> run(std::function<ApiResult<T>()> fn, std::chrono::milliseconds timeout);

  int depth() const { return depth_.load(); }  // waiting + running
  int capacity() const { return capacity_; }
  // Seconds a client should wait before retrying: the queue's expected drain time (1..60).
  int retry_after() const;
  double busy_seconds() const;  // total time the model thread spent running jobs

 private:
  struct Job {
    // run == false: dropped at shutdown. Publishes the result and takes the job out of depth_.
    std::function<void(bool run)> fn;
    std::atomic<bool> abandoned{false};
  };
  bool submit(std::shared_ptr<Job> job);
  void work();

  const int capacity_;
  std::atomic<int> depth_{0};
  std::atomic<int64_t> busy_us_{0}, jobs_done_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> jobs_;
  bool stop_ = false;
  std::thread worker_;
};

template <class T>
ApiResult<T> ModelQueue::run(std::function<ApiResult<T>()> fn, std::chrono::milliseconds timeout) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::unique_ptr<ApiResult<T>> result;
  };
  auto st = std::make_shared<State>();
  auto job = std::make_shared<Job>();
  // The job leaves the queue's depth before its caller wakes, so a caller that got its answer
  // never sees its own job counted.
  job->fn = [this, st, fn = std::move(fn)](bool run) {
    auto r = std::make_unique<ApiResult<T>>(
        run ? fn() : ApiResult<T>(ApiError{503, "the server is shutting down", ""}));
    depth_ -= 1;
    std::lock_guard lk(st->mu);
    st->result = std::move(r);
    st->cv.notify_all();
  };
  if (!submit(job))
    return ApiError{503,
                    "the server is busy: the model queue is full (" + std::to_string(capacity_) +
                        " requests); retry later",
                    ""};
  std::unique_lock lk(st->mu);
  if (!st->cv.wait_for(lk, timeout, [&] { return st->result != nullptr; })) {
    job->abandoned = true;
    return ApiError{504,
                    "the request did not finish within " + std::to_string(timeout.count() / 1000) +
                        " s (the model is busy or the job is long); any judgment it completes is "
                        "still stored",
                    ""};
  }
  return std::move(*st->result);
}

}  // namespace gavel::server
