// OpenAI-compatible routes on the embedded engine: /v1/completions, /v1/chat/completions,
// /v1/models, and llama-server/vLLM-style /tokenize and /detokenize. Requests are parsed and
// tokenized on the HTTP thread; only model work is queued.
#include <fmt/format.h>

#include <atomic>
#include <random>

#include "backend/embedded_backend.h"
#include "chat/chat.h"
#include "server/routes.h"

namespace gavel::server {

using json = nlohmann::ordered_json;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string random_id(const char* prefix) {
  static std::atomic<uint64_t> counter{(uint64_t(std::random_device{}()) << 32) ^
                                       std::random_device{}()};
  return fmt::format("{}-{:016x}", prefix, counter.fetch_add(0x9e3779b97f4a7c15ull));
}

uint64_t default_seed() {
  static std::atomic<uint64_t> next{std::random_device{}()};
  return next.fetch_add(1);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ApiError needs_embedded() {
  return ApiError{
      501, "this route needs the in-process engine (start the server with --model M.gguf)", ""};
}

const char* finish_name(GenerateResult::Finish f) {
  return f == GenerateResult::Finish::kLength ? "length" : "stop";
}

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(int(c));
  return b;
}

// Checks a prompt's length against the server's bound and the context, leaving room for
// `max_tokens` generated tokens.
std::optional<ApiError> check_length(const Context& ctx, size_t prompt_tokens, int max_tokens,
                                     const std::string& param) {
  const int n_ctx = ctx.backend.info().context_length;
  const int limit = ctx.options.max_prompt_tokens > 0 ? ctx.options.max_prompt_tokens : n_ctx;
  if (prompt_tokens > size_t(limit))
    return ApiError{400,
                    fmt::format("the prompt has {} tokens, more than this server's limit of {}",
                                prompt_tokens, limit),
                    param};
  if (prompt_tokens + size_t(max_tokens) > size_t(n_ctx))
    return ApiError{400,
                    fmt::format("the prompt's {} tokens plus max_tokens {} exceed the context size "
                                "{}; lower max_tokens or shorten the prompt",
                                prompt_tokens, max_tokens, n_ctx),
                    "max_tokens"};
  return std::nullopt;
}

GenerateParams generate_params(const Sampling& s, int logprobs) {
  GenerateParams p;
  p.max_tokens = s.max_tokens;
  p.temperature = s.temperature;
  p.top_p = s.top_p;
  p.seed = s.seed ? *s.seed : default_seed();
  p.stop = s.stop;
  p.logprobs = logprobs;
  return p;
}

// The generated tokens whose text lies in the (stop-truncated) output.
size_t tokens_within(const std::vector<ScoredToken>& toks, size_t text_size) {
  size_t offset = 0, n = 0;
  while (n < toks.size() && offset < text_size) offset += toks[n++].token.size();
  return n;
}

struct CompletionOut {
  std::vector<ScoredToken> prompt;  // echo + logprobs: the prompt's tokens
  GenerateResult gen;
  bool generated = false;
};

// OpenAI's legacy logprobs object over prompt tokens (echo) then generated ones.
json completion_logprobs(const CompletionOut& o, size_t gen_tokens, size_t text_start) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offs = json::array();
  size_t offset = text_start;
  auto add = [&](const ScoredToken& t, bool first_prompt_token) {
    tokens.push_back(t.token);
    offs.push_back(offset);
    offset += t.token.size();
    if (first_prompt_token) {
      lps.push_back(nullptr), tops.push_back(nullptr);
      return;
    }
    lps.push_back(t.logprob);
    json top = json::object();
    for (const TopToken& a : t.top) top.emplace(a.token, a.logprob);  // first (best) kept
    tops.push_back(top);
  };
  for (size_t i = 0; i < o.prompt.size(); ++i) add(o.prompt[i], i == 0);
  for (size_t i = 0; i < gen_tokens; ++i) add(o.gen.logprobs[i], false);
  return {
      {"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
}

Reply completions(Context& ctx, const HttpRequest& http) {
  if (!ctx.embedded) return error_reply(needs_embedded());
  auto req = parse_completion_request(http.body, ctx.options.limits);
  if (!req.ok()) return error_reply(req.error());
  if (auto e = ctx.check_model(req->model)) return error_reply(*e);
  const Tokenizer& tok = ctx.embedded->tokenizer();
  std::vector<std::vector<int32_t>> ids;
  for (size_t i = 0; i < req->prompts.size(); ++i) {
    const Prompt& p = req->prompts[i];
    const std::string param = req->prompts.size() == 1 ? "prompt" : fmt::format("prompt[{}]", i);
    ids.push_back(p.is_tokens ? p.tokens
                              : tok.encode(p.text, /*add_special=*/true,
                                           /*parse_special=*/true));
    if (ids.back().empty()) return error_reply({400, "the prompt has no tokens", param});
    if (auto e = check_length(ctx, ids.back().size(), req->sampling.max_tokens, param))
      return error_reply(*e);
    for (size_t k = 0; k < ids.back().size(); ++k)
      if (ids.back()[k] >= tok.n_vocab())
        return error_reply({400,
                            fmt::format("token id {} is outside the vocabulary of {}",
                                        ids.back()[k], tok.n_vocab()),
                            fmt::format("{}[{}]", param, k)});
  }
  const int lp = req->logprobs ? *req->logprobs : -1;
  const GenerateParams params = generate_params(req->sampling, lp);
  const bool echo = req->echo;
  auto out = ctx.on_model<std::vector<CompletionOut>>(
      [c = &ctx, ids, params, lp, echo]() -> ApiResult<std::vector<CompletionOut>> {
        Context& ctx = *c;
        backend::EmbeddedBackend* embedded = ctx.embedded;
        const auto before = embedded->stats();
        std::vector<CompletionOut> outs;
        int64_t generated = 0;
        for (size_t i = 0; i < ids.size(); ++i) {
          const std::string param = ids.size() == 1 ? "prompt" : fmt::format("prompt[{}]", i);
          CompletionOut o;
          if (echo && lp >= 0) {
            auto p = embedded->prompt_logprobs(ids[i], lp);
            if (!p.ok()) return status_error(p.status(), param);
            o.prompt = std::move(p).value();
          }
          if (params.max_tokens > 0) {
            auto g = embedded->generate_tokens(ids[i], params);
            if (!g.ok()) return status_error(g.status(), param);
            o.gen = std::move(g).value();
            o.generated = true;
            generated += int64_t(o.gen.tokens.size());
          }
          outs.push_back(std::move(o));
        }
        const auto& after = embedded->stats();
        ctx.metrics.tokens(after.evaluated_tokens - before.evaluated_tokens +
                               after.continuation_tokens - before.continuation_tokens - generated,
                           generated);
        return outs;
      });
  if (!out.ok()) return error_reply(out.error());
  json choices = json::array();
  int64_t prompt_tokens = 0, completion_tokens = 0;
  for (size_t i = 0; i < out->size(); ++i) {
    const CompletionOut& o = (*out)[i];
    const Prompt& p = req->prompts[i];
    std::string text;
    if (req->echo) text = p.is_tokens ? tok.decode(p.tokens, /*special=*/true) : p.text;
    const size_t text_start = 0;
    text += o.gen.text;
    json c = {{"index", i},
              {"text", text},
              {"logprobs", nullptr},
              {"finish_reason", o.generated ? finish_name(o.gen.finish) : "length"}};
    if (lp >= 0) {
      CompletionOut shown = o;
      if (!req->echo) shown.prompt.clear();
      c["logprobs"] = completion_logprobs(
          shown, o.generated ? tokens_within(o.gen.logprobs, o.gen.text.size()) : 0, text_start);
    }
    choices.push_back(std::move(c));
    prompt_tokens += int64_t(ids[i].size());
    completion_tokens += int64_t(o.gen.tokens.size());
  }
  return Reply{200,
               dump({{"id", random_id("cmpl")},
                     {"object", "text_completion"},
                     {"created", unix_now()},
                     {"model", ctx.model_name},
                     {"system_fingerprint", ctx.backend.info().fingerprint},
                     {"choices", choices},
                     {"usage",
                      {{"prompt_tokens", prompt_tokens},
                       {"completion_tokens", completion_tokens},
                       {"total_tokens", prompt_tokens + completion_tokens}}}}),
               "application/json",
               {}};
}

Reply chat_completions(Context& ctx, const HttpRequest& http) {
  if (!ctx.embedded) return error_reply(needs_embedded());
  auto req = parse_chat_request(http.body, ctx.options.limits);
  if (!req.ok()) return error_reply(req.error());
  if (auto e = ctx.check_model(req->model)) return error_reply(*e);
  const BackendInfo& info = ctx.backend.info();
  if (info.chat_template.empty())
    return error_reply({400, "the served model has no chat template; use /v1/completions", ""});
  json vars = req->template_vars;
  vars["add_generation_prompt"] = true;
  vars["bos_token"] = info.bos_token;
  vars["eos_token"] = info.eos_token;
  auto prompt = chat::render(info.chat_template, req->messages, vars);
  if (!prompt.ok())
    return error_reply(status_error(
        prompt.status().prefixed("the chat template failed on these messages: "), "messages", 400));
  // The template writes BOS itself when the model wants one (as for the judge prompts).
  const Tokenizer& tok = ctx.embedded->tokenizer();
  std::vector<int32_t> ids = tok.encode(*prompt, /*add_special=*/false, /*parse_special=*/true);
  Sampling s = req->sampling;
  const int room = info.context_length - int(ids.size());
  const bool explicit_max = req->max_tokens_given;
  if (!explicit_max) s.max_tokens = std::max(1, std::min(s.max_tokens, room));
  if (auto e = check_length(ctx, ids.size(), s.max_tokens, "messages")) return error_reply(*e);
  const GenerateParams params = generate_params(s, req->logprobs ? req->top_logprobs : -1);
  auto g = ctx.on_model<GenerateResult>([c = &ctx, ids, params]() -> ApiResult<GenerateResult> {
    Context& ctx = *c;
    backend::EmbeddedBackend* embedded = ctx.embedded;
    const auto before = embedded->stats();
    auto r = embedded->generate_tokens(ids, params);
    if (!r.ok()) return status_error(r.status(), "messages");
    const auto& after = embedded->stats();
    const int64_t generated = int64_t(r->tokens.size());
    ctx.metrics.tokens(after.evaluated_tokens - before.evaluated_tokens +
                           after.continuation_tokens - before.continuation_tokens - generated,
                       generated);
    return std::move(r).value();
  });
  if (!g.ok()) return error_reply(g.error());
  json logprobs = nullptr;
  if (req->logprobs) {
    json content = json::array();
    const size_t n = tokens_within(g->logprobs, g->text.size());
    for (size_t i = 0; i < n; ++i) {
      const ScoredToken& t = g->logprobs[i];
      json top = json::array();
      for (const TopToken& a : t.top)
        top.push_back({{"token", a.token}, {"logprob", a.logprob}, {"bytes", bytes_of(a.token)}});
      content.push_back({{"token", t.token},
                         {"logprob", t.logprob},
                         {"bytes", bytes_of(t.token)},
                         {"top_logprobs", top}});
    }
    logprobs = {{"content", content}};
  }
  const int64_t pt = int64_t(ids.size()), ct = int64_t(g->tokens.size());
  return Reply{
      200,
      dump({{"id", random_id("chatcmpl")},
            {"object", "chat.completion"},
            {"created", unix_now()},
            {"model", ctx.model_name},
            {"system_fingerprint", info.fingerprint},
            {"choices",
             {{{"index", 0},
               {"message", {{"role", "assistant"}, {"content", g->text}}},
               {"logprobs", logprobs},
               {"finish_reason", finish_name(g->finish)}}}},
            {"usage",
             {{"prompt_tokens", pt}, {"completion_tokens", ct}, {"total_tokens", pt + ct}}}}),
      "application/json",
      {}};
}

Reply models(Context& ctx) {
  const BackendInfo& info = ctx.backend.info();
  return json_reply({{"object", "list"},
                     {"data",
                      {{{"id", ctx.model_name},
                        {"object", "model"},
                        {"created", ctx.started_at},
                        {"owned_by", "gavel"},
                        {"meta",
                         {{"fingerprint", info.fingerprint},
                          {"context_length", info.context_length},
                          {"embedded", ctx.embedded != nullptr}}}}}}});
}

Reply tokenize(Context& ctx, const HttpRequest& http) {
  if (!ctx.embedded) return error_reply(needs_embedded());
  auto req = parse_tokenize_request(http.body, ctx.options.limits);
  if (!req.ok()) return error_reply(req.error());
  const Tokenizer& tok = ctx.embedded->tokenizer();
  const auto ids = tok.encode(req->text, req->add_special, req->parse_special);
  json tokens = json::array();
  for (int32_t id : ids) {
    if (req->with_pieces)
      tokens.push_back({{"id", id}, {"piece", tok.token_text(id)}});
    else
      tokens.push_back(id);
  }
  return Reply{200,
               dump({{"tokens", tokens},
                     {"count", ids.size()},
                     {"max_model_len", ctx.backend.info().context_length}}),
               "application/json",
               {}};
}

Reply detokenize(Context& ctx, const HttpRequest& http) {
  if (!ctx.embedded) return error_reply(needs_embedded());
  auto req = parse_detokenize_request(http.body, ctx.options.limits);
  if (!req.ok()) return error_reply(req.error());
  const Tokenizer& tok = ctx.embedded->tokenizer();
  for (size_t i = 0; i < req->tokens.size(); ++i)
    if (req->tokens[i] >= tok.n_vocab())
      return error_reply({400,
                          fmt::format("token id {} is outside the vocabulary of {}", req->tokens[i],
                                      tok.n_vocab()),
                          fmt::format("tokens[{}]", i)});
  const std::string text = tok.decode(req->tokens, /*special=*/true);
  // llama-server answers "content", vLLM "prompt".
  return Reply{200, dump({{"content", text}, {"prompt", text}}), "application/json", {}};
}

}  // namespace

std::vector<Route> openai_routes(Context& ctx) {
  Context* c = &ctx;
  return {
      {"POST", "/v1/completions", [c](const HttpRequest& r) { return completions(*c, r); }},
      {"POST", "/v1/chat/completions",
       [c](const HttpRequest& r) { return chat_completions(*c, r); }},
      {"GET", "/v1/models", [c](const HttpRequest&) { return models(*c); }},
      {"POST", "/tokenize", [c](const HttpRequest& r) { return tokenize(*c, r); }},
      {"POST", "/detokenize", [c](const HttpRequest& r) { return detokenize(*c, r); }},
  };
}

}  // namespace gavel::server
