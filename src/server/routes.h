// The server's routes as plain functions from a request to a reply, independent of the HTTP
// library: server.cpp binds them to cpp-httplib, tests call them directly.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gavel/backend.h"
#include "judge/protocol.h"
#include "server/api_error.h"
#include "server/metrics.h"
#include "server/model_queue.h"
#include "server/requests.h"

namespace gavel::backend {
class EmbeddedBackend;
}
namespace gavel::store {
class Store;
}

namespace gavel::server {

class TournamentJobs;

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  int port = 8080;                 // 0 = any free port (printed at start)
  std::string api_key;             // "" = no authentication
  std::string model_name;          // the id /v1/models lists ("" = the model file's stem)
  size_t max_body_bytes = 8u << 20;
  int max_prompt_tokens = 0;  // 0 = the model's context size
  int queue = 64;             // model jobs waiting or running before 503
  int http_threads = 32;      // connections served at once
  int read_timeout_s = 10, write_timeout_s = 30, keep_alive_timeout_s = 5;
  int request_timeout_s = 600;  // queue wait + model time before 504
  RequestLimits limits;
  bool log_requests = true;
};

struct HttpRequest {
  std::string method, path;
  std::string body;
  std::map<std::string, std::string> query;
  std::vector<std::string> matches;  // regex groups of the route pattern
};

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Responses keep their keys in the order written (OpenAI's order; top log-probs best first).
Reply json_reply(const nlohmann::ordered_json& body, int status = 200);
Reply error_reply(const ApiError& e);
// JSON text with invalid UTF-8 (a token that is part of a character) replaced, not an error.
std::string dump_json(const nlohmann::json& j);
// 501 for the routes that need the judgment store when the server runs without one.
ApiError no_store();

using Handler = std::function<Reply(const HttpRequest&)>;
struct Route {
  std::string method;   // GET or POST
  std::string pattern;  // exact path, or a regex with groups for path parameters
  Handler handler;
};

// Everything routes share. Model work goes through `queue`; `embedded` is null when the backend
// is not the in-process engine (then the OpenAI routes answer 501). The store is thread-safe.
struct Context {
  Backend& backend;
  backend::EmbeddedBackend* embedded = nullptr;
  store::Store* store = nullptr;
  ServerOptions options;
  judge::ChatRenderer render;  // the served model's own chat template
  std::string model_name;
  int64_t started_at = 0;  // unix seconds
  Metrics metrics;
  // The judge API's runs in the store, one per protocol configuration since start.
  std::mutex runs_mu;
  struct ServeRun {
    int64_t id = 0, items = 0;
  };
  std::map<std::string, ServeRun> serve_runs;
  TournamentJobs* tournaments = nullptr;  // POST /v1/tournaments; null without a store
  ModelQueue queue;  // after metrics: destroyed first, joining the thread that records into them

  Context(Backend& b, backend::EmbeddedBackend* e, store::Store* s, ServerOptions o);
  std::chrono::milliseconds timeout() const {
    return std::chrono::seconds(options.request_timeout_s);
  }
  // 404 unless `requested` is empty or names the served model.
  std::optional<ApiError> check_model(const std::string& requested) const;
  // Runs `fn` on the model thread. `fn` may outlive the request (it keeps running after a 504),
  // so it must own what it uses: capture by value, never the handler's locals by reference.
  template <class T>
  ApiResult<T> on_model(std::function<ApiResult<T>()> fn) {
    return queue.run<T>(std::move(fn), timeout());
  }
};

std::vector<Route> openai_routes(Context& ctx);
std::vector<Route> judge_routes(Context& ctx);
std::vector<Route> dashboard_routes(Context& ctx);
std::vector<Route> tournament_routes(Context& ctx);

}  // namespace gavel::server
