// ModelQueue: one job at a time, 503 when full, 504 past the deadline (and a
// job not yet started is then dropped), queued jobs answered at shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <vector>

#include "server/model_queue.h"

using namespace gavel::server;
using namespace std::chrono_literals;

TEST(ModelQueue, RunsJobsOneAtATime) {
  ModelQueue q(16);
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> running{0}, max_running{0};
  std::vector<std::future<ApiResult<int>>> fs;
  for (int i = 0; i < 8; ++i) {
    fs.push_back(std::async(std::launch::async, [&, i] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * i));  // arrival order
      return q.run<int>(
          [&, i]() -> ApiResult<int> {
            max_running = std::max(max_running.load(), ++running);
            std::this_thread::sleep_for(10ms);
            {
              std::lock_guard lk(mu);
              order.push_back(i);
            }
            --running;
            return i * 10;
          },
          10s);
    }));
  }
  for (int i = 0; i < 8; ++i) {
    auto r = fs[size_t(i)].get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, i * 10);
  }
  EXPECT_EQ(max_running.load(), 1);
  EXPECT_EQ(order.size(), 8u);
  EXPECT_EQ(q.depth(), 0);
  EXPECT_GT(q.busy_seconds(), 0.07);
}

TEST(ModelQueue, FullQueueAnswers503AndTimeoutAnswers504) {
  ModelQueue q(2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  auto blocker = std::async(std::launch::async, [&] {
    return q.run<int>(
        [gate]() -> ApiResult<int> {
          gate.wait();
          return 1;
        },
        10s);
  });
  while (q.depth() < 1) std::this_thread::sleep_for(1ms);
  std::atomic<bool> dropped_ran{false};
  // Waits behind the blocker and gives up: 504, and it never runs.
  auto waiter = q.run<int>(
      [&]() -> ApiResult<int> {
        dropped_ran = true;
        return 2;
      },
      50ms);
  ASSERT_FALSE(waiter.ok());
  EXPECT_EQ(waiter.error().status, 504);
  // The abandoned job still holds its slot until the worker skips it: the queue is full.
  auto refused = q.run<int>([]() -> ApiResult<int> { return 3; }, 10s);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().status, 503);
  EXPECT_NE(refused.error().message.find("full"), std::string::npos);
  EXPECT_GE(q.retry_after(), 1);
  EXPECT_LE(q.retry_after(), 60);
  release.set_value();
  EXPECT_EQ(*blocker.get(), 1);
  auto after = q.run<int>([]() -> ApiResult<int> { return 4; }, 10s);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, 4);
  EXPECT_FALSE(dropped_ran.load());
}

TEST(ModelQueue, ErrorsOfTheJobPassThrough) {
  ModelQueue q(1);
  auto r = q.run<int>([]() -> ApiResult<int> { return ApiError{400, "bad prompt", "prompt"}; }, 1s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(r.error().param, "prompt");
}

TEST(ModelQueue, ShutdownAnswersQueuedJobs) {
  std::future<ApiResult<int>> queued;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  {
    auto q = std::make_unique<ModelQueue>(4);
    auto blocker = std::async(std::launch::async, [&] {
      return q->run<int>(
          [gate]() -> ApiResult<int> {
            gate.wait();
            return 1;
          },
          10s);
    });
    while (q->depth() < 1) std::this_thread::sleep_for(1ms);
    queued = std::async(std::launch::async,
                        [&] { return q->run<int>([]() -> ApiResult<int> { return 2; }, 10s); });
    while (q->depth() < 2) std::this_thread::sleep_for(1ms);
    std::thread stopper([&] { q.reset(); });  // waits for the running job
    std::this_thread::sleep_for(20ms);
    release.set_value();
    stopper.join();
    EXPECT_EQ(*blocker.get(), 1);
  }
  auto r = queued.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 503);
  EXPECT_NE(r.error().message.find("shutting down"), std::string::npos);
}
