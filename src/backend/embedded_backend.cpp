#include "backend/embedded_backend.h"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
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
  if (options.decode_batch < 1 || options.decode_batch > 256)
    return Error{fmt::format("decode_batch must be 1..256 (got {})", options.decode_batch),
                 StatusCode::kInvalidArgument};
  if (options.cache_entries < 0)
    return Error{fmt::format("cache_entries must be >= 0 (got {})", options.cache_entries),
                 StatusCode::kInvalidArgument};
  auto b = std::unique_ptr<EmbeddedBackend>(new EmbeddedBackend());
  GAVEL_ASSIGN(b->model_, engine::load_model(path, {options.threads, options.ctx}));
  b->cache_ = std::make_unique<PrefixCache>(*b->model_, options.cache_entries);
  b->decode_batch_ = options.decode_batch;
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
  // Loading freed transient copies (the vocabulary's string arrays; 6 MiB measured) below live
  // blocks, where the heap cannot shrink: give those pages back (peak RSS), and the file pages
  // the tokenizer and template were read from.
  f.release_metadata_pages();
  malloc_trim(0);
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

// One request being decoded: its prompt, sampler and output so far.
struct EmbeddedBackend::Decoding {
  const GenerateRequest* req = nullptr;
  std::shared_ptr<const PrefixCache::Entry> prompt;
  std::mt19937_64 rng;
  GenerateResult g;
  std::unique_ptr<engine::Sequence> seq;  // the prompt's clone, made at the first decode step
  std::vector<float> logits;              // of the next position
};

// Samples d's next token from d.logits and appends it (an end token is not appended). True
// when the request goes on and the token must be evaluated; false when d is finished.
bool EmbeddedBackend::advance(Decoding& d, int32_t& next) {
  const GenerateParams& p = d.req->params;
  next = sample_token(d.logits, p.temperature, p.top_p, d.rng);
  if (tok_->is_eog(next)) {
    d.g.finish = GenerateResult::Finish::kEos;
    return false;
  }
  if (p.logprobs >= 0) d.g.logprobs.push_back(scored(next, d.logits, p.logprobs));
  d.g.tokens.push_back(next);
  const size_t before = d.g.text.size();
  d.g.text += tok_->decode(std::span(&next, 1));
  if (!p.stop.empty()) {
    const size_t at = find_stop(d.g.text, before, p.stop);
    if (at != std::string::npos) {
      d.g.text.resize(at);
      d.g.finish = GenerateResult::Finish::kStop;
      return false;
    }
  }
  return int(d.g.tokens.size()) < p.max_tokens;
}

void EmbeddedBackend::finish(Decoding& d) {
  if (!d.seq) {
    d.prompt.reset();
    return;
  }
  // The prompt plus its critique: the verdict-distribution request that follows starts so.
  // Decoded tokens ran one per chunk: only the prompt's exact part is reusable.
  auto e = std::make_shared<PrefixCache::Entry>();
  e->seq = std::move(d.seq);
  e->last_logits = std::move(d.logits);
  e->exact_len = d.prompt->exact_len;
  e->logits_exact = false;
  cache_->remember(std::move(e));
  d.prompt.reset();  // the cache decides whether it stays
}

Result<std::vector<GenerateResult>> EmbeddedBackend::generate_batch(
    std::span<const GenerateRequest> reqs, std::span<const std::vector<int32_t>> ids) {
  for (size_t i = 0; i < reqs.size(); ++i)
    GAVEL_TRY(check_params(reqs[i].params).prefixed(fmt::format("generate request {}: ", i)));
  std::vector<Decoding> ds(reqs.size());
  // Request i joins the decoding: its prompt from the cache or prefilled. The prompts after it
  // guide what the cache keeps; the critique's follow-up (the verdict distribution) starts
  // with this one.
  auto start = [&](size_t i) -> Status {
    Decoding& d = ds[i];
    d.req = &reqs[i];
    auto prompt = cache_->prefill(ids[i], ids.subspan(i + 1), /*extended=*/true);
    if (!prompt.ok()) return prompt.status().prefixed(fmt::format("generate request {}: ", i));
    d.prompt = std::move(prompt).value();
    d.rng.seed(d.req->params.seed);
    d.g.prompt_tokens = int(ids[i].size());
    d.g.finish = GenerateResult::Finish::kLength;
    d.logits = d.prompt->last_logits;
    return Status::Ok();
  };
  // Continuous batching: up to decode_batch_ requests decode together, and a finished one's
  // place goes to the next request at once. Every step each of them samples a token, then one
  // weight pass evaluates the new tokens of all (engine::LoadedModel::eval_decode: each gets
  // the bits of decoding alone, so neither the batch nor its changes alter a text).
  std::vector<size_t> active;
  size_t next_req = 0;
  while (true) {
    while (active.size() < size_t(decode_batch_) && next_req < reqs.size()) {
      GAVEL_TRY(start(next_req));
      active.push_back(next_req++);
    }
    if (active.empty()) break;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<engine::Sequence*> seqs;
    std::vector<int32_t> toks;
    std::vector<Decoding*> live;
    std::vector<size_t> still;
    for (const size_t i : active) {
      Decoding& d = ds[i];
      int32_t next = 0;
      if (!advance(d, next)) {
        finish(d);
        continue;
      }
      if (!d.seq) d.seq = d.prompt->seq->clone();
      if (d.seq->n_past() >= model_->n_ctx())
        return Error{fmt::format("generate request {}: generation filled the context size {} ({} "
                                 "prompt + {} generated tokens); raise --ctx or lower "
                                 "--max-tokens",
                                 i, model_->n_ctx(), d.g.prompt_tokens, d.g.tokens.size()),
                     StatusCode::kOutOfRange};
      seqs.push_back(d.seq.get());
      toks.push_back(next);
      live.push_back(&d);
      still.push_back(i);
    }
    active = std::move(still);
    if (!seqs.empty()) {
      GAVEL_ASSIGN(auto logits, model_->eval_decode(seqs, toks));
      decode_.steps += 1;
      decode_.tokens += int64_t(seqs.size());
      cache_->count_continuation(int64_t(seqs.size()));
      for (size_t k = 0; k < live.size(); ++k) {
        const auto row = logits.row(int(k));
        live[k]->logits.assign(row.begin(), row.end());
      }
    }
    decode_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::vector<GenerateResult> out;
  out.reserve(ds.size());
  for (Decoding& d : ds) out.push_back(std::move(d.g));
  return out;
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
  const GenerateRequest req{"", params};
  GAVEL_ASSIGN(auto g, generate_batch(std::span(&req, 1), std::span(&ids, 1)));
  return std::move(g[0]);
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
  return generate_batch(reqs, ids);
}

std::string EmbeddedBackend::report() const {
  const PrefixStats& ps = cache_->stats();
  std::string decoding;
  if (decode_.steps)
    decoding = fmt::format(
        "decoding: {} tokens in {} steps ({:.2f} per step), {:.2f} s (sampling included), {:.2f} "
        "tokens/s\n",
        decode_.tokens, decode_.steps, double(decode_.tokens) / double(decode_.steps),
        decode_.seconds, decode_.seconds > 0 ? double(decode_.tokens) / decode_.seconds : 0.0);
  return decoding +
         fmt::format(
             "prefix reuse: {} prompts, {} prompt tokens: {} reused from cached sequences "
             "({:.1f}%), {} "
             "evaluated; {} candidate/generated tokens evaluated\n",
             ps.prompts, ps.prompt_tokens, ps.reused_tokens,
             ps.prompt_tokens ? 100.0 * double(ps.reused_tokens) / double(ps.prompt_tokens) : 0.0,
             ps.evaluated_tokens, ps.continuation_tokens);
}

}  // namespace gavel::backend
