#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "model/model.h"
#include "tensor/isa.h"
#include "tensor/quants.h"

namespace gavel::engine {

bool SplitRule::exact_split(int64_t r, int64_t n) const {
  if (r <= 0 || r >= n || r % group != 0) return false;
  const int64_t whole_last = (n - 1) % chunk + 1, split_last = (n - r - 1) % chunk + 1;
  if (whole_last < min_batch) return r % chunk == 0;
  return split_last >= min_batch;
}

std::vector<int64_t> SplitRule::continuation(int64_t r, int64_t n) const {
  if (exact_split(r, n)) return {n};
  if (r <= 0 || r >= n || r % group != 0) return {};
  const int64_t c0 = r - r % chunk;
  if (r != c0 && std::min(c0 + chunk, n) - r < min_batch) return {};
  std::vector<int64_t> ends;
  for (int64_t e = c0 + chunk; e < n; e += chunk) ends.push_back(e);
  ends.push_back(n);
  return ends;
}

int64_t SplitRule::exact_prefix(int64_t n) const {
  const int64_t last = (n - 1) % chunk + 1;
  return last < min_batch ? n - last : n - n % group;
}

bool SplitRule::exact_segment(int64_t from, int64_t to) const {
  return to > from && (to - from - 1) % chunk + 1 >= min_batch;
}

SplitRule split_rule() {
  const tensor::BatchRule b = tensor::batch_rule();
  // The tiled K-quant threshold is the largest (tinyBLAS starts at 2 tokens).
  return {model::kForwardChunk, std::max(b.kquant_tiled_min_tokens, b.gemm_min_tokens),
          b.repack_group};
}

std::string numerics_suffix() {
  if (tensor::active_isa() == tensor::Isa::kAvx2) return std::string();
  // At AVX-512, 256-bit auto-vectorized loops (tensor::autovec_lanes) round qwen35's conv as
  // AVX2 does; the 512-bit numerics keep the suffix they had before the width was a choice.
  return std::string("+") + tensor::isa_name(tensor::active_isa()) +
         (tensor::autovec_lanes() == 8 ? "-v256" : "");
}

bool Sequence::truncate(int n) {
  if (n < 0 || n > n_past()) return false;
  if (!state_->truncate(n)) return false;
  tokens_.resize(size_t(n));
  return true;
}

std::unique_ptr<Sequence> Sequence::clone() const {
  auto s = std::make_unique<Sequence>();
  s->state_ = state_->clone();
  s->tokens_ = tokens_;
  return s;
}

Result<std::unique_ptr<LoadedModel>> load_model(const std::string& path,
                                                const LoadOptions& options) {
  if (options.n_threads < 1 || options.n_threads > 256)
    return Error{fmt::format("invalid thread count {}", options.n_threads)};
  if (options.n_ctx < 0) return Error{fmt::format("invalid context size {}", options.n_ctx)};
  GAVEL_TRY(tensor::init_kernels());
  auto m = std::unique_ptr<LoadedModel>(new LoadedModel());
  GAVEL_ASSIGN(m->file_, gguf::File::open(path));
  m->pool_ = std::make_unique<tensor::ThreadPool>(options.n_threads);
  GAVEL_ASSIGN(m->model_, model::load(*m->file_, *m->pool_));
  m->n_ctx_ = options.n_ctx ? options.n_ctx : m->model_->hparams().n_ctx_train;
  return m;
}

std::unique_ptr<Sequence> LoadedModel::new_sequence() const {
  auto s = std::make_unique<Sequence>();
  s->state_ = model_->new_state(n_ctx_);
  return s;
}

Result<Logits> LoadedModel::eval(Sequence& seq, std::span<const int32_t> tokens,
                                 std::span<const int> logits_at) {
  if (seq.n_past() + tokens.size() > size_t(n_ctx_))
    return Error{fmt::format("{} tokens ({} new + {} already evaluated) exceed the context size {}",
                             seq.n_past() + tokens.size(), tokens.size(), seq.n_past(), n_ctx_),
                 StatusCode::kOutOfRange};
  Logits out;
  out.n_vocab = hparams().n_vocab;
  out.data.resize(logits_at.size() * size_t(out.n_vocab));
  GAVEL_TRY(model_->forward(*seq.state_, tokens, logits_at, out.data.data()));
  seq.tokens_.insert(seq.tokens_.end(), tokens.begin(), tokens.end());
  return out;
}

Result<Logits> LoadedModel::eval_decode(std::span<Sequence* const> seqs,
                                        std::span<const int32_t> tokens) {
  if (seqs.size() != tokens.size())
    return Error{fmt::format("eval_decode: {} sequences for {} tokens", seqs.size(), tokens.size()),
                 StatusCode::kInvalidArgument};
  std::vector<model::SequenceState*> states;
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i]->n_past() + 1 > n_ctx_)
      return Error{fmt::format("eval_decode: sequence {} holds {} tokens, the context size", i,
                               seqs[i]->n_past()),
                   StatusCode::kOutOfRange};
    if (std::find(seqs.begin(), seqs.begin() + ptrdiff_t(i), seqs[i]) !=
        seqs.begin() + ptrdiff_t(i))
      return Error{fmt::format("eval_decode: sequence {} is listed twice", i),
                   StatusCode::kInvalidArgument};
    states.push_back(seqs[i]->state_.get());
  }
  GAVEL_TRY(model::check_tokens(tokens, hparams().n_vocab));
  Logits out;
  out.n_vocab = hparams().n_vocab;
  out.data.resize(seqs.size() * size_t(out.n_vocab));
  GAVEL_TRY(model_->forward_decode(states, tokens, out.data.data()));
  for (size_t i = 0; i < seqs.size(); ++i) seqs[i]->tokens_.push_back(tokens[i]);
  return out;
}

std::vector<double> log_softmax(std::span<const float> logits) {
  std::vector<double> out(logits.size());
  if (logits.empty()) return out;
  const double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(double(v) - mx);
  const double lse = mx + std::log(sum);
  for (size_t i = 0; i < logits.size(); ++i) out[i] = double(logits[i]) - lse;
  return out;
}

std::vector<TokenLogprob> top_k(std::span<const double> logprobs, int k) {
  std::vector<int32_t> ids(logprobs.size());
  std::iota(ids.begin(), ids.end(), 0);
  k = std::clamp(k, 0, int(ids.size()));
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int32_t a, int32_t b) {
    return logprobs[size_t(a)] != logprobs[size_t(b)] ? logprobs[size_t(a)] > logprobs[size_t(b)]
                                                      : a < b;
  });
  std::vector<TokenLogprob> out;
  for (int i = 0; i < k; ++i) out.push_back({ids[size_t(i)], logprobs[size_t(ids[size_t(i)])]});
  return out;
}

}  // namespace gavel::engine
