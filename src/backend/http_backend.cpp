#include "backend/http_backend.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "backend/params.h"
#include "chat/chat.h"
#include "chat/model_template.h"
#include "core/sha256.h"
#include "gguf/gguf.h"

namespace gavel::backend {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using http::NextTokenQuery;
using http::NextTokenReply;

namespace {

// Runs f(0..n-1) on up to `threads` threads (the calling one included).
template <class F>
void parallel_for(size_t n, int threads, F&& f) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) f(i);
  };
  const size_t t = std::min<size_t>(size_t(std::max(1, threads)), n);
  std::vector<std::thread> pool;
  for (size_t k = 1; k < t; ++k) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
}

// A transport that times the calls of one query: server time = the successful attempts,
// clean = no attempt failed.
class TimedTransport : public http::Transport {
 public:
  explicit TimedTransport(http::Pool& pool) : inner_(pool) {}
  Result<http::Reply> send(const std::string& method, const std::string& path, const Json* body,
                           bool client_errors) override {
    auto r = inner_.send(method, path, body, client_errors);
    ++requests;
    if (r.ok()) {
      server_s += r->seconds;
      clean = clean && r->attempts == 1;
    } else {
      clean = false;
    }
    return r;
  }
  int requests = 0;
  double server_s = 0;
  bool clean = true;

 private:
  http::PoolTransport inner_;
};

std::string query_key(const NextTokenQuery& q) {
  std::string k;
  k.reserve(q.ids.size() * 6 + 32);
  for (int32_t id : q.ids) k += fmt::format("{},", id);
  k += '|';
  for (int32_t id : q.wanted) k += fmt::format("{},", id);
  k += fmt::format("|{}", q.top_k);
  return k;
}

constexpr size_t kRecentQueries = 1024;

}  // namespace

Result<std::string> tokenizer_probe_prompt(const std::string& chat_template,
                                           const BackendInfo& info, const std::string& salt) {
  // Shaped like a pairwise judge prompt: JSON with escapes, numbers, accents, CJK, an emoji,
  // runs of spaces and newlines, and the A/B labels.
  const std::string user =
      "{\"instruction\": \"Compare the two answers" + salt +
      ". Which is better?\", \"A\": \"Caf\\u00e9 na\\u00efve \\u2014 12,345.67 items;\\n\\n  "
      "indented\\tline  \", \"B\": \"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x99\x82 "
      "x = [1, 2, 3]\"}";
  Json messages = Json::array(
      {{{"role", "system"}, {"content", "You are an impartial judge. Answer with A or B."}},
       {{"role", "user"}, {"content", user}}});
  Json vars = {{"add_generation_prompt", true},
               {"bos_token", info.bos_token},
               {"eos_token", info.eos_token}};
  auto r = chat::render(chat_template, messages, vars);
  if (!r.ok()) return r.status().prefixed("rendering the tokenizer probe with the chat template: ");
  return r;
}

std::string describe_token_mismatch(const std::vector<int32_t>& ours,
                                    const std::vector<int32_t>& theirs, const Tokenizer& tok) {
  if (ours == theirs) return "";
  const int32_t bos = tok.bos();
  if (bos != kNoToken && theirs.size() == ours.size() + 1 && !theirs.empty() && theirs[0] == bos &&
      std::equal(ours.begin(), ours.end(), theirs.begin() + 1)) {
    if (!ours.empty() && ours[0] == bos)
      return fmt::format(
          "doubled BOS: the rendered prompt already starts with BOS {} '{}' and the server adds "
          "another one",
          bos, tok.token_text(bos));
    return fmt::format("the server adds a BOS {} '{}' that the rendered prompt does not have", bos,
                       tok.token_text(bos));
  }
  size_t k = 0;
  while (k < ours.size() && k < theirs.size() && ours[k] == theirs[k]) ++k;
  auto show = [&](const std::vector<int32_t>& v) {
    return k < v.size() ? fmt::format("{} '{}'", v[k], tok.token_text(v[k])) : std::string("(end)");
  };
  return fmt::format(
      "the first difference is at token {}: gavel has {}, the server {} ({} tokens here, {} "
      "there)",
      k, show(ours), show(theirs), ours.size(), theirs.size());
}

HttpBackend::~HttpBackend() = default;

Result<std::unique_ptr<HttpBackend>> HttpBackend::open(HttpOptions options, std::FILE* log) {
  if (options.tokenizer.empty())
    return Status::InvalidArgument(
        "an HTTP backend needs the served model's GGUF for its tokenizer and chat template "
        "(--tokenizer, or --model)");
  auto b = std::unique_ptr<HttpBackend>(new HttpBackend());
  b->opt_ = std::move(options);
  GAVEL_ASSIGN(b->pool_, http::Pool::open(b->opt_.pool));
  {
    GAVEL_ASSIGN(auto file, gguf::File::open(b->opt_.tokenizer));
    GAVEL_ASSIGN(auto tok, Tokenizer::from_gguf(*file));
    b->tok_ = std::make_unique<Tokenizer>(std::move(tok));
    if (file->has("tokenizer.chat_template")) {
      GAVEL_ASSIGN(auto mt, chat::model_template_from_gguf(*file));
      b->info_.chat_template = mt.source;
    }
  }
  auto text = [&](int32_t id) { return id == kNoToken ? std::string() : b->tok_->token_text(id); };
  b->info_.bos_token = text(b->tok_->bos());
  b->info_.special_tokens = b->tok_->parsed_special_texts();
  b->info_.eos_token = text(b->tok_->eos());
  b->vocab_ = std::make_unique<http::VocabIndex>(*b->tok_);

  // The kind: given, or what the first endpoint says it is (the others must agree).
  http::EngineKind kind;
  if (!b->opt_.kind.empty()) {
    GAVEL_ASSIGN(kind, http::parse_kind(b->opt_.kind));
  } else {
    http::PoolTransport first(*b->pool_, {0, 0, false});
    auto k = http::detect_kind(first);
    if (!k.ok()) return k.status().prefixed(b->pool_->url(0) + ": ");
    kind = *k;
  }
  b->engine_ = http::make_engine(kind, *b->tok_, *b->vocab_, b->opt_.engine);
  b->pool_->set_health_path(b->engine_->health_path());
  for (int i = 0; i < b->pool_->size(); ++i) {
    Status st = b->check_endpoint(i, log);
    if (!st.ok()) return st.prefixed(b->pool_->url(i) + ": ");
  }
  b->info_.fingerprint = fmt::format("http:{}:{}:tok={}:lp={}", http::kind_name(kind), b->model_id_,
                                     b->probe_hash_, b->engine_->logprob_mode());
  return b;
}

Status HttpBackend::check_endpoint(int i, std::FILE* log) {
  http::PoolTransport t(*pool_, {i, 0, false});
  if (opt_.kind.empty() && i > 0) {
    GAVEL_ASSIGN(http::EngineKind k, http::detect_kind(t));
    if (k != engine_->kind())
      return Status::InvalidArgument(fmt::format("this endpoint is {}, the first one is {}",
                                                 http::kind_name(k),
                                                 http::kind_name(engine_->kind())));
  }
  GAVEL_ASSIGN(http::ServerModel m, engine_->describe(t));
  if (i == 0) {
    model_id_ = m.id;
  } else if (m.id != model_id_) {
    return Status::InvalidArgument(
        fmt::format("serves model '{}', the first endpoint serves '{}'", m.id, model_id_));
  }
  if (m.context_length > 0 &&
      (info_.context_length == 0 || m.context_length < info_.context_length))
    info_.context_length = m.context_length;
  if (info_.chat_template.empty())
    return Status::NotFound(fmt::format("{} has no chat template", opt_.tokenizer));

  // Tokenization: the server's ids for a rendered judge prompt must be gavel's.
  GAVEL_ASSIGN(std::string probe, tokenizer_probe_prompt(info_.chat_template, info_));
  const std::vector<int32_t> ours = tok_->encode(probe, false, true);
  GAVEL_ASSIGN(auto theirs, engine_->tokenize(t, probe));
  if (theirs) {
    const std::string diff = describe_token_mismatch(ours, *theirs, *tok_);
    if (!diff.empty())
      return Status::InvalidArgument(fmt::format(
          "the server does not tokenize a rendered judge prompt as {} does: {}; is it serving "
          "the same model?",
          opt_.tokenizer, diff));
  }
  // The prompt as the scoring path sends it: the server must count exactly gavel's tokens
  // (this catches a BOS added to a text prompt where no tokenizer route exists). A salted probe,
  // so a server-side prompt cache cannot shorten the count.
  GAVEL_ASSIGN(
      std::string salted,
      tokenizer_probe_prompt(info_.chat_template, info_,
                             fmt::format(" (check {})", Clock::now().time_since_epoch().count())));
  NextTokenQuery q;
  q.ids = tok_->encode(salted, false, true);
  q.text = salted;
  q.top_k = 1;
  GAVEL_ASSIGN(NextTokenReply r, engine_->next_token(t, q));
  if (r.prompt_tokens >= 0 && r.prompt_tokens != int(q.ids.size())) {
    std::vector<int32_t> as_counted = q.ids;
    if (r.prompt_tokens == int(q.ids.size()) + 1 && tok_->bos() != kNoToken)
      as_counted.insert(as_counted.begin(), tok_->bos());
    std::string why = describe_token_mismatch(q.ids, as_counted, *tok_);
    if (as_counted == q.ids) why = "a different tokenization";
    return Status::InvalidArgument(
        fmt::format("the server counted {} prompt tokens where {} gives {}: {}", r.prompt_tokens,
                    opt_.tokenizer, q.ids.size(), why));
  }
  if (!theirs && r.prompt_tokens < 0)
    return Status::Unimplemented(
        "cannot check the server's tokenization: it has no tokenizer route and reports no "
        "prompt token count");
  GAVEL_TRY(engine_->probe_features(t, q.ids));
  if (i == 0) {
    std::string ids;
    for (int32_t id : theirs ? *theirs : ours) ids += fmt::format("{},", id);
    probe_hash_ = sha256_hex(ids).substr(0, 12);
  }
  if (log)
    std::fprintf(log, "backend %s: %s, model '%s', context %d, tokenizer check %s\n",
                 pool_->url(i).c_str(), std::string(http::kind_name(engine_->kind())).c_str(),
                 m.id.c_str(), m.context_length,
                 theirs ? "passed (/tokenize ids equal)" : "passed (token count equal)");
  return Status::Ok();
}

Result<std::vector<int32_t>> HttpBackend::tokenize_prompt(const std::string& prompt,
                                                          std::span<const TextSpan> as_text) const {
  if (prompt.empty()) return Status::InvalidArgument("empty prompt");
  GAVEL_TRY(check_as_text(prompt, as_text));
  // A server that takes text would parse the data's special-token text as special tokens.
  if (!as_text.empty() && !engine_->sends_ids())
    return Status::Unimplemented(fmt::format(
        "the prompt holds special-token text from the judged data, which gavel tokenizes as "
        "text, but a {} server takes prompts as text and would parse it as special tokens; use a "
        "server that takes token ids (llama.cpp, vLLM, SGLang) or --parse-special-in-data (the "
        "model card's behaviour)",
        http::kind_name(engine_->kind())));
  auto ids = tok_->encode(prompt, /*add_special=*/false, as_text);
  if (ids.empty()) return Status::InvalidArgument("the prompt has no tokens");
  if (info_.context_length > 0 && ids.size() > size_t(info_.context_length))
    return Status::OutOfRange(
        fmt::format("the prompt has {} tokens, more than the server's context size {}", ids.size(),
                    info_.context_length));
  return ids;
}

Result<NextTokenReply> HttpBackend::query(const NextTokenQuery& q) {
  const std::string key = query_key(q);
  {
    std::lock_guard lock(mu_);
    auto it = recent_.find(key);
    if (it != recent_.end()) return it->second;
  }
  const auto t0 = Clock::now();
  TimedTransport t(*pool_);
  auto r = engine_->next_token(t, q);
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  std::lock_guard lock(mu_);
  stats_.queries++;
  stats_.http_requests += t.requests;
  if (!r.ok()) return r;
  if (r->requests > 1) stats_.fallbacks++;
  for (const auto& w : r->wanted) stats_.inexact += w.exact ? 0 : 1;
  if (t.clean) {
    stats_.clean++;
    stats_.overhead_s += std::max(0.0, wall - t.server_s);
    stats_.server_s += t.server_s;
  }
  if (recent_order_.size() >= kRecentQueries) {
    recent_.erase(recent_order_.front());
    recent_order_.erase(recent_order_.begin());
  }
  if (recent_.emplace(key, *r).second) recent_order_.push_back(key);
  return r;
}

Result<std::vector<ScoreResult>> HttpBackend::score(std::span<const ScoreRequest> reqs) {
  // Each request needs the next-token distribution after its prompt (the candidates' first
  // tokens and the top-k) and, for a multi-token candidate, after each of its prefixes.
  // Identical positions (candidates sharing a prefix) are asked once.
  struct Need {
    size_t query;  // index into queries
    size_t slot;   // index into that query's wanted
  };
  std::vector<NextTokenQuery> queries;
  std::map<std::pair<size_t, std::vector<int32_t>>, size_t> where;  // (request, cont) -> query
  std::vector<std::vector<std::vector<Need>>> needs(reqs.size());   // [request][candidate][token]
  std::vector<std::vector<std::vector<int32_t>>> cand_ids(reqs.size());
  std::vector<size_t> base(reqs.size());
  for (size_t r = 0; r < reqs.size(); ++r) {
    const ScoreRequest& req = reqs[r];
    auto ids = tokenize_prompt(req.prompt, req.as_text);
    if (!ids.ok()) return ids.status().prefixed(fmt::format("score request {}: ", r));
    if (req.top_k < 0)
      return Status::InvalidArgument(fmt::format("score request {}: top_k must be >= 0", r));
    if (engine_->max_top_k() > 0 && req.top_k > engine_->max_top_k())
      return Status::OutOfRange(
          fmt::format("score request {}: top-k {} is more than this {} server returns ({})", r,
                      req.top_k, http::kind_name(engine_->kind()), engine_->max_top_k()));
    auto position = [&](const std::vector<int32_t>& cont) {
      auto [it, fresh] = where.emplace(std::make_pair(r, cont), queries.size());
      if (fresh) {
        NextTokenQuery q;
        q.ids = *ids;
        q.ids.insert(q.ids.end(), cont.begin(), cont.end());
        q.text = req.prompt + tok_->decode(cont);
        q.top_k = cont.empty() ? req.top_k : 0;
        queries.push_back(std::move(q));
      }
      return it->second;
    };
    base[r] = position({});
    for (const std::string& c : req.candidates) {
      auto t = tok_->encode(c, /*add_special=*/false, /*parse_special=*/false);
      if (t.empty())
        return Status::InvalidArgument(
            fmt::format("score request {}: candidate '{}' has no tokens", r, c));
      std::vector<Need> per_token;
      for (size_t j = 0; j < t.size(); ++j) {
        const size_t qi = position(std::vector<int32_t>(t.begin(), t.begin() + long(j)));
        auto& w = queries[qi].wanted;
        auto at = std::find(w.begin(), w.end(), t[j]);
        if (at == w.end()) at = w.insert(w.end(), t[j]);
        per_token.push_back({qi, size_t(at - w.begin())});
      }
      needs[r].push_back(std::move(per_token));
      cand_ids[r].push_back(std::move(t));
    }
  }

  std::vector<std::optional<Result<NextTokenReply>>> replies(queries.size());
  parallel_for(queries.size(), pool_->capacity(),
               [&](size_t i) { replies[i] = query(queries[i]); });

  std::vector<ScoreResult> out(reqs.size());
  for (size_t r = 0; r < reqs.size(); ++r) {
    for (const auto& need : needs[r])
      for (const Need& n : need)
        if (!replies[n.query]->ok())
          return replies[n.query]->status().prefixed(fmt::format("score request {}: ", r));
    if (!replies[base[r]]->ok())
      return replies[base[r]]->status().prefixed(fmt::format("score request {}: ", r));
    ScoreResult& s = out[r];
    s.prompt_tokens = int(queries[base[r]].ids.size());
    for (TopToken t : replies[base[r]]->value().top) {
      if (t.id >= 0) t.token = tok_->token_text(t.id);
      s.top.push_back(std::move(t));
    }
    for (size_t c = 0; c < reqs[r].candidates.size(); ++c) {
      CandidateScore cs;
      cs.text = reqs[r].candidates[c];
      cs.tokens = cand_ids[r][c];
      for (size_t j = 0; j < needs[r][c].size(); ++j) {
        const Need& n = needs[r][c][j];
        const http::TokenLogprob& w = replies[n.query]->value().wanted[n.slot];
        if (j == 0) cs.first_token_logprob = w.logprob;
        cs.logprob += w.logprob;
        cs.exact = cs.exact && w.exact;
      }
      s.candidates.push_back(std::move(cs));
    }
  }
  return out;
}

Result<GenerateResult> HttpBackend::generate_one(const GenerateRequest& r) {
  GAVEL_TRY(check_params(r.params));
  GAVEL_ASSIGN(auto ids, tokenize_prompt(r.prompt, r.as_text));
  const auto t0 = Clock::now();
  TimedTransport t(*pool_);
  auto g = engine_->generate(t, ids, r.prompt, r.params);
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  std::lock_guard lock(mu_);
  stats_.queries++;
  stats_.http_requests += t.requests;
  if (g.ok() && t.clean) {
    stats_.clean++;
    stats_.overhead_s += std::max(0.0, wall - t.server_s);
    stats_.server_s += t.server_s;
  }
  return g;
}

Result<std::vector<GenerateResult>> HttpBackend::generate(std::span<const GenerateRequest> reqs) {
  std::vector<std::optional<Result<GenerateResult>>> res(reqs.size());
  parallel_for(reqs.size(), pool_->capacity(), [&](size_t i) { res[i] = generate_one(reqs[i]); });
  std::vector<GenerateResult> out;
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (!res[i]->ok()) return res[i]->status().prefixed(fmt::format("generate request {}: ", i));
    out.push_back(std::move(*res[i]).value());
  }
  return out;
}

HttpStats HttpBackend::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string HttpBackend::progress() const {
  const double secs = std::max(1e-9, pool_->seconds_open());
  std::string s;
  for (const auto& e : pool_->stats()) {
    if (!s.empty()) s += "; ";
    s += fmt::format("{} {:.2f} req/s", e.url, double(e.ok) / secs);
    if (e.retried) s += fmt::format(" {} retried", e.retried);
    if (e.failed) s += fmt::format(" {} failed", e.failed);
    if (!e.in_rotation) s += " OUT";
  }
  return s;
}

std::string HttpBackend::report() const {
  const HttpStats st = stats();
  const double secs = std::max(1e-9, pool_->seconds_open());
  std::string s = fmt::format(
      "http backend ({}, model '{}'): {} queries in {} HTTP requests ({} needed a second request "
      "to be exact); {} log-probabilities are upper bounds only (token outside the engine's "
      "top-k)\n",
      http::kind_name(engine_->kind()), model_id_, st.queries, st.http_requests, st.fallbacks,
      st.inexact);
  if (st.clean > 0)
    s += fmt::format(
        "gavel's own time per query: {:.2f} ms (not waiting on a server; {} queries answered at "
        "the first attempt, {:.1f} ms server time each)\n",
        1e3 * st.overhead_s / double(st.clean), st.clean, 1e3 * st.server_s / double(st.clean));
  for (const auto& e : pool_->stats()) {
    s += fmt::format("  {}: {} ok ({:.2f}/s), {} failed, {} retried, {} evictions, {}", e.url, e.ok,
                     double(e.ok) / secs, e.failed, e.retried, e.evictions,
                     e.in_rotation ? "in rotation" : "OUT of rotation");
    if (!e.last_error.empty()) s += "; last error: " + e.last_error;
    s += '\n';
  }
  return s;
}

}  // namespace gavel::backend
