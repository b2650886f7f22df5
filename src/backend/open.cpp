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
    return Error{fmt::format("--backend-header '{}': expected 'Name: value'", h)};
  std::string name = h.substr(0, colon), value = h.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return Error{fmt::format("--backend-header '{}': '{}' is not a header name", h, name)};
  for (char c : value)
    if (c == '\r' || c == '\n')
      return Error{fmt::format("--backend-header '{}': line break in the value", name)};
  return std::make_pair(name, value);
}

}  // namespace

Result<std::unique_ptr<Backend>> open_backend(const BackendConfig& c, std::FILE* log) {
  if (c.backend_urls.empty()) {
    if (c.model.empty()) return Error{"give --model M.gguf (embedded engine) or --backend URL"};
    auto e = EmbeddedBackend::open(c.model, {c.threads, c.ctx, c.prefix_cache});
    if (!e.ok()) return Error{e.message()};
    return std::unique_ptr<Backend>(std::move(e).value());
  }
  HttpOptions o;
  o.pool.urls = c.backend_urls;
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
      return Error{
          fmt::format("--backend-api-key-env {}: that environment variable is not set or empty",
                      c.api_key_env)};
    o.pool.api_key = key;
  }
  o.kind = c.backend_kind;
  o.tokenizer = c.tokenizer.empty() ? c.model : c.tokenizer;
  o.engine.model = c.backend_model;
  o.engine.top_n = c.top_n;
  o.engine.cache_prompt = c.server_prefix_cache;
  o.engine.num_ctx = c.ctx;
  auto b = HttpBackend::open(std::move(o), log);
  if (!b.ok()) return Error{b.message()};
  return std::unique_ptr<Backend>(std::move(b).value());
}

}  // namespace gavel::backend
