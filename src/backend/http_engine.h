// The serving engines an HttpBackend talks to, one adapter per kind: request shapes, response
// parsing and what the numbers mean (../shared/docs/http-backends.md has each API's details).
// Every adapter answers the same two questions: the next-token log-probabilities of given
// token ids (plus the top-k) after a prompt, and a generation. Prompts go out as token ids
// where the engine takes them (llama.cpp, vLLM, SGLang), else as raw text (Ollama, a generic
// OpenAI-compatible server); either way the engine applies no chat template of its own.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "backend/http_client.h"
#include "gavel/backend.h"
#include "tokenizer/tokenizer.h"

namespace gavel::backend::http {

enum class EngineKind { kLlamaCpp, kVllm, kSglang, kOllama, kOpenAI };

std::string_view kind_name(EngineKind k);  // "llama.cpp", "vllm", "sglang", "ollama", "openai"
Result<EngineKind> parse_kind(std::string_view s);

// Asks the server what it is: llama.cpp's /props, SGLang's /get_model_info, Ollama's
// /api/version, else /v1/models (owned_by "vllm" / "sglang" / "llamacpp", or any other
// OpenAI-compatible server).
Result<EngineKind> detect_kind(Transport& t);

struct ServerModel {
  std::string id;          // the served model's name as the server reports it
  int context_length = 0;  // per request; 0 = not reported
};

struct NextTokenQuery {
  std::vector<int32_t> ids;     // the prompt as gavel tokenized it
  std::string text;             // the same prompt as text (for engines that are sent text)
  std::vector<int32_t> wanted;  // token ids whose log-probability is needed
  int top_k = 0;                // also the k most likely next tokens
};

struct TokenLogprob {
  double logprob = 0;
  // false: the engine gave only a top-k without this token; logprob is then an upper bound
  // (the smallest log-probability it did return).
  bool exact = true;
};

struct NextTokenReply {
  std::vector<TokenLogprob> wanted;  // in the order of NextTokenQuery::wanted
  std::vector<TopToken> top;         // best first; id -1 where the engine gave text only
  int prompt_tokens = -1;            // as the server counted them (-1: not reported)
  int requests = 1;                  // HTTP requests it took
};

struct EngineOptions {
  std::string model;          // the "model" field of each request ("" = the server's only model)
  int top_n = 100;            // llama.cpp, generic OpenAI: alternatives asked for per position
  int max_logprobs = 20;      // vLLM's --max-logprobs (its default)
  bool cache_prompt = false;  // llama.cpp: reuse a slot's KV prefix (faster, not bit-exact)
  int num_ctx = 0;            // Ollama: context window to ask for (0 = its default)
};

// Token text <-> id lookups for engines that answer with token text only.
class VocabIndex {
 public:
  explicit VocabIndex(const Tokenizer& tok);
  // The bytes a token stands for (control tokens as their text).
  std::string bytes(int32_t id) const;
  // The id of a token with exactly these bytes, preferring normal tokens; -1 if none.
  int32_t find(const std::string& bytes) const;

 private:
  const Tokenizer& tok_;
  std::unordered_map<std::string, int32_t> by_bytes_;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual EngineKind kind() const = 0;
  // GET path whose 200 means the server is ready (used to probe an evicted endpoint).
  virtual std::string health_path() const = 0;
  // How the log-probabilities are obtained (part of the store fingerprint).
  virtual std::string logprob_mode() const = 0;
  // Largest top-k the engine returns (0 = no cap).
  virtual int max_top_k() const { return 0; }
  // Whether prompts are sent as token ids (else as text, tokenized by the server).
  virtual bool sends_ids() const = 0;

  virtual Result<ServerModel> describe(Transport& t) = 0;
  // The server's token ids for `text` as its prompt path sees a text prompt with specials
  // parsed; nullopt when the engine has no tokenizer endpoint.
  virtual Result<std::optional<std::vector<int32_t>>> tokenize(Transport& t,
                                                               const std::string& text) = 0;
  // Capability probes after describe() (vLLM: does the server honour logprob_token_ids?).
  virtual Status probe_features(Transport&, const std::vector<int32_t>&) { return Status::Ok(); }

  virtual Result<NextTokenReply> next_token(Transport& t, const NextTokenQuery& q) = 0;
  virtual Result<GenerateResult> generate(Transport& t, const std::vector<int32_t>& ids,
                                          const std::string& text, const GenerateParams& p) = 0;
};

std::unique_ptr<Engine> make_engine(EngineKind kind, const Tokenizer& tok, const VocabIndex& vocab,
                                    EngineOptions options);

// Shared by the adapters.
namespace detail {
// A log-probability as sent: null, -9999 (vLLM, OpenAI) or <= -1e30 (llama.cpp FLT_LOWEST,
// SGLang finfo.min) stand for "none" and become -infinity.
double read_logprob(const nlohmann::json& v);
// Top-k from (id, logprob) pairs: sorted best first, duplicates by id removed, k kept.
std::vector<TopToken> make_top(std::vector<TopToken> all, int k);
// Looks up each wanted id among (id, logprob) pairs; missing ones get the smallest returned
// value as an upper bound and exact = false.
std::vector<TokenLogprob> pick(const std::vector<int32_t>& wanted,
                               const std::vector<TopToken>& alts);
Result<nlohmann::json> field(const nlohmann::json& j, std::string_view path, const char* what);
}  // namespace detail

}  // namespace gavel::backend::http
