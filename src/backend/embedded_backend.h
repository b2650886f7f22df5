// EmbeddedBackend: gavel::Backend over the in-process engine (src/engine) and the GGUF
// tokenizer. Scores candidates from the full next-token distribution, generates greedily or
// with seeded top-p sampling, and reuses evaluated prompt prefixes across calls (the two
// passes of a pairwise judgment share system prompt and instruction) without changing a bit
// of the result (backend/prefix_cache.h).
// Not thread-safe: one call at a time (the engine runs one forward at a time per model).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "backend/prefix_cache.h"
#include "engine/engine.h"
#include "gavel/backend.h"
#include "tokenizer/tokenizer.h"

namespace gavel::backend {

// Part of every fingerprint: bump it when the engine's arithmetic changes (kernels, reduction
// order, KV precision), so stored judgments from the old numerics are not reused.
// 0: the interim CLI adapter's engine. 1: llama.cpp's exact summation order (commits dc5f5e1
// and 94e94bf). 2: the last layer's FFN and the output head run on the logit rows only, as in
// llama.cpp, whose kernels then see that many tokens. The fingerprint appends the ISA level
// (engine::numerics_suffix()): the AVX-512 level's orders differ from the AVX2 level's.
inline constexpr const char* kNumericsVersion = "gavel-engine-2";

struct EmbeddedOptions {
  int threads = 2;
  int ctx = 4096;         // 0 = the model's training context
  int cache_entries = 4;  // evaluated sequences kept for prefix reuse (0 = none)
  int decode_batch = 8;   // generate requests decoded together, 1..256 (1 = one at a time)
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
  std::string report() const override;  // the prefix-reuse and decoding figures

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

  const PrefixStats& stats() const { return cache_->stats(); }
  // Generated tokens evaluated (each after the first of a request), the eval_decode calls that
  // did it, and the decoding loops' time (sampling included, prompts' prefill not): tokens /
  // steps is the mean number of requests decoded together.
  struct DecodeStats {
    int64_t tokens = 0, steps = 0;
    double seconds = 0;
  };
  const DecodeStats& decode_stats() const { return decode_; }
  const Tokenizer& tokenizer() const { return *tok_; }
  engine::LoadedModel& model() { return *model_; }

 private:
  EmbeddedBackend() = default;
  Result<std::vector<int32_t>> tokenize_prompt(const std::string& prompt,
                                               std::span<const TextSpan> as_text) const;
  // Non-empty, within the context size, every id in the vocabulary.
  Status check_ids(std::span<const int32_t> ids) const;
  // `id` with its log-probability and the top_k alternatives under `logits`.
  ScoredToken scored(int32_t id, std::span<const float> logits, int top_k) const;
  using Upcoming = PrefixCache::Upcoming;
  template <class Req>
  Result<std::vector<std::vector<int32_t>>> tokenize_all(std::span<const Req> reqs,
                                                         const char* what) const;
  Result<ScoreResult> score_one(const ScoreRequest& r, const std::vector<int32_t>& ids,
                                Upcoming upcoming);
  // Decodes the requests (ids: their tokenized prompts) up to decode_batch_ at a time, a
  // finished one replaced by the next at once (continuous batching).
  struct Decoding;
  Result<std::vector<GenerateResult>> generate_batch(std::span<const GenerateRequest> reqs,
                                                     std::span<const std::vector<int32_t>> ids);
  bool advance(Decoding& d, int32_t& next);
  void finish(Decoding& d);

  std::unique_ptr<engine::LoadedModel> model_;
  std::unique_ptr<Tokenizer> tok_;
  BackendInfo info_;
  std::unique_ptr<PrefixCache> cache_;
  int decode_batch_ = 8;
  DecodeStats decode_;
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
