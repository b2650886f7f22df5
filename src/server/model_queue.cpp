#include "server/model_queue.h"

#include <algorithm>
#include <cmath>

namespace gavel::server {

ModelQueue::ModelQueue(int capacity) : capacity_(std::max(1, capacity)) {
  worker_ = std::thread([this] { work(); });
}

ModelQueue::~ModelQueue() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

bool ModelQueue::submit(std::shared_ptr<Job> job) {
  std::lock_guard lk(mu_);
  if (stop_ || depth_.load() >= capacity_) return false;
  depth_ += 1;
  jobs_.push_back(std::move(job));
  cv_.notify_one();
  return true;
}

void ModelQueue::work() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !jobs_.empty(); });
      if (stop_) {
        for (auto& j : jobs_) j->fn(false);
        jobs_.clear();
        return;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    if (job->abandoned) {
      depth_ -= 1;  // its caller is gone (504): skipped
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    job->fn(true);
    busy_us_ +=
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    jobs_done_ += 1;
  }
}

int ModelQueue::retry_after() const {
  const int64_t n = jobs_done_.load();
  const double mean = n ? double(busy_us_.load()) / 1e6 / double(n) : 1.0;
  return int(std::clamp(std::ceil(mean * std::max(1, depth())), 1.0, 60.0));
}

double ModelQueue::busy_seconds() const { return double(busy_us_.load()) / 1e6; }

}  // namespace gavel::server
