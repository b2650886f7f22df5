// Prometheus text: counters by route and status, cumulative histogram buckets, gauges.
#include <gtest/gtest.h>

#include "server/metrics.h"

using gavel::server::Metrics;

TEST(Metrics, PrometheusTextFormat) {
  Metrics m;
  m.request("/v1/completions", 200);
  m.request("/v1/completions", 200);
  m.request("/v1/completions", 400);
  m.request("a\"b", 404);
  m.latency("/health", 0.0004);
  m.latency("/health", 0.003);
  m.latency("/health", 100);
  m.tokens(30, 10);
  m.store(3, 1);
  const std::string t = m.render({2, 64, 4.0});
  auto has = [&](const std::string& line) {
    EXPECT_NE(t.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << t;
  };
  has("# TYPE gavel_requests_total counter");
  has("gavel_requests_total{route=\"/v1/completions\",status=\"200\"} 2");
  has("gavel_requests_total{route=\"/v1/completions\",status=\"400\"} 1");
  has("gavel_requests_total{route=\"a\\\"b\",status=\"404\"} 1");
  has("# TYPE gavel_request_duration_seconds histogram");
  has("gavel_request_duration_seconds_bucket{route=\"/health\",le=\"0.001\"} 1");
  has("gavel_request_duration_seconds_bucket{route=\"/health\",le=\"0.0025\"} 1");
  has("gavel_request_duration_seconds_bucket{route=\"/health\",le=\"0.005\"} 2");
  has("gavel_request_duration_seconds_bucket{route=\"/health\",le=\"30\"} 2");
  has("gavel_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"} 3");
  has("gavel_request_duration_seconds_count{route=\"/health\"} 3");
  has("gavel_prompt_tokens_total 30");
  has("gavel_generated_tokens_total 10");
  has("gavel_tokens_per_second 10");
  has("gavel_queue_depth 2");
  has("gavel_queue_capacity 64");
  has("gavel_store_hits_total 3");
  has("gavel_store_misses_total 1");
}
