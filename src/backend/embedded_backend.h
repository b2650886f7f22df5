// EmbeddedBackend: gavel::Backend over the in-process engine (src/engine) and the GGUF
// tokenizer. Scores candidates from the full next-token distribution, generates greedily or
// with seeded top-p sampling, and reuses evaluated prompt prefixes across calls (the two
// passes of a pairwise judgment share system prompt and instruction) without changing a bit
// of the result (see exact_split below).
// Not thread-safe: one call at a time (the engine runs one forward at a time per model).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "gavel/backend.h"
#include "tokenizer/tokenizer.h"

namespace gavel::backend {

// Part of every fingerprint: bump it when the engine's arithmetic changes (kernels, reduction
// order, KV precision), so stored judgments from the old numerics are not reused.
// 0: the interim CLI adapter's engine. 1: llama.cpp's exact summation order (commits dc5f5e1
// and 94e94bf).
inline constexpr const char* kNumericsVersion = "gavel-engine-1";

struct EmbeddedOptions {
  int threads = 2;
  int ctx = 4096;         // 0 = the model's training context
  int cache_entries = 4;  // evaluated sequences kept for prefix reuse (0 = none)
};

// Where a prompt of n tokens may be split so that evaluating tokens [0, r) and then [r, n)
// gives bit for bit the state and logits of evaluating all n at once. The engine mirrors
// llama.cpp's kernel choice per forward chunk (docs/layers/engine.md, "Exact summation
// order"): chunks of 512 tokens; float and attention products use another order for a
// one-token chunk, K-quant matmuls for chunks under 8 tokens, and the repacked Q4_K matmul for
// the last n % 4 tokens of a chunk. So r must be a multiple of 4, and the last chunk must have
// at least 8 tokens both in the whole prompt and after the split. When the whole prompt ends
// in a chunk shorter than 8, r must be a multiple of 512.
// Splitting anywhere else moved Qwen2.5-0.5B's log-probs by about 0.3 (measured).
// tests/backend checks the rule bit for bit, so a change in the engine's choices shows up there.
bool exact_split(int64_t r, int64_t n);
// Tokens at the start of an n-token prompt whose state another prompt may reuse: all but the
// last n % 4 tokens, or all but the last chunk when it is shorter than 8 tokens.
int64_t exact_prefix(int64_t n);

// Token accounting of the prefix cache, cumulative since open().
struct PrefixStats {
  int64_t prompts = 0;              // prompts prefilled (score and generate requests)
  int64_t prompt_tokens = 0;        // their tokens
  int64_t reused_tokens = 0;        // prompt tokens taken from a cached sequence
  int64_t evaluated_tokens = 0;     // prompt tokens run through the model
  int64_t continuation_tokens = 0;  // candidate and generated tokens run through the model
  int64_t snapshots = 0;            // recurrent states kept at a shared prefix (see prefill)
};

class EmbeddedBackend : public Backend {
 public:
  static Result<std::unique_ptr<EmbeddedBackend>> open(const std::string& path,
                                                       const EmbeddedOptions& options = {});

  const BackendInfo& info() const override { return info_; }
  Result<std::vector<ScoreResult>> score(std::span<const ScoreRequest> reqs) override;
  Result<std::vector<GenerateResult>> generate(std::span<const GenerateRequest> reqs) override;
  Result<std::vector<int32_t>> tokenize(std::string_view text) override;
  Result<std::string> detokenize(std::span<const int32_t> tokens) override;
  std::string report() const override;  // the prefix-reuse figures

  // Generation from a tokenized prompt, taken as given (nothing added or parsed): the OpenAI
  // routes tokenize themselves and accept token-id prompts. Same cache and numerics as generate.
  Result<GenerateResult> generate_tokens(const std::vector<int32_t>& ids,
                                         const GenerateParams& params);
  // Each prompt token's log-probability given the tokens before it, with the `top_k` most likely
  // alternatives at its position; the first token has no context and gets logprob 0 and no
  // alternatives. Evaluated in the engine's own 512-token chunks, so the states are those of a
  // whole-prompt evaluation; the logits rows come from a many-row output product, which may
  // differ in the last bits from the one-row product of score() and generate().
  Result<std::vector<ScoredToken>> prompt_logprobs(std::span<const int32_t> ids, int top_k);

  const PrefixStats& stats() const { return stats_; }
  const Tokenizer& tokenizer() const { return *tok_; }
  engine::LoadedModel& model() { return *model_; }

 private:
  // A sequence holding exactly `seq->tokens()` plus the logits at its last position.
  // Immutable once cached; users clone `seq` before extending it.
  struct Entry {
    std::unique_ptr<engine::Sequence> seq;
    std::vector<float> last_logits;
    int64_t exact_len = 0;      // leading tokens computed as in a whole-prompt evaluation
    bool logits_exact = false;  // last_logits as a whole-prompt evaluation gives them
    uint64_t last_use = 0;
  };

  EmbeddedBackend() = default;
  Result<std::vector<int32_t>> tokenize_prompt(const std::string& prompt) const;
  // Non-empty, within the context size, every id in the vocabulary.
  Status check_ids(std::span<const int32_t> ids) const;
  // `id` with its log-probability and the top_k alternatives under `logits`.
  ScoredToken scored(int32_t id, std::span<const float> logits, int top_k) const;
  // The evaluated prompt: from the cache when possible, else (partly) computed and cached.
  // Token lists of the requests after the current one in the same batch.
  using Upcoming = std::span<const std::vector<int32_t>>;
  template <class Req>
  Result<std::vector<std::vector<int32_t>>> tokenize_all(std::span<const Req> reqs,
                                                         const char* what) const;
  // `extended`: a later request will extend this prompt (a critique's verdict request).
  Result<std::shared_ptr<const Entry>> prefill(const std::vector<int32_t>& ids, Upcoming upcoming,
                                               bool extended);
  void remember(std::shared_ptr<Entry> e);
  // Recurrent models: where to snapshot a prompt whose tokens [0, from) are evaluated, in
  // ascending order: the longest exact splits within its common prefixes with cached sequences
  // and upcoming prompts, and near its end when `extended` (at most three).
  std::vector<int64_t> snapshot_points(const std::vector<int32_t>& ids, int64_t from,
                                       Upcoming upcoming, bool extended) const;
  Result<ScoreResult> score_one(const ScoreRequest& r, const std::vector<int32_t>& ids,
                                Upcoming upcoming);
  Result<GenerateResult> generate_one(const GenerateRequest& r, const std::vector<int32_t>& ids,
                                      Upcoming upcoming);

  std::unique_ptr<engine::LoadedModel> model_;
  std::unique_ptr<Tokenizer> tok_;
  BackendInfo info_;
  int cache_entries_ = 0;
  std::vector<std::shared_ptr<Entry>> cache_;
  uint64_t clock_ = 0;
  bool can_rewind_ = true;  // false for recurrent models: reuse whole cached sequences only
  PrefixStats stats_;
};

// Next token from one row of logits: argmax when temperature == 0 (ties: lowest id), else a
// draw from softmax(logits / temperature) restricted to the smallest most-likely set whose
// probability reaches top_p. Parameters must be valid (checked by the caller).
int32_t sample_token(std::span<const float> logits, double temperature, double top_p,
                     std::mt19937_64& rng);

// "gguf:<XXH3-128 of every byte of the file, 32 hex>+<numerics version>": any change to the
// weights, metadata, vocabulary or chat template gives another fingerprint. The digest is
// cached per file version (core/file_digest.h), so a model is read in full once.
Result<std::string> weights_fingerprint(const gguf::File& file);

}  // namespace gavel::backend
