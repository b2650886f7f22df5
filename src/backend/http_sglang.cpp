// SGLang's native /generate: `input_ids` used verbatim, `token_ids_logprob` gives the exact
// log-probability of the asked ids and `top_logprobs_num` the top-k; every entry is a
// [logprob, token_id, text|null] triple. Greedy requests get the log-softmax of the logits
// (temperature-scaled only in batches with sampled requests, which gavel never sends with
// scoring), so the numbers are raw.
#include <fmt/format.h>

#include "backend/http_engines.h"

namespace gavel::backend::http::detail {
namespace {

using Json = nlohmann::json;

class Sglang : public Engine {
 public:
  Sglang(const Tokenizer& tok, EngineOptions o) : tok_(tok), o_(std::move(o)) {}

  EngineKind kind() const override { return EngineKind::kSglang; }
  std::string health_path() const override { return "/health"; }
  std::string logprob_mode() const override { return "raw-token-ids"; }
  bool sends_ids() const override { return true; }

  Result<ServerModel> describe(Transport& t) override {
    ServerModel m;
    GAVEL_ASSIGN(Reply models, t.get("/v1/models", /*client_errors=*/true));
    if (models.status == 200 && models.body.contains("data") && models.body["data"].is_array() &&
        !models.body["data"].empty()) {
      m.id = models.body["data"][0].value("id", "");
      m.context_length = models.body["data"][0].value("max_model_len", 0);
    }
    if (m.id.empty()) {
      GAVEL_ASSIGN(Reply info, t.get("/get_model_info"));
      m.id = info.body.value("model_path", "");
    }
    if (m.id.empty()) return Error{"SGLang reports no model (GET /v1/models, /get_model_info)"};
    return m;
  }

  Result<std::optional<std::vector<int32_t>>> tokenize(Transport& t,
                                                       const std::string& text) override {
    GAVEL_ASSIGN(Reply r, t.post("/tokenize", Json{{"prompt", text}, {"add_special_tokens", false}},
                                 /*client_errors=*/true));
    if (r.status == 404) return std::optional<std::vector<int32_t>>();  // older servers
    if (r.status != 200) return Error{fmt::format("SGLang /tokenize: HTTP {}", r.status)};
    GAVEL_ASSIGN(Json toks, field(r.body, "tokens", "SGLang /tokenize"));
    return std::optional<std::vector<int32_t>>(toks.get<std::vector<int32_t>>());
  }

  Result<NextTokenReply> next_token(Transport& t, const NextTokenQuery& q) override {
    Json req = {{"input_ids", q.ids},
                {"sampling_params", sampling(1, 0.0, 1.0, {})},
                {"return_logprob", true},
                {"logprob_start_len", -1},
                {"top_logprobs_num", std::max(q.top_k, 1)},
                {"return_text_in_logprobs", false},
                {"stream", false}};
    if (!q.wanted.empty()) req["token_ids_logprob"] = q.wanted;
    GAVEL_ASSIGN(Reply r, t.post("/generate", req));
    const Json& body = r.body.is_array() && r.body.size() == 1 ? r.body[0] : r.body;
    GAVEL_ASSIGN(Json meta, field(body, "meta_info", "SGLang /generate"));
    NextTokenReply out;
    out.prompt_tokens = meta.value("prompt_tokens", -1);
    GAVEL_ASSIGN(auto top, triples(meta, "output_top_logprobs/0"));
    if (!q.wanted.empty()) {
      GAVEL_ASSIGN(auto asked, triples(meta, "output_token_ids_logprobs/0"));
      out.wanted = pick(q.wanted, asked);
      for (size_t i = 0; i < q.wanted.size(); ++i)
        if (!out.wanted[i].exact)
          return Error{fmt::format("SGLang did not return the asked token id {}", q.wanted[i])};
    }
    out.top = make_top(std::move(top), q.top_k);
    return out;
  }

  Result<GenerateResult> generate(Transport& t, const std::vector<int32_t>& ids, const std::string&,
                                  const GenerateParams& p) override {
    Json sp = sampling(p.max_tokens, p.temperature, p.top_p, p.stop);
    sp["sampling_seed"] = p.seed;
    Json req = {{"input_ids", ids}, {"sampling_params", sp}, {"stream", false}};
    GAVEL_ASSIGN(Reply r, t.post("/generate", req));
    const Json& body = r.body.is_array() && r.body.size() == 1 ? r.body[0] : r.body;
    GenerateResult g;
    g.prompt_tokens = int(ids.size());
    GAVEL_ASSIGN(Json text, field(body, "text", "SGLang /generate"));
    g.text = text.get<std::string>();
    if (body.contains("output_ids") && body["output_ids"].is_array())
      g.tokens = body["output_ids"].get<std::vector<int32_t>>();
    else
      g.tokens = tok_.encode(g.text, false, false);
    GAVEL_ASSIGN(Json fr, field(body, "meta_info/finish_reason", "SGLang /generate"));
    const std::string type = fr.is_object()   ? fr.value("type", "")
                             : fr.is_string() ? fr.get<std::string>()
                                              : "";
    if (type == "length") {
      g.finish = GenerateResult::Finish::kLength;
    } else if (type == "stop") {
      // "matched" is the stop token id (an end token) or the stop string.
      const bool on_string = fr.is_object() && fr.contains("matched") && fr["matched"].is_string();
      g.finish = on_string ? GenerateResult::Finish::kStop : GenerateResult::Finish::kEos;
    } else {
      return Error{fmt::format("SGLang /generate: finish reason {}", fr.dump())};
    }
    if (!g.tokens.empty() && tok_.is_eog(g.tokens.back())) g.tokens.pop_back();
    return g;
  }

 private:
  // All sampling fields explicit (SGLang fills omitted ones from generation_config.json).
  static Json sampling(int max_new, double temperature, double top_p,
                       const std::vector<std::string>& stop) {
    return {{"max_new_tokens", max_new},
            {"temperature", temperature},
            {"top_p", top_p},
            {"top_k", -1},
            {"min_p", 0.0},
            {"repetition_penalty", 1.0},
            {"presence_penalty", 0.0},
            {"frequency_penalty", 0.0},
            {"stop", stop},
            {"ignore_eos", false},
            {"skip_special_tokens", true}};
  }

  // [[logprob, id, text|null], ...] at `path` of meta_info.
  Result<std::vector<TopToken>> triples(const Json& meta, const std::string& path) const {
    GAVEL_ASSIGN(Json list, field(meta, path, "SGLang /generate"));
    std::vector<TopToken> out;
    if (list.is_null()) return out;
    for (const Json& e : list) {
      if (!e.is_array() || e.size() < 2 || !e[1].is_number_integer())
        return Error{fmt::format("SGLang: a log-probability entry is not [logprob, id, text]: {}",
                                 e.dump())};
      out.push_back({e[1].get<int32_t>(), "", read_logprob(e[0])});
    }
    return out;
  }

  const Tokenizer& tok_;
  EngineOptions o_;
};

}  // namespace

std::unique_ptr<Engine> make_sglang(const Tokenizer& tok, const VocabIndex&, EngineOptions o) {
  return std::make_unique<Sglang>(tok, std::move(o));
}

}  // namespace gavel::backend::http::detail
