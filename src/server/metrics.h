// Server metrics in the Prometheus text exposition format (version 0.0.4): requests by route and
// status, a latency histogram per route, token counters and throughput, queue depth and store
// hits. Thread-safe; every HTTP thread records into one instance.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace gavel::server {

struct QueueGauges {
  int depth = 0, capacity = 0;
  double busy_seconds = 0;
};

class Metrics {
 public:
  // Latency bucket bounds in seconds (the histogram's "le" labels).
  static constexpr std::array<double, 14> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1,     2.5,  5,     10,   30};

  void request(const std::string& route, int status);
  void latency(const std::string& route, double seconds);
  void tokens(int64_t prompt_evaluated, int64_t generated);
  void store(int64_t hits, int64_t misses);

  std::string render(const QueueGauges& q) const;

 private:
  struct Histogram {
    std::array<int64_t, kBuckets.size()> counts{};  // per bucket, not cumulative
    int64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  std::map<std::string, Histogram> latency_;
  int64_t prompt_tokens_ = 0, generated_tokens_ = 0, store_hits_ = 0, store_misses_ = 0;
};

}  // namespace gavel::server
