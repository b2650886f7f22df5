// The server over HTTP (cpp-httplib client against an in-process server on a free port, real
// SmolLM2-135M): limits, authentication, errors as JSON naming the field, a slow client does not
// stall others, a full queue answers 503 with Retry-After, a stuck request 504, metrics count it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "backend/embedded_backend.h"
#include "server/server.h"

using namespace gavel;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string smollm2() {
  const char* m = std::getenv("GAVEL_MODELS");
  const std::filesystem::path dir =
      m ? m : std::filesystem::path(std::getenv("HOME")) / ".cache/gavel/models";
  return (dir / "smollm2-135m-instruct-q4_1.gguf").string();
}

backend::EmbeddedBackend* shared_backend() {
  static std::unique_ptr<backend::EmbeddedBackend> b = [] {
    auto r = backend::EmbeddedBackend::open(smollm2(), {1, 1024, 2});
    if (!r.ok()) {
      ADD_FAILURE() << r.message() << " (run scripts/setup.sh)";
      return std::unique_ptr<backend::EmbeddedBackend>();
    }
    return std::move(r).value();
  }();
  return b.get();
}

// A server on a free loopback port, serving from a background thread until destroyed.
struct Running {
  explicit Running(server::ServerOptions o) {
    o.port = 0;
    o.log_requests = false;
    o.model_name = "smollm2";
    srv = std::make_unique<server::Server>(*shared_backend(), nullptr, o);
    auto p = srv->bind();
    EXPECT_TRUE(p.ok()) << p.message();
    port = p.ok() ? *p : 0;
    thread = std::thread([this] { (void)srv->listen(); });
    for (int i = 0; i < 200 && !client().Get("/health"); ++i) std::this_thread::sleep_for(5ms);
  }
  ~Running() {
    srv->stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c;
  }
  std::unique_ptr<server::Server> srv;
  std::thread thread;
  int port = 0;
};

json body(const httplib::Result& r) { return json::parse(r->body, nullptr, false); }

}  // namespace

TEST(ServerHttp, HealthModelsAndJsonErrors) {
  ASSERT_TRUE(shared_backend());
  server::ServerOptions o;
  o.max_body_bytes = 4096;
  Running s(o);
  auto c = s.client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(body(h)["status"], "ok");
  auto m = c.Get("/v1/models");
  ASSERT_TRUE(m);
  EXPECT_EQ(body(m)["data"][0]["id"], "smollm2");

  auto nf = c.Get("/v1/nothing");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_NE(body(nf)["error"]["message"].get<std::string>().find("no route GET /v1/nothing"),
            std::string::npos);

  auto method = c.Get("/v1/completions");
  ASSERT_TRUE(method);
  EXPECT_EQ(method->status, 405);
  EXPECT_EQ(method->get_header_value("Allow"), "POST");
  EXPECT_EQ(body(method)["error"]["message"], "GET /v1/completions is not served; use POST");

  auto big = c.Post("/v1/completions", std::string(5000, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(body(big)["error"]["param"], "body");
  EXPECT_NE(body(big)["error"]["message"].get<std::string>().find("4096 bytes"), std::string::npos);

  auto bad =
      c.Post("/v1/completions", R"({"prompt": "hi", "max_tokens": "3"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(body(bad)["error"]["param"], "max_tokens");

  auto wrong_model =
      c.Post("/v1/completions", R"({"model": "gpt-4", "prompt": "hi"})", "application/json");
  ASSERT_TRUE(wrong_model);
  EXPECT_EQ(wrong_model->status, 404);
  EXPECT_EQ(body(wrong_model)["error"]["param"], "model");

  auto ctx =
      c.Post("/v1/completions", R"({"prompt": "hi", "max_tokens": 2000})", "application/json");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->status, 400);
  EXPECT_NE(body(ctx)["error"]["message"].get<std::string>().find("context size 1024"),
            std::string::npos);

  auto vocab = c.Post("/v1/completions", R"({"prompt": [1, 99999999], "max_tokens": 1})",
                      "application/json");
  ASSERT_TRUE(vocab);
  EXPECT_EQ(vocab->status, 400);
  EXPECT_EQ(body(vocab)["error"]["param"], "prompt[1]");

  auto ok = c.Post("/v1/completions",
                   R"({"prompt": "The capital of France is", "max_tokens": 3, "temperature": 0,
                       "logprobs": 2})",
                   "application/json");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  const json j = body(ok);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["usage"]["completion_tokens"], 3);
  EXPECT_EQ(j["choices"][0]["logprobs"]["tokens"].size(), 3u);
  EXPECT_EQ(j["choices"][0]["logprobs"]["top_logprobs"][0].size(), 2u);
}

TEST(ServerHttp, ApiKeyIsRequiredExceptForHealth) {
  ASSERT_TRUE(shared_backend());
  server::ServerOptions o;
  o.api_key = "s3cret-key";
  Running s(o);
  auto c = s.client();
  auto none = c.Get("/v1/models");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(body(none)["error"]["type"], "authentication_error");
  auto wrong = c.Get("/v1/models", {{"Authorization", "Bearer s3cret-kez"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto prefix = c.Get("/v1/models", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->status, 401);
  auto right = c.Get("/v1/models", {{"Authorization", "Bearer s3cret-key"}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(ServerHttp, SlowClientDoesNotStallOthers) {
  ASSERT_TRUE(shared_backend());
  server::ServerOptions o;
  o.read_timeout_s = 2;
  Running s(o);
  // A client that sends half a request and then nothing.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(s.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string partial =
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pro";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), 0), ssize_t(partial.size()));
  // Meanwhile others are served at once, a model request included.
  const auto t0 = std::chrono::steady_clock::now();
  auto c = s.client();
  for (int i = 0; i < 5; ++i) {
    auto h = c.Get("/health");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
  }
  auto r = c.Post("/v1/completions", R"({"prompt": "Hi", "max_tokens": 1})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  // The stalled connection is dropped after the read timeout (recv sees EOF or an answer).
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[512];
  const auto t1 = std::chrono::steady_clock::now();
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 5s) << "stalled connection kept open";
  EXPECT_TRUE(n == 0 || (n > 0 && std::string(buf, size_t(n)).find("400") != std::string::npos))
      << n;
  ::close(fd);
}

TEST(ServerHttp, FullQueueIs503WithRetryAfterAndStuckRequestIs504) {
  ASSERT_TRUE(shared_backend());
  server::ServerOptions o;
  o.queue = 2;
  // The full-queue request must be answered before the queued one times out (a loaded machine
  // can take a second), so the timeout leaves room.
  o.request_timeout_s = 3;
  Running s(o);
  // Hold the model thread.
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  auto& q = s.srv->context().queue;
  auto blocker = std::async(std::launch::async, [&] {
    return q.run<int>(
        [gate]() -> server::ApiResult<int> {
          gate.wait();
          return 0;
        },
        30s);
  });
  while (q.depth() < 1) std::this_thread::sleep_for(1ms);
  auto c = s.client();
  const std::string req = R"({"prompt": "Hi", "max_tokens": 1})";
  auto slow = std::async(std::launch::async, [&] {
    return s.client().Post("/v1/completions", req, "application/json");
  });
  while (q.depth() < 2) std::this_thread::sleep_for(1ms);
  auto full = c.Post("/v1/completions", req, "application/json");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 503);
  EXPECT_TRUE(full->has_header("Retry-After"));
  EXPECT_GE(std::stoi(full->get_header_value("Retry-After")), 1);
  EXPECT_EQ(body(full)["error"]["type"], "server_overloaded");
  auto timed_out = slow.get();
  ASSERT_TRUE(timed_out);
  EXPECT_EQ(timed_out->status, 504);
  EXPECT_EQ(body(timed_out)["error"]["type"], "timeout_error");
  // Cheap routes never wait for the model.
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(body(h)["queue_depth"], 2);
  release.set_value();
  EXPECT_TRUE(blocker.get().ok());
  while (q.depth() > 0) std::this_thread::sleep_for(1ms);
  auto after = c.Post("/v1/completions", req, "application/json");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);

  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  for (const char* line : {"gavel_requests_total{route=\"/v1/completions\",status=\"503\"} 1",
                           "gavel_requests_total{route=\"/v1/completions\",status=\"504\"} 1",
                           "gavel_requests_total{route=\"/v1/completions\",status=\"200\"} 1",
                           "gavel_requests_total{route=\"/health\",status=\"200\"}",
                           "gavel_queue_depth 0", "gavel_generated_tokens_total 1"})
    EXPECT_NE(m->body.find(line), std::string::npos) << line << "\n" << m->body;
}
