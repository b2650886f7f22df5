// llama.cpp's llama-server: native /completion with a token-id prompt (used verbatim, no BOS
// added), n_probs for the next-token distribution. Its probabilities are the softmax of the
// raw logits over the whole vocabulary (not affected by temperature or samplers), so a token
// outside the first answer's top-n is fetched exactly by asking for the whole vocabulary.
#include <fmt/format.h>

#include <filesystem>

#include "backend/http_engines.h"

namespace gavel::backend::http::detail {
namespace {

using Json = nlohmann::json;

class LlamaCpp : public Engine {
 public:
  LlamaCpp(const Tokenizer& tok, EngineOptions o) : tok_(tok), o_(std::move(o)) {}

  EngineKind kind() const override { return EngineKind::kLlamaCpp; }
  std::string health_path() const override { return "/health"; }
  std::string logprob_mode() const override { return "raw-full-vocab"; }
  bool sends_ids() const override { return true; }

  Result<ServerModel> describe(Transport& t) override {
    GAVEL_ASSIGN(Reply props, t.get("/props"));
    ServerModel m;
    const Json& p = props.body;
    if (p.contains("default_generation_settings") && p["default_generation_settings"].is_object())
      m.context_length = p["default_generation_settings"].value("n_ctx", 0);
    GAVEL_ASSIGN(Reply models, t.get("/v1/models", /*client_errors=*/true));
    if (models.status == 200 && models.body.contains("data") && models.body["data"].is_array() &&
        !models.body["data"].empty())
      m.id = models.body["data"][0].value("id", "");
    // Without --alias the id is the model's path on that machine: replicas of one file under
    // other directories are the same model, so the file name stands for it.
    const std::string path = p.contains("model_path") && p["model_path"].is_string()
                                 ? p["model_path"].get<std::string>()
                                 : std::string();
    if (m.id.empty() || m.id == path) m.id = std::filesystem::path(path).filename().string();
    if (m.id.empty()) return Error{"llama.cpp server reports no model (GET /props, /v1/models)"};
    return m;
  }

  Result<std::optional<std::vector<int32_t>>> tokenize(Transport& t,
                                                       const std::string& text) override {
    GAVEL_ASSIGN(Reply r,
                 t.post("/tokenize",
                        Json{{"content", text}, {"add_special", false}, {"parse_special", true}}));
    GAVEL_ASSIGN(Json toks, field(r.body, "tokens", "llama.cpp /tokenize"));
    std::vector<int32_t> ids;
    for (const Json& v : toks) {
      if (v.is_number_integer())
        ids.push_back(v.get<int32_t>());
      else if (v.is_object() && v.contains("id"))
        ids.push_back(v["id"].get<int32_t>());
      else
        return Error{"llama.cpp /tokenize: a token is neither an id nor {id, piece}"};
    }
    return std::optional<std::vector<int32_t>>(std::move(ids));
  }

  Result<NextTokenReply> next_token(Transport& t, const NextTokenQuery& q) override {
    NextTokenReply out;
    const int n = std::max(q.top_k, o_.top_n);
    GAVEL_ASSIGN(auto alts, distribution(t, q.ids, n, &out.prompt_tokens));
    out.wanted = pick(q.wanted, alts);
    const bool all = std::all_of(out.wanted.begin(), out.wanted.end(),
                                 [](const TokenLogprob& w) { return w.exact; });
    if (!all && int(alts.size()) >= n) {
      // A wanted token is past the first n: ask again for the whole vocabulary (exact).
      GAVEL_ASSIGN(alts, distribution(t, q.ids, tok_.n_vocab(), nullptr));
      out.wanted = pick(q.wanted, alts);
      out.requests = 2;
    }
    for (TokenLogprob& w : out.wanted)  // the whole distribution came back: absent means p = 0
      if (!w.exact && int(alts.size()) < n) w = {-std::numeric_limits<double>::infinity(), true};
    out.top = make_top(std::move(alts), q.top_k);
    return out;
  }

  Result<GenerateResult> generate(Transport& t, const std::vector<int32_t>& ids, const std::string&,
                                  const GenerateParams& p) override {
    // Every sampler is set explicitly: llama-server's defaults (top-k 40, min-p 0.05, ...)
    // would change what a seeded sample draws.
    Json req = {{"prompt", ids},
                {"n_predict", p.max_tokens},
                {"temperature", p.temperature},
                {"top_p", p.top_p},
                {"top_k", 0},
                {"min_p", 0.0},
                {"typical_p", 1.0},
                {"repeat_penalty", 1.0},
                {"repeat_last_n", 0},
                {"presence_penalty", 0.0},
                {"frequency_penalty", 0.0},
                {"dry_multiplier", 0.0},
                {"xtc_probability", 0.0},
                {"mirostat", 0},
                {"seed", uint32_t(p.seed)},  // llama.cpp's seeds are 32-bit
                {"stop", p.stop},
                {"ignore_eos", false},
                {"cache_prompt", o_.cache_prompt},
                {"return_tokens", true},
                {"stream", false}};
    GAVEL_ASSIGN(Reply r, t.post("/completion", req));
    GenerateResult g;
    GAVEL_ASSIGN(Json content, field(r.body, "content", "llama.cpp /completion"));
    if (!content.is_string()) return Error{"llama.cpp /completion: 'content' is not a string"};
    g.text = content.get<std::string>();
    if (r.body.contains("tokens") && r.body["tokens"].is_array())
      for (const Json& v : r.body["tokens"]) g.tokens.push_back(v.get<int32_t>());
    g.prompt_tokens = int(ids.size());
    const std::string stop_type = r.body.value("stop_type", "");
    if (stop_type == "word")
      g.finish = GenerateResult::Finish::kStop;
    else if (stop_type == "limit")
      g.finish = GenerateResult::Finish::kLength;
    else if (stop_type == "eos")
      g.finish = GenerateResult::Finish::kEos;
    else
      return Error{fmt::format("llama.cpp /completion: unknown stop_type '{}'", stop_type)};
    // The end-of-generation token, where the server lists it, is not part of the result.
    if (g.finish == GenerateResult::Finish::kEos && !g.tokens.empty() &&
        tok_.is_eog(g.tokens.back()))
      g.tokens.pop_back();
    return g;
  }

 private:
  // (id, logprob) of the n most likely next tokens after `ids`.
  Result<std::vector<TopToken>> distribution(Transport& t, const std::vector<int32_t>& ids, int n,
                                             int* prompt_tokens) {
    Json req = {{"prompt", ids},
                {"n_predict", 1},
                {"n_probs", n},
                {"temperature", 0.0},
                {"cache_prompt", o_.cache_prompt},
                {"post_sampling_probs", false},
                {"stream", false}};
    GAVEL_ASSIGN(Reply r, t.post("/completion", req));
    GAVEL_ASSIGN(Json probs, field(r.body, "completion_probabilities/0", "llama.cpp /completion"));
    if (probs.contains("probs"))
      return Error{
          "this llama.cpp server is older than the log-probability API gavel reads "
          "(it reports post-sampling 'probs'; needs a build from 2024-12 or later)"};
    GAVEL_ASSIGN(Json top, field(probs, "top_logprobs", "llama.cpp /completion"));
    if (prompt_tokens && r.body.contains("tokens_evaluated") && !o_.cache_prompt)
      *prompt_tokens = r.body["tokens_evaluated"].get<int>();
    std::vector<TopToken> alts;
    for (const Json& a : top) {
      if (!a.is_object() || !a.contains("id"))
        return Error{"llama.cpp /completion: a top_logprobs entry has no id"};
      alts.push_back({a["id"].get<int32_t>(), a.value("token", ""), read_logprob(a["logprob"])});
    }
    return alts;
  }

  const Tokenizer& tok_;
  EngineOptions o_;
};

}  // namespace

std::unique_ptr<Engine> make_llamacpp(const Tokenizer& tok, const VocabIndex&, EngineOptions o) {
  return std::make_unique<LlamaCpp>(tok, std::move(o));
}

}  // namespace gavel::backend::http::detail
