#include "server/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace gavel::server {

namespace {
// Label values escape backslash, quote and newline.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}
}  // namespace

void Metrics::request(const std::string& route, int status) {
  std::lock_guard lk(mu_);
  requests_[{route, status}] += 1;
}

void Metrics::latency(const std::string& route, double seconds) {
  std::lock_guard lk(mu_);
  Histogram& h = latency_[route];
  const auto it = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds);
  if (it != kBuckets.end()) h.counts[size_t(it - kBuckets.begin())] += 1;
  h.count += 1;
  h.sum += seconds;
}

void Metrics::tokens(int64_t prompt_evaluated, int64_t generated) {
  std::lock_guard lk(mu_);
  prompt_tokens_ += prompt_evaluated;
  generated_tokens_ += generated;
}

void Metrics::store(int64_t hits, int64_t misses) {
  std::lock_guard lk(mu_);
  store_hits_ += hits;
  store_misses_ += misses;
}

std::string Metrics::render(const QueueGauges& q) const {
  std::lock_guard lk(mu_);
  std::string out;
  header(out, "gavel_requests_total", "counter", "HTTP requests answered, by route and status.");
  for (const auto& [k, n] : requests_)
    out += fmt::format("gavel_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", label(k.first),
                       k.second, n);
  header(out, "gavel_request_duration_seconds", "histogram",
         "Time from routing to response, by route (includes waiting for the model).");
  for (const auto& [route, h] : latency_) {
    int64_t cum = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cum += h.counts[i];
      out += fmt::format("gavel_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                         label(route), kBuckets[i], cum);
    }
    out += fmt::format("gavel_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                       label(route), h.count);
    out +=
        fmt::format("gavel_request_duration_seconds_sum{{route=\"{}\"}} {}\n", label(route), h.sum);
    out += fmt::format("gavel_request_duration_seconds_count{{route=\"{}\"}} {}\n", label(route),
                       h.count);
  }
  header(out, "gavel_prompt_tokens_total", "counter", "Prompt tokens run through the model.");
  out += fmt::format("gavel_prompt_tokens_total {}\n", prompt_tokens_);
  header(out, "gavel_generated_tokens_total", "counter",
         "Tokens generated (and multi-token candidates scored) after a prompt.");
  out += fmt::format("gavel_generated_tokens_total {}\n", generated_tokens_);
  header(out, "gavel_model_busy_seconds_total", "counter", "Time the model thread spent on jobs.");
  out += fmt::format("gavel_model_busy_seconds_total {}\n", q.busy_seconds);
  header(out, "gavel_tokens_per_second", "gauge",
         "Prompt and generated tokens per second of model time, since start.");
  const double tps =
      q.busy_seconds > 0 ? double(prompt_tokens_ + generated_tokens_) / q.busy_seconds : 0;
  out += fmt::format("gavel_tokens_per_second {}\n", tps);
  header(out, "gavel_queue_depth", "gauge", "Model jobs waiting or running.");
  out += fmt::format("gavel_queue_depth {}\n", q.depth);
  header(out, "gavel_queue_capacity", "gauge", "Model jobs the queue holds before refusing (503).");
  out += fmt::format("gavel_queue_capacity {}\n", q.capacity);
  header(out, "gavel_store_hits_total", "counter", "Judgments answered from the store.");
  out += fmt::format("gavel_store_hits_total {}\n", store_hits_);
  header(out, "gavel_store_misses_total", "counter", "Judgments computed (then stored).");
  out += fmt::format("gavel_store_misses_total {}\n", store_misses_);
  return out;
}

}  // namespace gavel::server
