// HTTP transport for the HTTP backends: a pool of engine endpoints (replicas of one model)
// with a per-endpoint concurrency limit, retries with exponential backoff and jitter, a
// per-request deadline, and eviction of an endpoint that keeps failing (probed back in later).
// The HTTP itself is cpp-httplib (OpenSSL for https, certificates checked).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gavel/status.h"

namespace httplib {
class Client;
}

namespace gavel::backend::http {

struct PoolOptions {
  std::vector<std::string> urls;  // http[s]://host[:port][/prefix]
  int concurrency = 1;            // requests in flight per endpoint
  double timeout_s = 600;         // deadline of one attempt (connect, queue, whole answer)
  double connect_timeout_s = 10;
  int max_attempts = 5;         // sends of one request, over all endpoints
  double backoff_base_s = 0.5;  // wait before attempt n+1: base * 2^(n-1), capped, jittered
  double backoff_cap_s = 8;
  double retry_after_cap_s = 60;  // a server's Retry-After longer than this is capped
  int evict_after = 3;            // consecutive failures that take an endpoint out
  double probe_interval_s = 1;    // first probe of an evicted endpoint; doubles up to 30 s
  double down_timeout_s = 60;     // every endpoint out this long: requests fail (unavailable)
  std::string api_key;            // "Authorization: Bearer <key>" when not empty
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every request
  std::string ca_file;       // extra CA bundle for https (system store otherwise)
  uint64_t jitter_seed = 0;  // 0 = from the clock
};

// Figures of one endpoint since the pool was opened.
struct EndpointStats {
  std::string url;
  int64_t sent = 0;       // attempts sent
  int64_t ok = 0;         // attempts answered with a usable 2xx
  int64_t failed = 0;     // attempts that failed (connection, timeout, 429, 5xx, bad body)
  int64_t retried = 0;    // attempts that were retries of an earlier failure
  int64_t evictions = 0;  // times taken out of rotation
  double busy_s = 0;      // summed duration of its attempts
  bool in_rotation = true;
  std::string last_error;
};

// An answer: the parsed JSON body of a 2xx response (or of a 4xx one, when asked for).
struct Reply {
  int status = 200;
  nlohmann::json body;  // null for a 4xx body that is not JSON
  int endpoint = -1;    // which endpoint answered
  double seconds = 0;   // duration of the successful attempt
  int attempts = 1;     // sends it took
};

// What a request may do. `pinned` >= 0: only that endpoint (start-up checks of each replica).
struct CallOptions {
  int pinned = -1;
  int max_attempts = 0;        // 0 = the pool's
  bool client_errors = false;  // a 4xx that is not retried comes back as a Reply
};

// One method + path + JSON body; the pool picks the endpoint. A 2xx with a JSON body is a
// Reply; a 4xx other than 408/409/429 is an error unless `client_errors` (then a Reply with
// that status, e.g. to learn that a route does not exist); everything else is retried.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<Reply> send(const std::string& method, const std::string& path,
                             const nlohmann::json* body, bool client_errors) = 0;
  Result<Reply> post(const std::string& path, const nlohmann::json& body,
                     bool client_errors = false) {
    return send("POST", path, &body, client_errors);
  }
  Result<Reply> get(const std::string& path, bool client_errors = false) {
    return send("GET", path, nullptr, client_errors);
  }
};

// Parsed endpoint URL.
struct Url {
  std::string scheme, host;  // scheme: "http" or "https"
  int port = 0;
  std::string prefix;  // path prefix without a trailing '/', "" for none
  std::string text;    // as given
};
Result<Url> parse_url(const std::string& url);

// Seconds to wait from a Retry-After (delta-seconds or HTTP-date) or retry-after-ms value;
// nullopt when absent or unreadable.
std::optional<double> parse_retry_after(const std::string& retry_after,
                                        const std::string& retry_after_ms,
                                        std::chrono::system_clock::time_point now);

// The message of an error body ({"error": {"message"}}, {"error": "..."}, {"message"},
// {"detail"}); "" when it has none.
std::string error_message(const nlohmann::json& body);

// Whether an HTTP status is worth another attempt (408, 409, 429, 5xx), as OpenAI's SDK does.
bool retryable_status(int status);

class Pool {
 public:
  static Result<std::unique_ptr<Pool>> open(PoolOptions options);
  ~Pool();

  int size() const { return int(endpoints_.size()); }
  int capacity() const { return size() * opt_.concurrency; }
  const std::string& url(int i) const;
  // Path used to probe an evicted endpoint (200 = back in rotation); "/health" by default.
  void set_health_path(std::string path);

  Result<Reply> call(const std::string& method, const std::string& path, const std::string& body,
                     CallOptions c);

  std::vector<EndpointStats> stats() const;
  double seconds_open() const;

 private:
  struct Endpoint;
  struct Attempt;
  explicit Pool(PoolOptions options);
  // Blocks until an endpoint (the pinned one, if any) in rotation has a free slot.
  Result<int> acquire(int pinned);
  void release(int i, bool ok, const std::string& error);
  bool probe(int i);
  Attempt send(int i, const std::string& method, const std::string& path, const std::string& body);
  double backoff(int failures);

  PoolOptions opt_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::string health_path_ = "/health";
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::mt19937_64 rng_;
  int next_ = 0;  // where the next search for an endpoint starts
  std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
  // Since when no endpoint has been in rotation (nullopt while one is).
  std::optional<std::chrono::steady_clock::time_point> all_down_since_;
};

// Transport over a pool (optionally pinned to one endpoint).
class PoolTransport : public Transport {
 public:
  explicit PoolTransport(Pool& pool, CallOptions c = {}) : pool_(pool), c_(c) {}
  Result<Reply> send(const std::string& method, const std::string& path, const nlohmann::json* body,
                     bool client_errors) override;

 private:
  Pool& pool_;
  CallOptions c_;
};

}  // namespace gavel::backend::http
