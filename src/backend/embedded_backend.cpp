#include "backend/embedded_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "backend/params.h"
#include "chat/model_template.h"
#include "core/file_digest.h"

namespace gavel::backend {

namespace {

// Earliest position in `text` where a stop string starts, looking only at matches that end
// after `from` (earlier text was checked before); npos if none.
size_t find_stop(const std::string& text, size_t from, const std::vector<std::string>& stops) {
  size_t best = std::string::npos;
  for (const std::string& s : stops) {
    const size_t start = from >= s.size() ? from - s.size() + 1 : 0;
    const size_t at = text.find(s, start);
    if (at != std::string::npos) best = std::min(best, at);
  }
  return best;
}

// Uniform double in [0, 1) from the top 53 bits: the same on every standard library.
double uniform01(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

}  // namespace

int32_t sample_token(std::span<const float> logits, double temperature, double top_p,
                     std::mt19937_64& rng) {
  if (temperature == 0.0)
    return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  const double mx = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  for (size_t i = 0; i < p.size(); ++i) p[i] = std::exp((double(logits[i]) - mx) / temperature);
  std::vector<int32_t> ids(p.size());
  std::iota(ids.begin(), ids.end(), 0);
  double mass = std::accumulate(p.begin(), p.end(), 0.0);
  if (top_p < 1.0) {
    std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
      return p[size_t(a)] != p[size_t(b)] ? p[size_t(a)] > p[size_t(b)] : a < b;
    });
    const double want = top_p * mass;
    double kept = 0;
    size_t n = 0;
    while (n < ids.size() && (n == 0 || kept < want)) kept += p[size_t(ids[n++])];
    ids.resize(n);
    mass = kept;
  }
  const double u = uniform01(rng) * mass;
  double acc = 0;
  for (int32_t id : ids) {
    acc += p[size_t(id)];
    if (u < acc) return id;
  }
  return ids.back();  // u rounded onto the total
}

Result<std::string> weights_fingerprint(const gguf::File& file) {
  GAVEL_ASSIGN(const FileDigest d, file_digest(file.path()));  // every byte, cached per file
  return fmt::format("gguf:{}+{}{}", d.hex, kNumericsVersion, engine::numerics_suffix());
}

Result<std::unique_ptr<EmbeddedBackend>> EmbeddedBackend::open(const std::string& path,
                                                               const EmbeddedOptions& options) {
  if (options.cache_entries < 0)
    return Error{fmt::format("cache_entries must be >= 0 (got {})", options.cache_entries),
                 StatusCode::kInvalidArgument};
  auto b = std::unique_ptr<EmbeddedBackend>(new EmbeddedBackend());
  GAVEL_ASSIGN(b->model_, engine::load_model(path, {options.threads, options.ctx}));
  b->cache_ = std::make_unique<PrefixCache>(*b->model_, options.cache_entries);
  const gguf::File& f = b->model_->file();
  GAVEL_ASSIGN(auto tok, Tokenizer::from_gguf(f));
  b->tok_ = std::make_unique<Tokenizer>(std::move(tok));
  // No template is a valid state ("" = unknown, the CLI refuses it); a broken one is an error.
  if (f.has("tokenizer.chat_template")) {
    GAVEL_ASSIGN(auto mt, chat::model_template_from_gguf(f));
    b->info_.chat_template = mt.source;
  }
  auto text = [&](int32_t id) { return id == kNoToken ? std::string() : b->tok_->token_text(id); };
  b->info_.bos_token = text(b->tok_->bos());
  b->info_.eos_token = text(b->tok_->eos());
  b->info_.context_length = b->model_->n_ctx();
  b->info_.special_tokens = b->tok_->parsed_special_texts();
  GAVEL_ASSIGN(b->info_.fingerprint, weights_fingerprint(f));
  return b;
}

Result<std::vector<int32_t>> EmbeddedBackend::tokenize_prompt(
    const std::string& prompt, std::span<const TextSpan> as_text) const {
  if (prompt.empty()) return Error{"empty prompt", StatusCode::kInvalidArgument};
  GAVEL_TRY(check_as_text(prompt, as_text));
  auto ids = tok_->encode(prompt, /*add_special=*/false, as_text);
  GAVEL_TRY(check_ids(ids));
  return ids;
}

Result<std::vector<int32_t>> EmbeddedBackend::tokenize(std::string_view text) {
  return tok_->encode(text, /*add_special=*/false, /*parse_special=*/false);
}

Result<std::string> EmbeddedBackend::detokenize(std::span<const int32_t> tokens) {
  for (int32_t id : tokens)
    if (id < 0 || id >= tok_->n_vocab())
      return Status::OutOfRange(
          fmt::format("token id {} outside the vocabulary [0, {})", id, tok_->n_vocab()));
  return tok_->decode(tokens);
}

Result<ScoreResult> EmbeddedBackend::score_one(const ScoreRequest& r,
                                               const std::vector<int32_t>& ids, Upcoming upcoming) {
  // Candidates are checked before any model work, so a bad request costs nothing.
  std::vector<std::vector<int32_t>> cand_ids;
  for (const std::string& c : r.candidates) {
    auto t = tok_->encode(c, /*add_special=*/false, /*parse_special=*/false);
    if (t.empty())
      return Error{fmt::format("candidate '{}' has no tokens", c), StatusCode::kInvalidArgument};
    cand_ids.push_back(std::move(t));
  }
  if (r.top_k < 0)
    return Error{fmt::format("top_k must be >= 0 (got {})", r.top_k), StatusCode::kInvalidArgument};
  GAVEL_ASSIGN(auto prompt, cache_->prefill(ids, upcoming, /*extended=*/false));
  const std::vector<double> lp = engine::log_softmax(prompt->last_logits);
  auto logprob_of = [&](const std::vector<double>& row, int32_t id) -> Result<double> {
    if (id < 0 || size_t(id) >= row.size())
      return Error{fmt::format("token id {} is outside the model's {} logits", id, row.size()),
                   StatusCode::kOutOfRange};
    return row[size_t(id)];
  };
  ScoreResult s;
  s.prompt_tokens = int(ids.size());
  for (const auto& t : engine::top_k(lp, r.top_k))
    s.top.push_back({t.id, tok_->token_text(t.id), t.logprob});
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    CandidateScore cs;
    cs.text = r.candidates[i];
    cs.tokens = std::move(cand_ids[i]);
    GAVEL_ASSIGN(cs.first_token_logprob, logprob_of(lp, cs.tokens[0]));
    cs.logprob = cs.first_token_logprob;
    if (cs.tokens.size() > 1) {
      // Continue a clone of the prompt's sequence; the cached one stays as it is.
      auto cont = prompt->seq->clone();
      const size_t m = cs.tokens.size() - 1;
      std::vector<int> at(m);
      std::iota(at.begin(), at.end(), 0);
      GAVEL_ASSIGN(auto cl, model_->eval(*cont, std::span(cs.tokens).first(m), at));
      cache_->count_continuation(int64_t(m));
      for (size_t k = 0; k < m; ++k) {
        GAVEL_ASSIGN(double v, logprob_of(engine::log_softmax(cl.row(int(k))), cs.tokens[k + 1]));
        cs.logprob += v;
      }
    }
    s.candidates.push_back(std::move(cs));
  }
  return s;
}

Result<GenerateResult> EmbeddedBackend::generate_one(const GenerateRequest& r,
                                                     const std::vector<int32_t>& ids,
                                                     Upcoming upcoming) {
  GAVEL_TRY(check_params(r.params));
  // The critique's follow-up (the verdict distribution) starts with this prompt.
  GAVEL_ASSIGN(auto prompt, cache_->prefill(ids, upcoming, /*extended=*/true));
  std::mt19937_64 rng(r.params.seed);
  GenerateResult g;
  g.prompt_tokens = int(ids.size());
  g.finish = GenerateResult::Finish::kLength;
  std::unique_ptr<engine::Sequence> seq;  // the prompt's clone, made at the first decode step
  std::vector<float> logits = prompt->last_logits;
  const int last = 0;
  while (true) {
    const int32_t next = sample_token(logits, r.params.temperature, r.params.top_p, rng);
    if (tok_->is_eog(next)) {
      g.finish = GenerateResult::Finish::kEos;
      break;
    }
    if (r.params.logprobs >= 0) g.logprobs.push_back(scored(next, logits, r.params.logprobs));
    g.tokens.push_back(next);
    const size_t before = g.text.size();
    g.text += tok_->decode(std::span(&next, 1));
    if (!r.params.stop.empty()) {
      const size_t at = find_stop(g.text, before, r.params.stop);
      if (at != std::string::npos) {
        g.text.resize(at);
        g.finish = GenerateResult::Finish::kStop;
        break;
      }
    }
    if (int(g.tokens.size()) >= r.params.max_tokens) break;
    if (!seq) seq = prompt->seq->clone();
    if (seq->n_past() >= model_->n_ctx())
      return Error{fmt::format("generation filled the context size {} ({} prompt + {} generated "
                               "tokens); raise --ctx "
                               "or lower --max-tokens",
                               model_->n_ctx(), ids.size(), g.tokens.size()),
                   StatusCode::kOutOfRange};
    GAVEL_ASSIGN(auto out, model_->eval(*seq, std::span(&next, 1), std::span<const int>(&last, 1)));
    cache_->count_continuation(1);
    logits = std::move(out.data);
  }
  if (seq) {
    // The prompt plus its critique: the verdict-distribution request that follows starts so.
    // Decoded tokens ran one per chunk: only the prompt's exact part is reusable.
    auto e = std::make_shared<PrefixCache::Entry>();
    e->seq = std::move(seq);
    e->last_logits = std::move(logits);
    e->exact_len = prompt->exact_len;
    e->logits_exact = false;
    cache_->remember(std::move(e));
  }
  return g;
}

// The prompts of a batch, tokenized up front so that each prefill sees the ones after it.
template <class Req>
Result<std::vector<std::vector<int32_t>>> EmbeddedBackend::tokenize_all(std::span<const Req> reqs,
                                                                        const char* what) const {
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    auto t = tokenize_prompt(reqs[i].prompt, reqs[i].as_text);
    if (!t.ok()) return Error{fmt::format("{} request {}: {}", what, i, t.message()), t.code()};
    ids.push_back(std::move(t).value());
  }
  return ids;
}

Result<std::vector<ScoreResult>> EmbeddedBackend::score(std::span<const ScoreRequest> reqs) {
  GAVEL_ASSIGN(auto ids, tokenize_all(reqs, "score"));
  std::vector<ScoreResult> out;
  out.reserve(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    auto s = score_one(reqs[i], ids[i], Upcoming(ids).subspan(i + 1));
    if (!s.ok()) return Error{fmt::format("score request {}: {}", i, s.message()), s.code()};
    out.push_back(std::move(s).value());
  }
  return out;
}

ScoredToken EmbeddedBackend::scored(int32_t id, std::span<const float> logits, int top_k) const {
  const std::vector<double> lp = engine::log_softmax(logits);
  ScoredToken t;
  t.id = id;
  t.token = tok_->token_text(id);
  t.logprob = lp[size_t(id)];
  for (const auto& k : engine::top_k(lp, top_k))
    t.top.push_back({k.id, tok_->token_text(k.id), k.logprob});
  return t;
}

Result<GenerateResult> EmbeddedBackend::generate_tokens(const std::vector<int32_t>& ids,
                                                        const GenerateParams& params) {
  GAVEL_TRY(check_ids(ids));
  return generate_one(GenerateRequest{"", params}, ids, {});
}

Result<std::vector<ScoredToken>> EmbeddedBackend::prompt_logprobs(std::span<const int32_t> ids,
                                                                  int top_k) {
  if (top_k < 0)
    return Error{fmt::format("top_k must be >= 0 (got {})", top_k), StatusCode::kInvalidArgument};
  GAVEL_TRY(check_ids(ids));
  std::vector<ScoredToken> out;
  out.reserve(ids.size());
  ScoredToken first;
  first.id = ids[0];
  first.token = tok_->token_text(ids[0]);
  out.push_back(std::move(first));
  auto seq = model_->new_sequence();
  for (size_t start = 0; start < ids.size(); start += size_t(model::kForwardChunk)) {
    const size_t len = std::min(ids.size() - start, size_t(model::kForwardChunk));
    // Rows for the tokens after each one of this chunk that has a successor.
    const size_t rows = std::min(len, ids.size() - 1 - start);
    std::vector<int> at(rows);
    std::iota(at.begin(), at.end(), 0);
    GAVEL_ASSIGN(auto logits, model_->eval(*seq, ids.subspan(start, len), at));
    cache_->count_evaluated(int64_t(len));
    for (size_t i = 0; i < rows; ++i)
      out.push_back(scored(ids[start + i + 1], logits.row(int(i)), top_k));
  }
  return out;
}

Status EmbeddedBackend::check_ids(std::span<const int32_t> ids) const {
  if (ids.empty()) return Error{"the prompt has no tokens", StatusCode::kInvalidArgument};
  if (ids.size() > size_t(model_->n_ctx()))
    return Error{
        fmt::format("the prompt has {} tokens, more than the context size {} (raise --ctx)",
                    ids.size(), model_->n_ctx()),
        StatusCode::kOutOfRange};
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= tok_->n_vocab())
      return Error{fmt::format("token {} of the prompt ({}) is outside the vocabulary of {}", i,
                               ids[i], tok_->n_vocab()),
                   StatusCode::kOutOfRange};
  return Status::Ok();
}

Result<std::vector<GenerateResult>> EmbeddedBackend::generate(
    std::span<const GenerateRequest> reqs) {
  GAVEL_ASSIGN(auto ids, tokenize_all(reqs, "generate"));
  std::vector<GenerateResult> out;
  out.reserve(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    auto g = generate_one(reqs[i], ids[i], Upcoming(ids).subspan(i + 1));
    if (!g.ok()) return Error{fmt::format("generate request {}: {}", i, g.message()), g.code()};
    out.push_back(std::move(g).value());
  }
  return out;
}

std::string EmbeddedBackend::report() const {
  const PrefixStats& ps = cache_->stats();
  return fmt::format(
      "prefix reuse: {} prompts, {} prompt tokens: {} reused from cached sequences ({:.1f}%), {} "
      "evaluated; {} candidate/generated tokens evaluated\n",
      ps.prompts, ps.prompt_tokens, ps.reused_tokens,
      ps.prompt_tokens ? 100.0 * double(ps.reused_tokens) / double(ps.prompt_tokens) : 0.0,
      ps.evaluated_tokens, ps.continuation_tokens);
}

}  // namespace gavel::backend
