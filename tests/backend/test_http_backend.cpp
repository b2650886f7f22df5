// HTTP backends without a real engine: URL and Retry-After parsing; each engine adapter against
// responses recorded from the documented formats (../shared/docs/http-backends.md), named
// "Recorded*"; the transport pool (retries, Retry-After, deadlines, eviction and probing,
// per-endpoint concurrency, headers) against in-process HTTP servers.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <thread>

#include "../tiny_models.h"
#include "backend/http_backend.h"
#include "backend/http_client.h"
#include "backend/http_engine.h"
#include "gguf/gguf.h"

namespace {

using gavel::GenerateParams;
using gavel::GenerateResult;
using gavel::Result;
using gavel::Tokenizer;
using Json = nlohmann::json;
namespace http = gavel::backend::http;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// --- parsing helpers ----------------------------------------------------------------------

TEST(HttpUrl, ParsesSchemeHostPortPrefix) {
  auto u = http::parse_url("http://127.0.0.1:8080");
  ASSERT_TRUE(u.ok()) << u.message();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->prefix, "");
  u = http::parse_url("HTTPS://judge.example.com/proxy/v/");
  ASSERT_TRUE(u.ok()) << u.message();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->prefix, "/proxy/v");
  u = http::parse_url("http://[::1]:9000/");
  ASSERT_TRUE(u.ok()) << u.message();
  EXPECT_EQ(u->host, "[::1]");
  for (const char* bad : {"127.0.0.1:8080", "ftp://x", "http://", "http://h:0", "http://h:70000",
                          "http://h:80?x=1", "http://user@h"}) {
    auto r = http::parse_url(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.message().find(bad), std::string::npos) << r.message();
    }
  }
}

TEST(HttpRetryAfter, SecondsMillisecondsAndDates) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // 1994-11-06 08:49:37 GMT
  EXPECT_EQ(http::parse_retry_after("3", "", now), 3.0);
  EXPECT_EQ(http::parse_retry_after("3", "250", now), 0.25);  // retry-after-ms wins
  EXPECT_EQ(http::parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", "", now), 10.0);
  EXPECT_EQ(http::parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", "", now), 0.0);
  EXPECT_FALSE(http::parse_retry_after("", "", now));
  EXPECT_FALSE(http::parse_retry_after("soon", "", now));
  EXPECT_FALSE(http::parse_retry_after("-1", "", now));
  EXPECT_TRUE(http::retryable_status(429));
  EXPECT_TRUE(http::retryable_status(503));
  EXPECT_TRUE(http::retryable_status(408));
  EXPECT_FALSE(http::retryable_status(400));
  EXPECT_FALSE(http::retryable_status(401));
  EXPECT_FALSE(http::retryable_status(404));
  EXPECT_FALSE(http::retryable_status(422));
}

TEST(HttpEngineDetail, FloorsTopAndBounds) {
  using http::detail::read_logprob;
  EXPECT_EQ(read_logprob(-0.5), -0.5);
  EXPECT_TRUE(std::isinf(read_logprob(-9999.0)));
  EXPECT_TRUE(std::isinf(read_logprob(-3.4e38)));
  EXPECT_TRUE(std::isinf(read_logprob(nullptr)));
  EXPECT_EQ(read_logprob(1e-7), 0.0);
  auto top =
      http::detail::make_top({{5, "", -2.0}, {3, "", -1.0}, {5, "", -2.0}, {7, "", -3.0}}, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].id, 3);
  EXPECT_EQ(top[1].id, 5);
  auto w = http::detail::pick({7, 9}, {{3, "", -1.0}, {7, "", -3.0}});
  EXPECT_TRUE(w[0].exact);
  EXPECT_EQ(w[0].logprob, -3.0);
  EXPECT_FALSE(w[1].exact);
  EXPECT_EQ(w[1].logprob, -3.0);  // bounded by the smallest returned
  auto f = http::detail::field(Json{{"a", {{"b", Json::array({1, 2})}}}}, "a/b/1", "test");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, 2);
  f = http::detail::field(Json{{"a", 1}}, "a/b", "test");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.message().find("'a/b'"), std::string::npos) << f.message();
}

// --- adapters against recorded responses ---------------------------------------------------

// Answers each "METHOD /path" from a queue of recorded bodies and keeps what was sent.
class Scripted : public http::Transport {
 public:
  void on(const std::string& key, Json body, int status = 200) {
    replies_[key].push_back({status, std::move(body)});
  }
  Result<http::Reply> send(const std::string& method, const std::string& path, const Json* body,
                           bool client_errors) override {
    const std::string key = method + " " + path;
    sent.push_back({key, body ? *body : Json()});
    auto& q = replies_[key];
    if (q.empty()) {
      if (client_errors) return http::Reply{404, nullptr};
      return gavel::Error{"no recorded reply for " + key};
    }
    auto [status, b] = q.front();
    q.pop_front();
    if (status >= 400 && !client_errors) return gavel::Error{"HTTP " + std::to_string(status)};
    return http::Reply{status, std::move(b)};
  }
  std::vector<std::pair<std::string, Json>> sent;

 private:
  std::map<std::string, std::deque<std::pair<int, Json>>> replies_;
};

struct Vocab {
  std::unique_ptr<gavel::gguf::File> file;
  std::unique_ptr<Tokenizer> tok;
  std::unique_ptr<http::VocabIndex> index;
};

Vocab& vocab() {
  static Vocab v = [] {
    Vocab out;
    const std::string path = gavel::testing::tiny_dense("qwen2", "f32");
    if (path.empty()) return out;
    auto f = gavel::gguf::File::open(path);
    if (!f.ok()) return out;
    auto t = Tokenizer::from_gguf(**f);
    if (!t.ok()) return out;
    out.file = std::move(f).value();
    out.tok = std::make_unique<Tokenizer>(std::move(t).value());
    out.index = std::make_unique<http::VocabIndex>(*out.tok);
    return out;
  }();
  return v;
}

std::unique_ptr<http::Engine> engine(http::EngineKind k, http::EngineOptions o = {}) {
  Vocab& v = vocab();
  if (!v.tok) {
    ADD_FAILURE() << "cannot load the tiny qwen2 vocabulary";
    return nullptr;
  }
  return http::make_engine(k, *v.tok, *v.index, std::move(o));
}

int32_t id_of(const std::string& text) {
  auto ids = vocab().tok->encode(text, false, false);
  EXPECT_EQ(ids.size(), 1u) << text;
  return ids.empty() ? -1 : ids[0];
}

Json llama_alt(int32_t id, double lp) {
  return {{"id", id}, {"token", "t"}, {"bytes", {116}}, {"logprob", lp}};
}

TEST(RecordedLlamaCpp, NextTokenFromTopN) {
  auto e = engine(http::EngineKind::kLlamaCpp);
  ASSERT_TRUE(e);
  const int32_t a = id_of("A"), b = id_of("B");
  Scripted t;
  t.on("POST /completion",
       {{"content", "A"},
        {"tokens_evaluated", 3},
        {"stop_type", "limit"},
        {"completion_probabilities",
         {{{"id", a},
           {"logprob", -0.1},
           {"top_logprobs", {llama_alt(a, -0.1), llama_alt(b, -2.5), llama_alt(7, -3.4e38)}}}}}});
  http::NextTokenQuery q{{1, 2, 3}, "", {a, b}, 2};
  auto r = e->next_token(t, q);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->wanted[0].logprob, -0.1);
  EXPECT_EQ(r->wanted[1].logprob, -2.5);
  EXPECT_TRUE(r->wanted[0].exact && r->wanted[1].exact);
  ASSERT_EQ(r->top.size(), 2u);
  EXPECT_EQ(r->top[0].id, a);
  EXPECT_EQ(r->prompt_tokens, 3);
  ASSERT_EQ(t.sent.size(), 1u);
  const Json& req = t.sent[0].second;
  EXPECT_EQ(req["prompt"], Json({1, 2, 3}));  // token ids, verbatim
  EXPECT_EQ(req["n_predict"], 1);
  EXPECT_EQ(req["n_probs"], 100);
  EXPECT_EQ(req["cache_prompt"], false);
  EXPECT_EQ(req["post_sampling_probs"], false);
}

TEST(RecordedLlamaCpp, TokenPastTopNIsFetchedFromTheWholeVocabulary) {
  auto e = engine(http::EngineKind::kLlamaCpp, {.model = "", .top_n = 2});
  ASSERT_TRUE(e);
  const int32_t a = id_of("A"), b = id_of("B");
  Scripted t;
  t.on("POST /completion", {{"completion_probabilities",
                             {{{"top_logprobs", {llama_alt(a, -0.1), llama_alt(9, -2.5)}}}}}});
  t.on("POST /completion",
       {{"completion_probabilities",
         {{{"top_logprobs", {llama_alt(a, -0.1), llama_alt(9, -2.5), llama_alt(b, -11.0)}}}}}});
  auto r = e->next_token(t, {{4, 5}, "", {a, b}, 0});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->requests, 2);
  EXPECT_TRUE(r->wanted[1].exact);
  EXPECT_EQ(r->wanted[1].logprob, -11.0);
  ASSERT_EQ(t.sent.size(), 2u);
  EXPECT_EQ(t.sent[1].second["n_probs"], vocab().tok->n_vocab());
}

TEST(RecordedLlamaCpp, OldProbabilityFormatIsRefused) {
  auto e = engine(http::EngineKind::kLlamaCpp);
  ASSERT_TRUE(e);
  Scripted t;
  t.on("POST /completion",
       {{"completion_probabilities",
         {{{"content", "A"}, {"probs", {{{"tok_str", "A"}, {"prob", 1.0}}}}}}}});
  auto r = e->next_token(t, {{1}, "", {id_of("A")}, 0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("older"), std::string::npos) << r.message();
}

TEST(RecordedLlamaCpp, GenerateFinishAndEndToken) {
  auto e = engine(http::EngineKind::kLlamaCpp);
  ASSERT_TRUE(e);
  const int32_t eos = vocab().tok->eos();
  Scripted t;
  t.on("POST /completion", {{"content", "Hi"}, {"tokens", {10, 11, eos}}, {"stop_type", "eos"}});
  t.on("POST /completion", {{"content", "Hi"}, {"tokens", {10, 11}}, {"stop_type", "limit"}});
  t.on("POST /completion", {{"content", "Hi"}, {"tokens", {10, 11}}, {"stop_type", "word"}});
  GenerateParams p;
  p.max_tokens = 2;
  p.seed = (uint64_t(1) << 40) + 7;
  auto g = e->generate(t, {1, 2}, "", p);
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->finish, GenerateResult::Finish::kEos);
  EXPECT_EQ(g->tokens, (std::vector<int32_t>{10, 11}));
  EXPECT_EQ(g->text, "Hi");
  EXPECT_EQ(e->generate(t, {1}, "", p)->finish, GenerateResult::Finish::kLength);
  EXPECT_EQ(e->generate(t, {1}, "", p)->finish, GenerateResult::Finish::kStop);
  const Json& req = t.sent[0].second;
  EXPECT_EQ(req["n_predict"], 2);
  EXPECT_EQ(req["seed"], 7u);  // llama.cpp seeds are 32-bit
  EXPECT_EQ(req["repeat_penalty"], 1.0);
  EXPECT_EQ(req["min_p"], 0.0);
  EXPECT_EQ(req["top_k"], 0);
}

TEST(RecordedVllm, TokenIdKeysAndTeacherForcing) {
  auto e = engine(http::EngineKind::kVllm);
  ASSERT_TRUE(e);
  const int32_t a = id_of("A"), b = id_of("B");
  Scripted t;
  // A server without logprob_token_ids: the rare token is not in its answer.
  t.on("POST /v1/completions",
       {{"choices",
         {{{"index", 0},
           {"text", "A"},
           {"logprobs", {{"top_logprobs", {{{"token_id:" + std::to_string(a), -0.2}}}}}}}}}});
  ASSERT_TRUE(e->probe_features(t, {1, 2}).ok());
  EXPECT_EQ(e->logprob_mode(), "raw-prompt-logprobs");
  t.on("POST /v1/completions",
       {{"choices",
         {{{"index", 0},
           {"text", "A"},
           {"logprobs",
            {{"tokens", {"token_id:" + std::to_string(a)}},
             {"top_logprobs",
              {{{"token_id:" + std::to_string(a), -0.2}, {"token_id:7", -9999.0}}}}}}}}},
        {"usage", {{"prompt_tokens", 2}}}});
  // Teacher forcing: prompt + B, its prompt log-probability (keyed by the id as a string).
  t.on("POST /v1/completions",
       {{"choices",
         {{{"index", 0},
           {"text", "x"},
           {"prompt_logprobs",
            {nullptr,
             {{"2", {{"logprob", -1.0}}}},
             {{std::to_string(b), {{"logprob", -7.25}, {"rank", 40}}}}}}}}}});
  auto r = e->next_token(t, {{1, 2}, "", {a, b}, 1});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->wanted[0].logprob, -0.2);
  EXPECT_EQ(r->wanted[1].logprob, -7.25);
  EXPECT_TRUE(r->wanted[1].exact);
  EXPECT_EQ(r->requests, 2);
  ASSERT_EQ(r->top.size(), 1u);
  EXPECT_EQ(r->top[0].id, a);
  EXPECT_EQ(r->prompt_tokens, 2);
  const Json& first = t.sent[1].second;
  EXPECT_EQ(first["prompt"], Json({1, 2}));
  EXPECT_EQ(first["add_special_tokens"], false);
  EXPECT_EQ(first["return_tokens_as_token_ids"], true);
  EXPECT_EQ(first["top_k"], -1);
  EXPECT_EQ(first["repetition_penalty"], 1.0);
  const Json& forced = t.sent[2].second;
  EXPECT_EQ(forced["prompt"], Json::array({Json({1, 2, b})}));
  EXPECT_EQ(forced["prompt_logprobs"], 0);
}

TEST(RecordedVllm, LogprobTokenIdsWhenTheServerHasThem) {
  auto e = engine(http::EngineKind::kVllm);
  ASSERT_TRUE(e);
  const int32_t rare = vocab().tok->n_vocab() - 1, a = id_of("A"), b = id_of("B");
  Scripted t;
  t.on("POST /v1/completions",
       {{"choices",
         {{{"logprobs",
            {{"top_logprobs",
              {{{"token_id:5", -0.1}, {"token_id:" + std::to_string(rare), -20.0}}}}}}}}}});
  ASSERT_TRUE(e->probe_features(t, {1}).ok());
  EXPECT_EQ(e->logprob_mode(), "raw-token-ids");
  t.on("POST /v1/completions", {{"choices",
                                 {{{"logprobs",
                                    {{"top_logprobs",
                                      {{{"token_id:5", -0.1},
                                        {"token_id:" + std::to_string(a), -3.0},
                                        {"token_id:" + std::to_string(b), -4.0}}}}}}}}}});
  auto r = e->next_token(t, {{1}, "", {a, b}, 0});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->requests, 1);
  EXPECT_EQ(r->wanted[1].logprob, -4.0);
  EXPECT_EQ(t.sent[1].second["logprob_token_ids"], Json({a, b}));
  EXPECT_EQ(t.sent[1].second["logprobs"], 2);
  // Over --max-logprobs: refused before sending.
  EXPECT_FALSE(e->next_token(t, {{1}, "", {a}, 21}).ok());
}

TEST(RecordedVllm, GenerateStopReasons) {
  auto e = engine(http::EngineKind::kVllm);
  ASSERT_TRUE(e);
  Scripted t;
  t.on("POST /v1/completions", {{"choices",
                                 {{{"text", "ok"},
                                   {"finish_reason", "stop"},
                                   {"stop_reason", nullptr},
                                   {"token_ids", {3, 4}}}}}});
  t.on("POST /v1/completions", {{"choices",
                                 {{{"text", "ok"},
                                   {"finish_reason", "stop"},
                                   {"stop_reason", "\n\n"},
                                   {"token_ids", {3, 4}}}}}});
  t.on("POST /v1/completions", {{"choices",
                                 {{{"text", "ok"},
                                   {"finish_reason", "length"},
                                   {"stop_reason", nullptr},
                                   {"token_ids", {3, 4}}}}}});
  GenerateParams p;
  p.stop = {"\n\n"};
  EXPECT_EQ(e->generate(t, {1}, "", p)->finish, GenerateResult::Finish::kEos);
  EXPECT_EQ(e->generate(t, {1}, "", p)->finish, GenerateResult::Finish::kStop);
  auto g = e->generate(t, {1}, "", p);
  EXPECT_EQ(g->finish, GenerateResult::Finish::kLength);
  EXPECT_EQ(g->tokens, (std::vector<int32_t>{3, 4}));
  EXPECT_EQ(t.sent[0].second["stop"], Json({"\n\n"}));
  EXPECT_EQ(t.sent[0].second["return_token_ids"], true);
}

TEST(RecordedSglang, TriplesAndTokenIdLogprobs) {
  auto e = engine(http::EngineKind::kSglang);
  ASSERT_TRUE(e);
  const int32_t a = id_of("A"), b = id_of("B");
  Scripted t;
  t.on("POST /generate",
       {{"text", "A"},
        {"meta_info",
         {{"prompt_tokens", 3},
          {"finish_reason", {{"type", "length"}, {"length", 1}}},
          {"output_top_logprobs", {{{-0.1, a, nullptr}, {-2.0, 9, nullptr}}}},
          {"output_token_ids_logprobs", {{{-0.1, a, nullptr}, {-3.4e38, b, nullptr}}}}}}});
  auto r = e->next_token(t, {{1, 2, 3}, "", {a, b}, 2});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->wanted[0].logprob, -0.1);
  EXPECT_TRUE(std::isinf(r->wanted[1].logprob));  // finfo.min clamp = probability 0
  EXPECT_TRUE(r->wanted[1].exact);
  EXPECT_EQ(r->top.size(), 2u);
  EXPECT_EQ(r->prompt_tokens, 3);
  const Json& req = t.sent[0].second;
  EXPECT_EQ(req["input_ids"], Json({1, 2, 3}));
  EXPECT_EQ(req["token_ids_logprob"], Json({a, b}));
  EXPECT_EQ(req["sampling_params"]["max_new_tokens"], 1);
  // A server that ignores token_ids_logprob is an error, not a silent bound.
  t.on("POST /generate", {{"meta_info",
                           {{"output_top_logprobs", {{{-0.1, a, nullptr}}}},
                            {"output_token_ids_logprobs", {{{-0.1, a, nullptr}}}}}}});
  EXPECT_FALSE(e->next_token(t, {{1}, "", {a, b}, 0}).ok());
  t.on("POST /generate",
       {{"text", "ok"},
        {"output_ids", {5}},
        {"meta_info", {{"finish_reason", {{"type", "stop"}, {"matched", "##"}}}}}});
  GenerateParams p;
  p.stop = {"##"};
  EXPECT_EQ(e->generate(t, {1}, "", p)->finish, GenerateResult::Finish::kStop);
}

TEST(RecordedOllama, TopTwentyByTextIsABoundWhenMissing) {
  auto e = engine(http::EngineKind::kOllama, {.model = "judge"});
  ASSERT_TRUE(e);
  const int32_t a = id_of("A"), b = id_of("B");
  Scripted t;
  t.on("POST /api/generate", {{"response", "A"},
                              {"done_reason", "length"},
                              {"prompt_eval_count", 12},
                              {"logprobs",
                               {{{"token", "A"},
                                 {"logprob", -0.5},
                                 {"top_logprobs",
                                  {{{"token", "A"}, {"logprob", -0.5}, {"bytes", {65}}},
                                   {{"token", "C"}, {"logprob", -4.0}, {"bytes", {67}}}}}}}}});
  auto r = e->next_token(t, {{1}, "<prompt>", {a, b}, 1});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->wanted[0].exact);
  EXPECT_EQ(r->wanted[0].logprob, -0.5);
  EXPECT_FALSE(r->wanted[1].exact);
  EXPECT_EQ(r->wanted[1].logprob, -4.0);
  EXPECT_EQ(r->top[0].id, a);  // text mapped back to the vocabulary
  EXPECT_EQ(r->prompt_tokens, 12);
  const Json& req = t.sent[0].second;
  EXPECT_EQ(req["prompt"], "<prompt>");
  EXPECT_EQ(req["raw"], true);
  EXPECT_EQ(req["stream"], false);
  EXPECT_EQ(req["top_logprobs"], 20);
  EXPECT_EQ(req["options"]["num_predict"], 1);
  EXPECT_FALSE(e->next_token(t, {{1}, "x", {a}, 21}).ok());
}

TEST(RecordedOpenAI, LegacyTextKeysAndChatStyleLayout) {
  auto e = engine(http::EngineKind::kOpenAI, {.model = "m", .top_n = 5});
  ASSERT_TRUE(e);
  const int32_t a = id_of("A"), b = id_of("B");
  Scripted t;
  t.on("POST /v1/completions",
       {{"choices",
         {{{"text", "A"}, {"logprobs", {{"top_logprobs", {{{"A", -0.3}, {"B", -1.5}}}}}}}}},
        {"usage", {{"prompt_tokens", 9}}}});
  auto r = e->next_token(t, {{1}, "p", {a, b}, 0});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->wanted[1].logprob, -1.5);
  EXPECT_TRUE(r->wanted[1].exact);
  EXPECT_EQ(t.sent[0].second["prompt"], "p");
  EXPECT_EQ(t.sent[0].second["logprobs"], 5);
  // llama.cpp's /v1/completions answers in the chat layout.
  t.on("POST /v1/completions",
       {{"choices",
         {{{"text", "A"},
           {"logprobs",
            {{"content",
              {{{"id", a},
                {"token", "A"},
                {"logprob", -0.3},
                {"top_logprobs",
                 {{{"id", a}, {"token", "A"}, {"bytes", {65}}, {"logprob", -0.3}}}}}}}}}}}}});
  r = e->next_token(t, {{1}, "p", {a, b}, 0});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->wanted[0].exact);
  EXPECT_FALSE(r->wanted[1].exact);
}

TEST(DetectKind, FromEachServersOwnRoutes) {
  {
    Scripted t;
    t.on("GET /props", {{"default_generation_settings", Json::object()}, {"total_slots", 1}});
    EXPECT_EQ(*http::detect_kind(t), http::EngineKind::kLlamaCpp);
  }
  {
    Scripted t;
    t.on("GET /get_model_info", {{"model_path", "Qwen/x"}});
    EXPECT_EQ(*http::detect_kind(t), http::EngineKind::kSglang);
  }
  {
    Scripted t;
    t.on("GET /api/version", {{"version", "0.13.0"}});
    EXPECT_EQ(*http::detect_kind(t), http::EngineKind::kOllama);
  }
  {
    Scripted t;
    t.on("GET /v1/models", {{"data", {{{"id", "m"}, {"owned_by", "vllm"}}}}});
    EXPECT_EQ(*http::detect_kind(t), http::EngineKind::kVllm);
  }
  {
    Scripted t;
    t.on("GET /v1/models", {{"data", {{{"id", "m"}, {"owned_by", "me"}}}}});
    EXPECT_EQ(*http::detect_kind(t), http::EngineKind::kOpenAI);
  }
  Scripted none;
  auto k = http::detect_kind(none);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.message().find("--backend-kind"), std::string::npos) << k.message();
}

TEST(TokenMismatch, NamesTheFirstDifferenceAndADoubledBos) {
  const Tokenizer& tok = *vocab().tok;
  const int32_t bos = tok.bos();
  ASSERT_NE(bos, gavel::kNoToken);
  EXPECT_EQ(gavel::backend::describe_token_mismatch({1, 2, 3}, {1, 2, 3}, tok), "");
  std::string m = gavel::backend::describe_token_mismatch({1, 2, 3}, {1, 5, 3}, tok);
  EXPECT_NE(m.find("at token 1"), std::string::npos) << m;
  EXPECT_NE(m.find("gavel has 2"), std::string::npos) << m;
  EXPECT_NE(m.find("the server 5"), std::string::npos) << m;
  m = gavel::backend::describe_token_mismatch({bos, 7}, {bos, bos, 7}, tok);
  EXPECT_NE(m.find("doubled BOS"), std::string::npos) << m;
  m = gavel::backend::describe_token_mismatch({7}, {bos, 7}, tok);
  EXPECT_NE(m.find("adds a BOS"), std::string::npos) << m;
  m = gavel::backend::describe_token_mismatch({1, 2}, {1, 2, 3}, tok);
  EXPECT_NE(m.find("(end)"), std::string::npos) << m;
}

// --- the pool against in-process servers ----------------------------------------------------

class Server {
 public:
  Server() {
    port_ = srv_.bind_to_any_port("127.0.0.1");
    th_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Server() { stop(); }
  void stop() {
    srv_.stop();
    if (th_.joinable()) th_.join();
  }
  httplib::Server& srv() { return srv_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server srv_;
  std::thread th_;
  int port_ = 0;
};

http::PoolOptions fast_pool(std::vector<std::string> urls) {
  http::PoolOptions o;
  o.urls = std::move(urls);
  o.backoff_base_s = 0.01;
  o.backoff_cap_s = 0.05;
  o.probe_interval_s = 0.05;
  o.down_timeout_s = 1;
  o.timeout_s = 5;
  o.jitter_seed = 1;
  return o;
}

TEST(HttpPool, RetriesServerErrorsAndBadBodiesThenSucceeds) {
  Server s;
  std::atomic<int> n{0};
  s.srv().Post("/x", [&](const httplib::Request&, httplib::Response& res) {
    const int k = ++n;
    if (k == 1)
      res.status = 500, res.set_content("{\"error\":{\"message\":\"boom\"}}", "application/json");
    else if (k == 2)
      res.set_content("{not json", "application/json");
    else
      res.set_content("{\"ok\":1}", "application/json");
  });
  auto p = http::Pool::open(fast_pool({s.url()}));
  ASSERT_TRUE(p.ok()) << p.message();
  http::PoolTransport t(**p);
  auto r = t.post("/x", Json::object());
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->body["ok"], 1);
  EXPECT_EQ(r->attempts, 3);
  auto st = (*p)->stats();
  EXPECT_EQ(st[0].failed, 2);
  EXPECT_EQ(st[0].retried, 2);
  EXPECT_NE(st[0].last_error.find("not JSON"), std::string::npos) << st[0].last_error;
}

TEST(HttpPool, ClientErrorsAreNotRetried) {
  Server s;
  std::atomic<int> n{0};
  s.srv().Post("/x", [&](const httplib::Request&, httplib::Response& res) {
    ++n;
    res.status = 400;
    res.set_content(
        "{\"error\":{\"message\":\"prompt too long\",\"type\":\"exceed_context_size_error\"}}",
        "application/json");
  });
  auto p = http::Pool::open(fast_pool({s.url()}));
  ASSERT_TRUE(p.ok());
  http::PoolTransport t(**p);
  auto r = t.post("/x", Json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("prompt too long"), std::string::npos) << r.message();
  EXPECT_EQ(n.load(), 1);
  auto as_reply = t.post("/x", Json::object(), /*client_errors=*/true);
  ASSERT_TRUE(as_reply.ok());
  EXPECT_EQ(as_reply->status, 400);
}

TEST(HttpPool, HonoursRetryAfter) {
  Server s;
  std::atomic<int> n{0};
  s.srv().Post("/x", [&](const httplib::Request&, httplib::Response& res) {
    if (++n == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content("{\"error\":\"slow down\"}", "application/json");
    } else {
      res.set_content("{}", "application/json");
    }
  });
  auto p = http::Pool::open(fast_pool({s.url()}));
  ASSERT_TRUE(p.ok());
  http::PoolTransport t(**p);
  const auto t0 = Clock::now();
  auto r = t.post("/x", Json::object());
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_GE(since(t0), 0.95);  // the server's 1 s, not the 10 ms backoff
  EXPECT_EQ(r->attempts, 2);
}

TEST(HttpPool, DeadlineAbandonsASlowAnswer) {
  Server s;
  std::atomic<int> n{0};
  s.srv().Post("/x", [&](const httplib::Request&, httplib::Response& res) {
    if (++n == 1) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    res.set_content("{}", "application/json");
  });
  auto o = fast_pool({s.url()});
  o.timeout_s = 0.3;
  auto p = http::Pool::open(o);
  ASSERT_TRUE(p.ok());
  http::PoolTransport t(**p);
  const auto t0 = Clock::now();
  auto r = t.post("/x", Json::object());
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_LT(since(t0), 1.4);
  EXPECT_EQ(r->attempts, 2);
  EXPECT_NE((*p)->stats()[0].last_error.find("timeout"), std::string::npos);
}

TEST(HttpPool, EvictsAFailingEndpointAndProbesItBackIn) {
  Server good, bad;
  std::atomic<bool> bad_healthy{false};
  std::atomic<int> bad_hits{0};
  good.srv().Post("/x", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"from\":\"good\"}", "application/json");
  });
  bad.srv().Post("/x", [&](const httplib::Request&, httplib::Response& res) {
    ++bad_hits;
    if (bad_healthy)
      res.set_content("{\"from\":\"bad\"}", "application/json");
    else
      res.status = 503;
  });
  bad.srv().Get("/health", [&](const httplib::Request&, httplib::Response& res) {
    res.status = bad_healthy ? 200 : 503;
  });
  auto o = fast_pool({good.url(), bad.url()});
  o.evict_after = 2;
  auto p = http::Pool::open(o);
  ASSERT_TRUE(p.ok());
  http::PoolTransport t(**p);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(t.post("/x", Json::object()).ok());
  auto st = (*p)->stats();
  EXPECT_FALSE(st[1].in_rotation);
  EXPECT_EQ(st[1].evictions, 1);
  EXPECT_LE(bad_hits.load(), 2);  // no more requests once it is out
  bad_healthy = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  bool served_by_bad = false;
  for (int i = 0; i < 20 && !served_by_bad; ++i) {
    auto r = t.post("/x", Json::object());
    ASSERT_TRUE(r.ok());
    served_by_bad = r->endpoint == 1;
  }
  EXPECT_TRUE(served_by_bad);
  EXPECT_TRUE((*p)->stats()[1].in_rotation);
}

TEST(HttpPool, EveryEndpointDownIsAClearError) {
  int port;
  {
    Server gone;  // a port that was just free
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  auto o = fast_pool({"http://127.0.0.1:" + std::to_string(port)});
  o.down_timeout_s = 0.3;
  o.max_attempts = 100;
  o.evict_after = 1;
  auto p = http::Pool::open(o);
  ASSERT_TRUE(p.ok());
  http::PoolTransport t(**p);
  const auto t0 = Clock::now();
  auto r = t.post("/x", Json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("every backend endpoint has been down"), std::string::npos)
      << r.message();
  EXPECT_LT(since(t0), 5.0);
}

TEST(HttpPool, ConcurrencyIsLimitedPerEndpoint) {
  Server a, b;
  std::atomic<int> in_a{0}, in_b{0}, max_a{0}, max_b{0};
  auto handler = [](std::atomic<int>& in, std::atomic<int>& mx) {
    return [&](const httplib::Request&, httplib::Response& res) {
      const int now = ++in;
      int m = mx.load();
      while (now > m && !mx.compare_exchange_weak(m, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
      --in;
      res.set_content("{}", "application/json");
    };
  };
  a.srv().Post("/x", handler(in_a, max_a));
  b.srv().Post("/x", handler(in_b, max_b));
  auto o = fast_pool({a.url(), b.url()});
  o.concurrency = 2;
  auto p = http::Pool::open(o);
  ASSERT_TRUE(p.ok());
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 12; ++i)
    ts.emplace_back([&] {
      http::PoolTransport t(**p);
      ok += t.post("/x", Json::object()).ok();
    });
  for (auto& th : ts) th.join();
  EXPECT_EQ(ok.load(), 12);
  EXPECT_EQ(max_a.load(), 2);
  EXPECT_EQ(max_b.load(), 2);
}

TEST(HttpPool, SendsApiKeyAndHeaders) {
  Server s;
  std::string auth, custom;
  s.srv().Get("/v1/models", [&](const httplib::Request& req, httplib::Response& res) {
    auth = req.get_header_value("Authorization");
    custom = req.get_header_value("X-Team");
    res.set_content("{}", "application/json");
  });
  auto o = fast_pool({s.url()});
  o.api_key = "sk-test";
  o.headers = {{"X-Team", "judges"}};
  auto p = http::Pool::open(o);
  ASSERT_TRUE(p.ok());
  http::PoolTransport t(**p);
  ASSERT_TRUE(t.get("/v1/models").ok());
  EXPECT_EQ(auth, "Bearer sk-test");
  EXPECT_EQ(custom, "judges");
}

TEST(HttpPool, RejectsBadOptions) {
  EXPECT_FALSE(http::Pool::open(fast_pool({})).ok());
  EXPECT_FALSE(http::Pool::open(fast_pool({"http://a:1", "http://a:1"})).ok());
  auto o = fast_pool({"http://a:1"});
  o.ca_file = "/nonexistent/ca.pem";
  auto p = http::Pool::open(o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.message().find("/nonexistent/ca.pem"), std::string::npos);
}

}  // namespace
