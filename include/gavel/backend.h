// The one interface the judge layer sees. Implemented by the embedded engine
// (src/backend/embedded_backend.*) and by serving engines over HTTP
// (src/backend/http_backend.*); tests use a scripted fake. The judge layer never includes
// engine headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gavel/status.h"

namespace gavel {

// A byte range [begin, end) of a prompt.
struct TextSpan {
  size_t begin = 0, end = 0;
  bool operator==(const TextSpan&) const = default;
};

// Prompts are raw text as rendered by the chat template; special tokens in them are parsed as
// specials, except where their text overlaps a range of `as_text` (special-token text that came
// from the judged data: tokenized as plain text, docs/judge.md), and no BOS is added beyond what
// the text already holds. A backend that cannot honour `as_text` refuses the request.
struct ScoreRequest {
  std::string prompt;
  std::vector<std::string> candidates;  // continuations to score (single- or multi-token)
  int top_k = 0;                        // also return the top-k next tokens
  std::vector<TextSpan> as_text = {};
};

struct CandidateScore {
  std::string text;
  std::vector<int32_t> tokens;
  double logprob = 0.0;  // sum of token log-probabilities of the continuation
  double first_token_logprob = 0.0;
  // false: the engine returned only a top-k that lacks one of these tokens, and the values
  // are upper bounds (the smallest log-probability it did return), not the true ones.
  bool exact = true;
};

struct TopToken {
  int32_t id = 0;
  std::string token;  // detokenized text
  double logprob = 0.0;
};

struct ScoreResult {
  std::vector<CandidateScore> candidates;
  std::vector<TopToken> top;  // next position, best first
  int prompt_tokens = 0;
};

struct GenerateParams {
  int max_tokens = 512;
  double temperature = 0.0;  // 0 = greedy
  double top_p = 1.0;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  // >= 0: report each generated token's log-probability (of the full next-token distribution,
  // before temperature) and this many most likely alternatives; -1: none.
  int logprobs = -1;
};

struct GenerateRequest {
  std::string prompt;
  GenerateParams params;
  std::vector<TextSpan> as_text = {};  // as in ScoreRequest
};

// One generated (or prompt) token with its log-probability and the most likely alternatives at
// its position, best first.
struct ScoredToken {
  int32_t id = 0;
  std::string token;  // detokenized text
  double logprob = 0.0;
  std::vector<TopToken> top;
};

struct GenerateResult {
  std::string text;
  std::vector<int32_t> tokens;
  std::vector<ScoredToken> logprobs;  // one per token when GenerateParams::logprobs >= 0
  enum class Finish { kStop, kEos, kLength } finish = Finish::kEos;
  int prompt_tokens = 0;
};

struct BackendInfo {
  std::string fingerprint;    // stable identity of model weights + engine numerics
  std::string chat_template;  // the checkpoint's own Jinja template ("" if unknown)
  std::string bos_token, eos_token;
  int context_length = 0;
  // Texts of the tokens that a prompt's text turns into special tokens only where the chat
  // template writes them (control tokens such as <|im_end|>): in judged data they are text.
  std::vector<std::string> special_tokens;
};

// Where a judge model runs, as every front end (CLI flags, the C++ API, Python) gives it:
// the embedded engine on a GGUF file, or serving engines over HTTP (docs/http-backends.md).
// backend::open_backend() (src/backend/open.h) makes the Backend.
struct BackendSpec {
  // Embedded engine: the GGUF to run. With `urls`: the served model's GGUF, read for its
  // tokenizer and chat template unless `tokenizer` names another one.
  std::string model;
  int threads = 2;       // engine threads, 1..256
  int ctx = 4096;        // context size in tokens, 16..2^24 (HTTP: Ollama's num_ctx)
  int prefix_cache = 4;  // evaluated sequences kept for prefix reuse, 0..64 (0 = off)
  int decode_batch = 8;  // generations decoded together in one weight pass, 1..256

  // HTTP: servers of one model (replicas), http[s]://host[:port][/prefix]. Empty: embedded.
  std::vector<std::string> urls;
  std::string kind;                  // llama.cpp | vllm | sglang | ollama | openai ("" = ask)
  std::string tokenizer;             // GGUF of the served model ("" = model)
  std::string served_model;          // model name in requests ("" = the server's only one)
  int concurrency = 2;               // requests in flight per endpoint
  double request_timeout_s = 600;    // one attempt, time queued at the server included
  int retries = 4;                   // further attempts after a failed one
  double down_timeout_s = 60;        // every endpoint down this long: requests fail
  std::string api_key_env;           // environment variable holding the API key
  std::vector<std::string> headers;  // extra headers, "Name: value"
  std::string ca_cert;               // CA bundle for https ("" = the system's)
  bool server_prefix_cache = false;  // llama.cpp cache_prompt (faster, not exact)
  int top_n = 100;                   // alternatives asked per position (llama.cpp, openai)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const BackendInfo& info() const = 0;
  virtual Result<std::vector<ScoreResult>> score(std::span<const ScoreRequest> reqs) = 0;
  virtual Result<std::vector<GenerateResult>> generate(std::span<const GenerateRequest> reqs) = 0;

  // The judge model's tokens of plain text (special tokens not parsed, no BOS) and the text of
  // tokens: for length accounting and truncation of judged texts. A backend that cannot
  // tokenize keeps these defaults, which fail; callers that need tokens say so.
  virtual Result<std::vector<int32_t>> tokenize(std::string_view text) {
    (void)text;
    return Status::Unimplemented("this backend cannot tokenize text");
  }
  virtual Result<std::string> detokenize(std::span<const int32_t> tokens) {
    (void)tokens;
    return Status::Unimplemented("this backend cannot detokenize tokens");
  }
  // The backend's own figures: a short line for progress displays and a block for the end of
  // a run (prefix reuse, per-endpoint throughput, retries...). "" when it has none.
  virtual std::string progress() const { return {}; }
  virtual std::string report() const { return {}; }
};

}  // namespace gavel
