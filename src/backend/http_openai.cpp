// OpenAI-compatible /v1/completions: vLLM (token-id prompts, `return_tokens_as_token_ids`,
// specific-token log-probabilities through `logprob_token_ids` where the server has them, and
// teacher forcing with `prompt_logprobs` otherwise — both exact), and any other
// OpenAI-compatible server (llama-cpp-python, ...): a text prompt and the legacy top-k dict
// keyed by token text, so a token outside the top-n is only bounded.
#include <fmt/format.h>

#include "backend/http_engines.h"

namespace gavel::backend::http::detail {
namespace {

using Json = nlohmann::json;

// "token_id:123" (vLLM with return_tokens_as_token_ids) -> 123; -1 otherwise.
int32_t token_id_key(const std::string& key) {
  constexpr std::string_view p = "token_id:";
  if (key.rfind(p, 0) != 0) return -1;
  try {
    size_t used = 0;
    const long v = std::stol(key.substr(p.size()), &used);
    return used == key.size() - p.size() && v >= 0 ? int32_t(v) : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

class OpenAI : public Engine {
 public:
  OpenAI(const Tokenizer& tok, const VocabIndex& vocab, EngineOptions o, bool vllm)
      : tok_(tok), vocab_(vocab), o_(std::move(o)), vllm_(vllm) {}

  EngineKind kind() const override { return vllm_ ? EngineKind::kVllm : EngineKind::kOpenAI; }
  std::string health_path() const override { return vllm_ ? "/health" : "/v1/models"; }
  std::string logprob_mode() const override {
    if (vllm_) return token_ids_ ? "raw-token-ids" : "raw-prompt-logprobs";
    return fmt::format("top{}-text", o_.top_n);
  }
  int max_top_k() const override { return vllm_ ? o_.max_logprobs : 0; }
  bool sends_ids() const override { return vllm_; }

  Result<ServerModel> describe(Transport& t) override {
    GAVEL_ASSIGN(Reply r, t.get("/v1/models"));
    GAVEL_ASSIGN(Json data, field(r.body, "data", "/v1/models"));
    if (!data.is_array() || data.empty()) return Error{"/v1/models lists no model"};
    ServerModel m;
    const Json* chosen = nullptr;
    for (const Json& d : data)
      if (o_.model.empty() || d.value("id", "") == o_.model) {
        if (chosen && o_.model.empty())
          return Error{"the server lists several models; choose one with --backend-model"};
        chosen = &d;
      }
    if (!chosen) return Error{fmt::format("the server does not list model '{}'", o_.model)};
    m.id = chosen->value("id", "");
    m.context_length = chosen->value("max_model_len", 0);
    if (o_.model.empty()) o_.model = m.id;
    // llama-cpp-python's server: its own tokenizer route, and llama.cpp sampler fields.
    if (!vllm_) {
      GAVEL_ASSIGN(Reply x, t.post("/extras/tokenize", Json{{"input", ""}}, true));
      extras_ = x.status == 200;
    }
    return m;
  }

  Result<std::optional<std::vector<int32_t>>> tokenize(Transport& t,
                                                       const std::string& text) override {
    Reply r;
    if (vllm_) {
      GAVEL_ASSIGN(
          r, t.post("/tokenize",
                    Json{{"model", o_.model}, {"prompt", text}, {"add_special_tokens", false}}));
    } else if (extras_) {  // tokenizes as its /v1/completions does (BOS where the model adds one)
      GAVEL_ASSIGN(r, t.post("/extras/tokenize", Json{{"input", text}}));
    } else {
      return std::optional<std::vector<int32_t>>();
    }
    GAVEL_ASSIGN(Json toks, field(r.body, "tokens", "/tokenize"));
    return std::optional<std::vector<int32_t>>(toks.get<std::vector<int32_t>>());
  }

  Status probe_features(Transport& t, const std::vector<int32_t>& ids) override {
    if (!vllm_) return Status::Ok();
    // A server that does not know logprob_token_ids ignores it (extra fields are allowed):
    // ask for an unlikely token and see whether it comes back.
    const int32_t rare = tok_.n_vocab() - 1;
    Json req = base_request(ids);
    req["logprobs"] = 1;
    req["logprob_token_ids"] = {rare};
    GAVEL_ASSIGN(Reply r, t.post("/v1/completions", req, /*client_errors=*/true));
    token_ids_ = false;
    if (r.status == 200) {
      GAVEL_ASSIGN(auto alts, read_top(r.body, 0));
      for (const TopToken& a : alts) token_ids_ = token_ids_ || a.id == rare;
    }
    return Status::Ok();
  }

  Result<NextTokenReply> next_token(Transport& t, const NextTokenQuery& q) override {
    if (vllm_ && q.top_k > o_.max_logprobs)
      return Error{fmt::format("top-k {} is more than this vLLM server returns (--max-logprobs {})",
                               q.top_k, o_.max_logprobs)};
    NextTokenReply out;
    Json req = vllm_ ? base_request(q.ids) : text_request(q.text);
    // With logprob_token_ids vLLM returns the sampled token plus the asked ids instead of the
    // natural top-k, so it serves only requests that need no top-k.
    const bool ids_only =
        vllm_ && token_ids_ && q.top_k == 0 && !q.wanted.empty() && q.wanted.size() <= 128;
    if (ids_only) {
      req["logprobs"] = int(q.wanted.size());
      req["logprob_token_ids"] = q.wanted;
    } else {
      req["logprobs"] =
          vllm_ ? std::min(std::max(q.top_k, 1), o_.max_logprobs) : std::max(q.top_k, o_.top_n);
    }
    GAVEL_ASSIGN(Reply r, t.post("/v1/completions", req));
    GAVEL_ASSIGN(auto alts, read_top(r.body, 0));
    if (r.body.contains("usage") && r.body["usage"].is_object())
      out.prompt_tokens = r.body["usage"].value("prompt_tokens", -1);
    out.wanted = pick(q.wanted, alts);
    if (vllm_) {
      // Teacher forcing for the ids not returned: prompt + id, the prompt log-probability of
      // its last token is exact (the actual token is always in prompt_logprobs).
      std::vector<size_t> missing;
      for (size_t i = 0; i < q.wanted.size(); ++i)
        if (!out.wanted[i].exact) missing.push_back(i);
      if (!missing.empty()) {
        GAVEL_TRY(teacher_force(t, q, missing, out));
        out.requests = 2;
      }
    }
    out.top = make_top(std::move(alts), q.top_k);
    return out;
  }

  Result<GenerateResult> generate(Transport& t, const std::vector<int32_t>& ids,
                                  const std::string& text, const GenerateParams& p) override {
    Json req = vllm_ ? base_request(ids) : text_request(text);
    req["max_tokens"] = p.max_tokens;
    req["temperature"] = p.temperature;
    req["top_p"] = p.top_p;
    req["seed"] = p.seed;
    req["stop"] = p.stop;
    if (vllm_) {
      req["return_token_ids"] = true;
      req["include_stop_str_in_output"] = false;
    }
    GAVEL_ASSIGN(Reply r, t.post("/v1/completions", req));
    GAVEL_ASSIGN(Json choice, field(r.body, "choices/0", "/v1/completions"));
    GenerateResult g;
    g.prompt_tokens = int(ids.size());
    if (!choice.contains("text") || !choice["text"].is_string())
      return Error{"/v1/completions: the choice has no text"};
    g.text = choice["text"].get<std::string>();
    if (choice.contains("token_ids") && choice["token_ids"].is_array())
      g.tokens = choice["token_ids"].get<std::vector<int32_t>>();
    else  // not reported: gavel's tokenization of the text
      g.tokens = tok_.encode(g.text, false, false);
    const std::string reason = choice.value("finish_reason", "");
    if (reason == "length") {
      g.finish = GenerateResult::Finish::kLength;
    } else if (reason == "stop") {
      // vLLM names what stopped it: null = an end token, a string = a stop string.
      const bool on_string =
          vllm_ ? choice.contains("stop_reason") && choice["stop_reason"].is_string()
                : !p.stop.empty();
      g.finish = on_string ? GenerateResult::Finish::kStop : GenerateResult::Finish::kEos;
    } else {
      return Error{fmt::format("/v1/completions: unknown finish_reason '{}'", reason)};
    }
    if (!g.tokens.empty() && tok_.is_eog(g.tokens.back())) g.tokens.pop_back();
    return g;
  }

 private:
  // vLLM: every sampling field explicit (the checkpoint's generation_config.json fills in
  // whatever is omitted), token ids as the prompt, no special tokens added.
  Json base_request(const std::vector<int32_t>& ids) const {
    return {{"model", o_.model},
            {"prompt", ids},
            {"max_tokens", 1},
            {"temperature", 0.0},
            {"top_p", 1.0},
            {"top_k", -1},
            {"min_p", 0.0},
            {"seed", 0},
            {"repetition_penalty", 1.0},
            {"presence_penalty", 0.0},
            {"frequency_penalty", 0.0},
            {"add_special_tokens", false},
            {"return_tokens_as_token_ids", true},
            {"stream", false}};
  }

  Json text_request(const std::string& text) const {
    Json req = {{"model", o_.model},
                {"prompt", text},
                {"max_tokens", 1},
                {"temperature", 0.0},
                {"top_p", 1.0},
                {"seed", 0},
                {"presence_penalty", 0.0},
                {"frequency_penalty", 0.0},
                {"stream", false}};
    if (extras_) {  // llama-cpp-python: its sampler defaults are llama.cpp's
      req["top_k"] = 0;
      req["min_p"] = 0.0;
      req["repeat_penalty"] = 1.0;
    }
    return req;
  }

  // The alternatives at generated position `pos`: the legacy layout (top_logprobs[pos] is a
  // dict keyed by token text or "token_id:N") or the chat-style one llama.cpp and Ollama use
  // (content[pos].top_logprobs is a list of {id?, token, bytes, logprob}).
  Result<std::vector<TopToken>> read_top(const Json& body, size_t pos) const {
    GAVEL_ASSIGN(Json lp, field(body, "choices/0/logprobs", "/v1/completions"));
    std::vector<TopToken> alts;
    if (lp.contains("top_logprobs")) {
      GAVEL_ASSIGN(Json d, field(lp, fmt::format("top_logprobs/{}", pos), "/v1/completions"));
      if (!d.is_object()) return Error{"/v1/completions: top_logprobs entry is not an object"};
      for (auto& [key, v] : d.items()) {
        int32_t id = token_id_key(key);
        if (vllm_ && id < 0)
          return Error{"vLLM answered with token text, not 'token_id:N' keys (an old server?)"};
        if (id < 0) id = vocab_.find(key);
        alts.push_back({id, key, read_logprob(v)});
      }
    } else if (lp.contains("content")) {
      GAVEL_ASSIGN(Json c,
                   field(lp, fmt::format("content/{}/top_logprobs", pos), "/v1/completions"));
      for (const Json& a : c) {
        int32_t id = a.contains("id") ? a["id"].get<int32_t>() : -1;
        std::string b = a.value("token", "");
        if (a.contains("bytes") && a["bytes"].is_array()) {
          b.clear();
          for (const Json& x : a["bytes"]) b.push_back(char(x.get<int>()));
        }
        if (id < 0) id = vocab_.find(b);
        alts.push_back({id, b, read_logprob(a["logprob"])});
      }
    } else {
      return Error{"/v1/completions: no top_logprobs in the answer (logprobs not supported?)"};
    }
    return alts;
  }

  Status teacher_force(Transport& t, const NextTokenQuery& q, const std::vector<size_t>& missing,
                       NextTokenReply& out) const {
    Json prompts = Json::array();
    for (size_t i : missing) {
      std::vector<int32_t> p = q.ids;
      p.push_back(q.wanted[i]);
      prompts.push_back(std::move(p));
    }
    Json req = base_request({});
    req["prompt"] = std::move(prompts);
    req["prompt_logprobs"] = 0;
    GAVEL_ASSIGN(Reply r, t.post("/v1/completions", req));
    GAVEL_ASSIGN(Json choices, field(r.body, "choices", "/v1/completions (prompt_logprobs)"));
    if (!choices.is_array() || choices.size() != missing.size())
      return Error{"/v1/completions (prompt_logprobs): one choice per prompt expected"};
    for (const Json& c : choices) {
      const size_t k = c.value("index", size_t(0));
      if (k >= missing.size()) return Error{"/v1/completions (prompt_logprobs): bad choice index"};
      const int32_t w = q.wanted[missing[k]];
      GAVEL_ASSIGN(Json pl, field(c, "prompt_logprobs", "/v1/completions (prompt_logprobs)"));
      if (!pl.is_array() || pl.empty() || !pl.back().is_object())
        return Error{"/v1/completions: prompt_logprobs missing for the forced token"};
      GAVEL_ASSIGN(Json e,
                   field(pl.back(), std::to_string(w), "/v1/completions (prompt_logprobs)"));
      out.wanted[missing[k]] = {read_logprob(e.is_object() ? e["logprob"] : e), true};
    }
    return Status::Ok();
  }

  const Tokenizer& tok_;
  const VocabIndex& vocab_;
  EngineOptions o_;
  bool vllm_;
  bool token_ids_ = false;  // vLLM honours logprob_token_ids
  bool extras_ = false;     // llama-cpp-python's /extras routes
};

}  // namespace

std::unique_ptr<Engine> make_openai(const Tokenizer& tok, const VocabIndex& vocab, EngineOptions o,
                                    bool vllm) {
  return std::make_unique<OpenAI>(tok, vocab, std::move(o), vllm);
}

}  // namespace gavel::backend::http::detail
