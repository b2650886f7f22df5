#include "backend/open.h"

#include <fmt/format.h>

#include <cstdlib>

#include "backend/embedded_backend.h"
#include "backend/http_backend.h"

namespace gavel::backend {

namespace {

Result<std::pair<std::string, std::string>> parse_header(const std::string& h) {
  const size_t colon = h.find(':');
  if (colon == std::string::npos || colon == 0)
    return Status::InvalidArgument(fmt::format("--backend-header '{}': expected 'Name: value'", h));
  std::string name = h.substr(0, colon), value = h.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return Status::InvalidArgument(
          fmt::format("--backend-header '{}': '{}' is not a header name", h, name));
  for (char c : value)
    if (c == '\r' || c == '\n')
      return Status::InvalidArgument(
          fmt::format("--backend-header '{}': line break in the value", name));
  return std::make_pair(name, value);
}

// The HTTP fields' domains (the CLI's flags check the same ranges; the public API and the
// server reach this without them). NaN fails every comparison and is refused too.
Status check_http_spec(const BackendSpec& c) {
  auto range = [](const char* name, double v, double lo, double hi) -> Status {
    if (v >= lo && v <= hi) return Status::Ok();
    return Status::InvalidArgument(
        fmt::format("backend: {} must be {}..{}, got {}", name, lo, hi, v));
  };
  GAVEL_TRY(range("concurrency", c.concurrency, 1, 1024));
  GAVEL_TRY(range("request_timeout_s", c.request_timeout_s, 0.001, 86400));
  GAVEL_TRY(range("retries", c.retries, 0, 100));
  GAVEL_TRY(range("down_timeout_s", c.down_timeout_s, 0, 86400));
  GAVEL_TRY(range("top_n", c.top_n, 1, 1 << 20));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Backend>> open_backend(const BackendSpec& c, std::FILE* log) {
  if (c.urls.empty()) {
    if (c.model.empty())
      return Status::InvalidArgument("give --model M.gguf (embedded engine) or --backend URL");
    GAVEL_ASSIGN(
        auto e, EmbeddedBackend::open(c.model, {c.threads, c.ctx, c.prefix_cache, c.decode_batch}));
    return std::unique_ptr<Backend>(std::move(e));
  }
  GAVEL_TRY(check_http_spec(c));
  HttpOptions o;
  o.pool.urls = c.urls;
  o.pool.concurrency = c.concurrency;
  o.pool.timeout_s = c.request_timeout_s;
  o.pool.max_attempts = c.retries + 1;
  o.pool.down_timeout_s = c.down_timeout_s;
  o.pool.ca_file = c.ca_cert;
  for (const std::string& h : c.headers) {
    GAVEL_ASSIGN(auto kv, parse_header(h));
    o.pool.headers.push_back(std::move(kv));
  }
  if (!c.api_key_env.empty()) {
    // Read from the environment so that the key never shows in a command line or a log.
    const char* key = std::getenv(c.api_key_env.c_str());
    if (!key || !*key)
      return Status::InvalidArgument(
          fmt::format("--backend-api-key-env {}: that environment variable is not set or empty",
                      c.api_key_env));
    o.pool.api_key = key;
  }
  o.kind = c.kind;
  o.tokenizer = c.tokenizer.empty() ? c.model : c.tokenizer;
  o.engine.model = c.served_model;
  o.engine.top_n = c.top_n;
  o.engine.cache_prompt = c.server_prefix_cache;
  o.engine.num_ctx = c.ctx;
  GAVEL_ASSIGN(auto b, HttpBackend::open(std::move(o), log));
  return std::unique_ptr<Backend>(std::move(b));
}

}  // namespace gavel::backend
