// Ollama's /api/generate with `raw: true` (its template is not applied) and `logprobs`.
// Ollama takes text only, names tokens by text and bytes (no ids) and returns at most the top
// 20, so a wanted token outside them is an upper bound (stated per record).
#include <fmt/format.h>

#include "backend/http_engines.h"

namespace gavel::backend::http::detail {
namespace {

using Json = nlohmann::json;
constexpr int kOllamaTopCap = 20;

class Ollama : public Engine {
 public:
  Ollama(const Tokenizer& tok, const VocabIndex& vocab, EngineOptions o)
      : tok_(tok), vocab_(vocab), o_(std::move(o)) {}

  EngineKind kind() const override { return EngineKind::kOllama; }
  std::string health_path() const override { return "/api/version"; }
  std::string logprob_mode() const override { return "raw-top20-text"; }
  int max_top_k() const override { return kOllamaTopCap; }
  bool sends_ids() const override { return false; }

  Result<ServerModel> describe(Transport& t) override {
    if (o_.model.empty()) {  // the one installed model, else the user must say which
      GAVEL_ASSIGN(Reply tags, t.get("/api/tags"));
      GAVEL_ASSIGN(Json models, field(tags.body, "models", "Ollama /api/tags"));
      if (!models.is_array() || models.size() != 1)
        return Error{fmt::format("Ollama has {} models installed; choose one with --backend-model",
                                 models.is_array() ? models.size() : 0)};
      o_.model = models[0].value("name", models[0].value("model", ""));
    }
    GAVEL_ASSIGN(Reply show, t.post("/api/show", Json{{"model", o_.model}}));
    ServerModel m;
    m.id = o_.model;
    if (show.body.contains("model_info") && show.body["model_info"].is_object())
      for (auto& [k, v] : show.body["model_info"].items())
        if (k.size() > 15 && k.substr(k.size() - 15) == ".context_length" && v.is_number_integer())
          m.context_length = v.get<int>();
    if (o_.num_ctx > 0) m.context_length = o_.num_ctx;
    return m;
  }

  // Ollama has no tokenizer route; the start-up check compares token counts instead.
  Result<std::optional<std::vector<int32_t>>> tokenize(Transport&, const std::string&) override {
    return std::optional<std::vector<int32_t>>();
  }

  Result<NextTokenReply> next_token(Transport& t, const NextTokenQuery& q) override {
    if (q.top_k > kOllamaTopCap)
      return Error{
          fmt::format("top-k {} is more than Ollama returns ({})", q.top_k, kOllamaTopCap)};
    Json req = request(q.text, 1, 0.0, 1.0, 0, {});
    req["logprobs"] = true;
    req["top_logprobs"] = kOllamaTopCap;
    GAVEL_ASSIGN(Reply r, t.post("/api/generate", req));
    GAVEL_ASSIGN(Json top, field(r.body, "logprobs/0/top_logprobs", "Ollama /api/generate"));
    std::vector<TopToken> alts;
    for (const Json& a : top) {
      std::string b = a.value("token", "");
      if (a.contains("bytes") && a["bytes"].is_array()) {
        b.clear();
        for (const Json& x : a["bytes"]) b.push_back(char(x.get<int>()));
      }
      alts.push_back({vocab_.find(b), b, read_logprob(a["logprob"])});
    }
    NextTokenReply out;
    out.prompt_tokens = r.body.value("prompt_eval_count", -1);
    out.wanted = pick(q.wanted, alts);
    out.top = make_top(std::move(alts), q.top_k);
    return out;
  }

  Result<GenerateResult> generate(Transport& t, const std::vector<int32_t>& ids,
                                  const std::string& text, const GenerateParams& p) override {
    GAVEL_ASSIGN(Reply r, t.post("/api/generate", request(text, p.max_tokens, p.temperature,
                                                          p.top_p, p.seed, p.stop)));
    GenerateResult g;
    g.prompt_tokens = int(ids.size());
    GAVEL_ASSIGN(Json resp, field(r.body, "response", "Ollama /api/generate"));
    g.text = resp.get<std::string>();
    g.tokens = tok_.encode(g.text, false, false);  // Ollama reports no ids
    const std::string reason = r.body.value("done_reason", "");
    if (reason == "length")
      g.finish = GenerateResult::Finish::kLength;
    else if (reason == "stop")  // an end token or a stop string: Ollama does not say which
      g.finish = p.stop.empty() ? GenerateResult::Finish::kEos : GenerateResult::Finish::kStop;
    else
      return Error{fmt::format("Ollama /api/generate: done_reason '{}'", reason)};
    return g;
  }

 private:
  Json request(const std::string& text, int n, double temperature, double top_p, uint64_t seed,
               const std::vector<std::string>& stop) const {
    Json opts = {{"temperature", temperature},
                 {"top_p", top_p},
                 {"top_k", 0},
                 {"min_p", 0.0},
                 {"repeat_penalty", 1.0},
                 {"presence_penalty", 0.0},
                 {"frequency_penalty", 0.0},
                 {"num_predict", n},
                 {"seed", int64_t(seed & 0x7fffffff)},
                 {"stop", stop}};
    if (o_.num_ctx > 0) opts["num_ctx"] = o_.num_ctx;
    return {{"model", o_.model}, {"prompt", text},  {"raw", true},
            {"stream", false},   {"options", opts}, {"keep_alive", "30m"}};
  }

  const Tokenizer& tok_;
  const VocabIndex& vocab_;
  EngineOptions o_;
};

}  // namespace

std::unique_ptr<Engine> make_ollama(const Tokenizer& tok, const VocabIndex& vocab,
                                    EngineOptions o) {
  return std::make_unique<Ollama>(tok, vocab, std::move(o));
}

}  // namespace gavel::backend::http::detail
