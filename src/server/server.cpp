#include "server/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <thread>

#include "backend/embedded_backend.h"
#include "chat/chat.h"
#include "server/fields.h"
#include "server/tournament_jobs.h"
#include "store/store.h"

namespace gavel::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

Reply json_reply(const nlohmann::ordered_json& body, int status) {
  return Reply{status,
               body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
               "application/json",
               {}};
}

std::string dump_json(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

ApiError no_store() {
  return ApiError{501, "this server has no judgment store (start it with --store F.sqlite)", ""};
}

Reply error_reply(const ApiError& e) {
  Reply r = json_reply(error_body(e), e.status);
  if (e.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

Context::Context(Backend& b, backend::EmbeddedBackend* e, store::Store* s, ServerOptions o)
    : backend(b), embedded(e), store(s), options(std::move(o)), queue(options.queue) {
  started_at = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  model_name = options.model_name.empty() ? b.info().fingerprint : options.model_name;
  render = [tmpl = b.info().chat_template](const json& messages, const json& vars) {
    return chat::render(tmpl, messages, vars);
  };
}

std::optional<ApiError> Context::check_model(const std::string& requested) const {
  if (requested.empty() || requested == model_name || requested == backend.info().fingerprint)
    return std::nullopt;
  return ApiError{
      404,
      fmt::format("model '{}' is not served here; this server serves '{}'", requested, model_name),
      "model"};
}

namespace {

// The route label of the request being served on this thread, for the request counter.
thread_local std::string t_route;

bool key_matches(const std::string& header, const std::string& key) {
  const std::string want = "Bearer " + key;
  // Constant time in the key's length: no early exit on the first differing byte.
  unsigned diff = header.size() != want.size();
  for (size_t i = 0; i < want.size(); ++i)
    diff |= unsigned(uint8_t(want[i]) ^ uint8_t(i < header.size() ? header[i] : 0));
  return diff == 0;
}

// Routes every client may call without the API key: liveness, and the dashboard's page shell
// (its data routes need the key).
bool public_path(const std::string& path) { return path == "/health" || path == "/"; }

void fill(httplib::Response& res, const Reply& r) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_content(r.body, r.content_type);
}

}  // namespace

struct Server::Impl {
  Impl(Backend& b, store::Store* s, ServerOptions o)
      : ctx(b, dynamic_cast<backend::EmbeddedBackend*>(&b), s, std::move(o)) {}
  Context ctx;
  httplib::Server http;
  std::vector<Route> routes;
  std::unique_ptr<TournamentJobs> tournaments;  // with a store; destroyed before the context

  void add(const Route& r);
  Reply health();
  Reply metrics();
  void configure();
};

void Server::Impl::add(const Route& route) {
  auto handler = [this, route](const httplib::Request& req, httplib::Response& res) {
    const auto t0 = Clock::now();
    t_route = route.pattern;
    HttpRequest h{req.method, req.path, req.body, {}, {}};
    for (const auto& [k, v] : req.params) h.query.emplace(k, v);
    for (size_t i = 1; i < req.matches.size(); ++i) h.matches.push_back(req.matches[i].str());
    Reply r;
    try {
      r = route.handler(h);
    } catch (const std::exception& e) {
      r = error_reply({500, fmt::format("internal error: {}", e.what()), ""});
    }
    if (r.status == 503 && ctx.queue.depth() >= ctx.queue.capacity())
      r.headers.emplace_back("Retry-After", std::to_string(ctx.queue.retry_after()));
    fill(res, r);
    ctx.metrics.latency(route.pattern, std::chrono::duration<double>(Clock::now() - t0).count());
  };
  if (route.method == "GET")
    http.Get(route.pattern, handler);
  else
    http.Post(route.pattern, handler);
  routes.push_back(route);
}

Reply Server::Impl::health() {
  return json_reply({{"status", "ok"},
                     {"model", ctx.model_name},
                     {"fingerprint", ctx.backend.info().fingerprint},
                     {"queue_depth", ctx.queue.depth()},
                     {"queue_capacity", ctx.queue.capacity()},
                     {"store", ctx.store ? nlohmann::ordered_json(ctx.store->path())
                                         : nlohmann::ordered_json(nullptr)}});
}

Reply Server::Impl::metrics() {
  return Reply{
      200,
      ctx.metrics.render({ctx.queue.depth(), ctx.queue.capacity(), ctx.queue.busy_seconds()}),
      "text/plain; version=0.0.4; charset=utf-8",
      {}};
}

void Server::Impl::configure() {
  const ServerOptions& o = ctx.options;
  const size_t threads = size_t(std::max(2, o.http_threads));
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(o.max_body_bytes);
  http.set_read_timeout(o.read_timeout_s, 0);
  http.set_write_timeout(o.write_timeout_s, 0);
  http.set_keep_alive_timeout(o.keep_alive_timeout_s);
  http.set_keep_alive_max_count(1000);  // requests per connection before it is closed

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_route.clear();
    if (ctx.options.api_key.empty() || public_path(req.path))
      return httplib::Server::HandlerResponse::Unhandled;
    if (key_matches(req.get_header_value("Authorization"), ctx.options.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    t_route = "unauthorized";
    fill(res, error_reply({401,
                           req.has_header("Authorization")
                               ? "the API key is wrong (Authorization: Bearer <key>)"
                               : "this server needs an API key: send Authorization: Bearer <key>",
                           ""}));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Errors raised by the HTTP layer itself (no route, body too large, bad request line) get
  // the same JSON error body as the routes' own.
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string msg;
        switch (res.status) {
          case 404:
            // A path served under another method: 405 naming the one to use.
            for (const Route& r : routes)
              if (r.method != req.method && std::regex_match(req.path, std::regex(r.pattern))) {
                res.status = 405;
                res.set_header("Allow", r.method);
                msg = fmt::format("{} {} is not served; use {}", req.method, req.path, r.method);
              }
            if (msg.empty()) msg = fmt::format("no route {} {}", req.method, req.path);
            break;
          case 413:
            msg = fmt::format("the request body is larger than this server's limit of {} bytes",
                              ctx.options.max_body_bytes);
            break;
          case 414:
            msg = "the request URI is too long";
            break;
          default:
            msg = fmt::format("malformed HTTP request (status {})", res.status);
        }
        fill(res, error_reply({res.status, msg, res.status == 413 ? "body" : ""}));
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        fill(res, error_reply({500, "internal error: " + what, ""}));
      });
  // Counted before the response is written (the logger runs after it), so a client that has
  // its answer sees it in /metrics.
  http.set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    ctx.metrics.request(t_route.empty() ? "other" : t_route, res.status);
    t_route.clear();
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (ctx.options.log_requests)
      std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
  });

  add({"GET", "/health", [this](const HttpRequest&) { return health(); }});
  add({"GET", "/metrics", [this](const HttpRequest&) { return metrics(); }});
  for (const Route& r : openai_routes(ctx)) add(r);
  for (const Route& r : judge_routes(ctx)) add(r);
  for (const Route& r : dashboard_routes(ctx)) add(r);
  for (const Route& r : tournament_routes(ctx)) add(r);
}

Server::Server(Backend& backend, store::Store* store, ServerOptions options)
    : impl_(std::make_unique<Impl>(backend, store, std::move(options))) {
  impl_->configure();
  if (impl_->ctx.store) {
    impl_->tournaments = std::make_unique<TournamentJobs>(impl_->ctx);
    impl_->ctx.tournaments = impl_->tournaments.get();
  }
}

Server::~Server() { stop(); }

Context& Server::context() { return impl_->ctx; }

Result<int> Server::bind() {
  const ServerOptions& o = impl_->ctx.options;
  int port = o.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
    if (port <= 0)
      return Error{fmt::format("cannot bind {} to any port", o.host), StatusCode::kUnavailable};
  } else if (!impl_->http.bind_to_port(o.host, port)) {
    return Error{
        fmt::format("cannot bind {}:{} (in use, or not an address of this machine)", o.host, port),
        StatusCode::kUnavailable};
  }
  return port;
}

Status Server::listen() {
  if (!impl_->http.listen_after_bind())
    return Error{"the server stopped with an error", StatusCode::kIOError};
  return Status::Ok();
}

void Server::stop() {
  if (impl_->tournaments) impl_->tournaments->stop();  // after the running match
  if (impl_->http.is_running()) impl_->http.stop();
}

namespace {
// SIGINT/SIGTERM write one byte to this pipe (async-signal-safe); a watcher thread reads it and
// stops the server. Works whichever thread the signal lands on (the engine's workers exist
// before the server does, so a signal mask could not cover them).
int g_signal_pipe[2] = {-1, -1};
void on_signal(int sig) {
  const char c = char(sig);
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &c, 1);
}
}  // namespace

Status serve(Backend& backend, store::Store* store, const ServerOptions& options) {
  if (::pipe(g_signal_pipe) != 0)
    return Error{"cannot create the signal pipe", StatusCode::kIOError};
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  std::signal(SIGPIPE, SIG_IGN);

  Status st = Status::Ok();
  {
    Server server(backend, store, options);
    auto port = server.bind();
    if (!port.ok()) {
      st = port.status();
    } else {
      std::fprintf(stderr, "gavel serve: listening on http://%s:%d (model %s, store %s%s)\n",
                   options.host.c_str(), *port, server.context().model_name.c_str(),
                   store ? store->path().c_str() : "none",
                   options.api_key.empty() ? "" : ", API key required");
      std::fflush(stderr);
      std::thread watcher([&] {
        char c = 0;
        if (::read(g_signal_pipe[0], &c, 1) == 1 && c != 0) {
          std::fprintf(stderr, "gavel serve: %s, stopping\n", c == SIGINT ? "SIGINT" : "SIGTERM");
          server.stop();
        }
      });
      st = server.listen();
      const char done = 0;  // wakes the watcher when listen() ended otherwise
      [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &done, 1);
      watcher.join();
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  ::close(g_signal_pipe[0]);
  ::close(g_signal_pipe[1]);
  return st;
}

}  // namespace gavel::server
