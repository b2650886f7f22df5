// HttpBackend: gavel::Backend over serving engines reached by HTTP (llama.cpp's llama-server,
// vLLM, SGLang, Ollama, or another OpenAI-compatible server), one model on one or many
// endpoints. gavel keeps the chat template and the tokenizer (from a local GGUF of the served
// model), renders and tokenizes every prompt itself and sends it raw, so the engine adds no
// template; at start it checks on every endpoint that the server tokenizes a rendered judge
// prompt into the same ids (refusing on a mismatch, naming the first differing token, and
// reporting a doubled BOS). Requests of one score()/generate() call run concurrently over all
// endpoints (see http_client.h for retries, deadlines and eviction).
// Thread-safe for one caller at a time, like every Backend.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/http_client.h"
#include "backend/http_engine.h"
#include "gavel/backend.h"
#include "tokenizer/tokenizer.h"

namespace gavel::backend {

struct HttpOptions {
  http::PoolOptions pool;
  std::string kind;       // "" = ask the server (see http::detect_kind)
  std::string tokenizer;  // GGUF of the served model: tokenizer, chat template, BOS/EOS
  http::EngineOptions engine;
};

// Cumulative figures since open().
struct HttpStats {
  int64_t queries = 0;        // next-token and generation requests made by gavel
  int64_t http_requests = 0;  // HTTP requests they took (fallbacks add some)
  int64_t fallbacks = 0;      // queries that needed a second request to be exact
  int64_t inexact = 0;        // log-probabilities that are only an upper bound
  int64_t clean = 0;          // queries answered at the first attempt (overhead counted)
  double overhead_s = 0;      // their time not spent waiting on the server
  double server_s = 0;        // and the time they waited on it
};

class HttpBackend : public Backend {
 public:
  // Connects to every endpoint, checks kind, model and tokenization; `log` gets one line per
  // endpoint (nullptr = quiet).
  static Result<std::unique_ptr<HttpBackend>> open(HttpOptions options, std::FILE* log = nullptr);
  ~HttpBackend() override;

  const BackendInfo& info() const override { return info_; }
  Result<std::vector<ScoreResult>> score(std::span<const ScoreRequest> reqs) override;
  Result<std::vector<GenerateResult>> generate(std::span<const GenerateRequest> reqs) override;
  std::string progress() const override;
  std::string report() const override;

  http::EngineKind kind() const { return engine_->kind(); }
  HttpStats stats() const;
  std::vector<http::EndpointStats> endpoint_stats() const { return pool_->stats(); }
  const Tokenizer& tokenizer() const { return *tok_; }

 private:
  HttpBackend() = default;
  Status check_endpoint(int i, std::FILE* log);
  Result<std::vector<int32_t>> tokenize_prompt(const std::string& prompt,
                                               std::span<const TextSpan> as_text) const;
  Result<http::NextTokenReply> query(const http::NextTokenQuery& q);
  Result<GenerateResult> generate_one(const GenerateRequest& r);

  HttpOptions opt_;
  std::unique_ptr<http::Pool> pool_;
  std::unique_ptr<Tokenizer> tok_;
  std::unique_ptr<http::VocabIndex> vocab_;
  std::unique_ptr<http::Engine> engine_;
  BackendInfo info_;
  std::string model_id_;
  std::string probe_hash_;
  mutable std::mutex mu_;
  HttpStats stats_;
  // Answers of recent next-token queries: when one request of a batch fails, the caller retries
  // the others one by one, and those are not asked again.
  std::map<std::string, http::NextTokenReply> recent_;
  std::vector<std::string> recent_order_;
};

// The judge-like prompt the start-up check tokenizes on the server: the chat template rendered
// over a system prompt and a user turn with JSON, digits, non-ASCII text and whitespace runs.
Result<std::string> tokenizer_probe_prompt(const std::string& chat_template,
                                           const BackendInfo& info, const std::string& salt = "");

// Where two token lists first differ, as a sentence ("" when equal); names a doubled BOS.
std::string describe_token_mismatch(const std::vector<int32_t>& ours,
                                    const std::vector<int32_t>& theirs, const Tokenizer& tok);

}  // namespace gavel::backend
