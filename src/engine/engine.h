// Engine API: load a GGUF model, create sequences, evaluate tokens (prefill a prompt, then
// extend it), and turn logits into log-probabilities, top-k lists and per-token scores.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gavel/status.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "tensor/thread_pool.h"

namespace gavel::engine {

struct LoadOptions {
  int n_threads = 2;
  int n_ctx = 4096;  // 0 = the model's training context
};

// One sequence: the model state plus the tokens it holds.
class Sequence {
 public:
  int n_past() const { return int(tokens_.size()); }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  // Forgets tokens after the first n. False when the state cannot rewind (then re-create it).
  bool truncate(int n);
  std::unique_ptr<Sequence> clone() const;

 private:
  friend class LoadedModel;
  std::unique_ptr<model::SequenceState> state_;
  std::vector<int32_t> tokens_;
};

// Logits of the requested positions, row-major [rows][n_vocab].
struct Logits {
  int n_vocab = 0;
  std::vector<float> data;
  int rows() const { return n_vocab ? int(data.size() / size_t(n_vocab)) : 0; }
  std::span<const float> row(int i) const {
    return {data.data() + size_t(i) * size_t(n_vocab), size_t(n_vocab)};
  }
};

// Where a prompt may be split so that the result is bit for bit that of evaluating it whole
// (the engine's answer to cache questions, as llama.cpp's answers its server's). A forward call
// runs in chunks of model::kForwardChunk tokens, and llama.cpp picks another float order for a
// chunk of one token (vec_dot instead of tinyBLAS), for a chunk under 8 tokens (K-quants: no
// tiled matmul) and for the last n % 4 tokens of a chunk (the repacked Q4_K GEMV): the numbers
// come from the active kernel set (tensor::batch_rule()). Splitting anywhere else moved
// Qwen2.5-0.5B's log-probs by about 0.3 (measured); tests/backend checks the rule bit for bit.
struct SplitRule {
  int64_t chunk = 0;      // tokens per forward chunk
  int64_t min_batch = 0;  // a chunk shorter than this takes other kernels
  int64_t group = 0;      // tokens are taken in groups of this many; the rest of a chunk differs

  // Whether evaluating tokens [0, r) and then [r, n) of an n-token prompt gives the state and
  // logits of evaluating all n at once: r must be a multiple of `group`, and the last chunk
  // must have at least `min_batch` tokens both in the whole prompt and after the split. When
  // the whole prompt ends in a shorter chunk, r must be a multiple of `chunk`.
  bool exact_split(int64_t r, int64_t n) const;
  // How to evaluate tokens [r, n) of an n-token prompt whose first r tokens hold a state computed
  // as in a whole-prompt evaluation so that state and logits are those of evaluating all n at
  // once: the ends of the eval calls, ascending, the last n. {n} (one call) when
  // exact_split(r, n). Else calls ending at the whole prompt's chunk boundaries (the multiples
  // of `chunk`) reproduce its chunks after r's, and r's own chunk in the same kernels when r is
  // a multiple of `group` and that chunk keeps at least min_batch tokens after r (or starts at
  // r); a prompt just over a chunk (513-519 tokens) is then split anywhere in its first chunk.
  // Empty when neither is exact.
  std::vector<int64_t> continuation(int64_t r, int64_t n) const;
  // The leading tokens of an n-token prompt whose state another prompt may continue: all but
  // the last n % group, or all but the last chunk when it is shorter than min_batch.
  int64_t exact_prefix(int64_t n) const;
  // Whether one call evaluating tokens [from, to) ends in a chunk of at least min_batch tokens,
  // so that a state kept at `to` (a recurrent snapshot) continues exactly.
  bool exact_segment(int64_t from, int64_t to) const;
};
// The rule for the active kernel set (tensor/isa.h).
SplitRule split_rule();

// Appended to numerics identifiers (stored judgments' model fingerprints): "" for the AVX2
// level, the reference level of the numerics versions, "+avx512" for the AVX-512 level with
// 512-bit auto-vectorized loops, "+avx512-v256" with 256-bit ones (tensor/isa.h).
std::string numerics_suffix();

class LoadedModel {
 public:
  const gguf::File& file() const { return *file_; }
  const model::HParams& hparams() const { return model_->hparams(); }
  int n_ctx() const { return n_ctx_; }
  int n_threads() const { return pool_->size(); }

  std::unique_ptr<Sequence> new_sequence() const;
  // False for recurrent models, whose sequences cannot truncate().
  bool can_rewind() const { return model_->can_rewind(); }
  // Appends `tokens` to `seq` and returns the logits at the batch-relative positions
  // `logits_at` (ascending; e.g. {n-1} for the next-token distribution). Errors when the
  // sequence would outgrow the context (both numbers are named) or a token id is invalid.
  Result<Logits> eval(Sequence& seq, std::span<const int32_t> tokens,
                      std::span<const int> logits_at);
  // Batched decoding: appends tokens[i] to the distinct sequences seqs[i], one weight pass for
  // all, and returns their next-token logits (row i for seqs[i]). Each row and each state is bit
  // for bit what eval(*seqs[i], {tokens[i]}, {0}) gives, in any batch and any order (batch
  // invariance). Errors (nothing is appended then) when a sequence is full or listed twice,
  // a token id is invalid, or the two lists differ in length.
  Result<Logits> eval_decode(std::span<Sequence* const> seqs, std::span<const int32_t> tokens);

 private:
  friend Result<std::unique_ptr<LoadedModel>> load_model(const std::string&, const LoadOptions&);
  std::unique_ptr<gguf::File> file_;
  std::unique_ptr<tensor::ThreadPool> pool_;
  std::unique_ptr<model::Model> model_;
  int n_ctx_ = 0;
};

Result<std::unique_ptr<LoadedModel>> load_model(const std::string& path,
                                                const LoadOptions& options = {});

struct TokenLogprob {
  int32_t id = 0;
  double logprob = 0.0;
};

// log_softmax over the full vocabulary (max-shifted, sum in double).
std::vector<double> log_softmax(std::span<const float> logits);
// The k most likely tokens, best first (ties: lower id first).
std::vector<TokenLogprob> top_k(std::span<const double> logprobs, int k);

}  // namespace gavel::engine
