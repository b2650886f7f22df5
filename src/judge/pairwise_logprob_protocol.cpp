// The model card's pairwise-logprob protocol behind the JudgeProtocol interface: one task per
// item holding both passes (text1 as A, then text2 as A), judged with two score() requests.
#include <fmt/format.h>

#include "judge/judge_protocol.h"
#include "judge/metrics.h"
#include "judge/templates.h"
#include "meta/judgment_record.h"

namespace gavel::judge {
namespace {

using Json = nlohmann::json;

class PairwiseLogprobTally : public Tally {
 public:
  void add(const Item& item, const Json& rec) override {
    if (!item.label) return;
    auto g = label_text(*item.label);
    if (!g || (*g != "A" && *g != "B")) {  // ties and odd labels are not scored, but counted
      unscored_.add(*item.label);
      return;
    }
    double pa1 = rec["pass1"]["p_A"], pb1 = rec["pass1"]["p_B"];
    double pa2 = rec["pass2"]["p_A"], pb2 = rec["pass2"]["p_B"];
    std::optional<bool> o1, o2;  // equal probabilities prefer neither
    if (pa1 != pb1) o1 = pa1 > pb1;
    if (pa2 != pb2) o2 = pb2 > pa2;
    tally_.add(*g == "A", rec["p_text1"].get<double>(), o1, o2);
  }
  Json report() const override {
    Json m = tally_.report();
    unscored_.report_into(m);
    return m;
  }

 private:
  PairwiseTally tally_;
  UnscoredLabels unscored_;
};

class PairwiseLogprobProtocol : public JudgeProtocol {
 public:
  PairwiseLogprobProtocol(PairwiseLogprobConfig cfg, BackendInfo info, ChatRenderer render,
                          FieldMap fields)
      : JudgeProtocol(std::move(info), std::move(render), std::move(fields)),
        cfg_(std::move(cfg)) {}

  std::string_view name() const override { return judge::name(Protocol::kPairwiseLogprob); }
  std::vector<std::string> item_fields() const override { return {"instruction", "A", "B"}; }
  bool pairwise() const override { return true; }

  Result<std::vector<Task>> render_tasks(const Item& item, const FieldMap& fields) const override {
    GAVEL_ASSIGN(std::string instruction, item_text(item, fields, "instruction"));
    GAVEL_ASSIGN(std::string a, item_text(item, fields, "A"));
    GAVEL_ASSIGN(std::string b, item_text(item, fields, "B"));
    auto prompts = pairwise_prompts(instruction, a, b, cfg_, info_, render_);
    if (!prompts.ok()) return prompts.status().prefixed(fmt::format("line {}: ", item.line));
    Task t;
    t.prompts = {(*prompts)[0], (*prompts)[1]};
    return std::vector<Task>{std::move(t)};
  }

  Status compute(Backend& backend, std::span<Task* const> tasks) const override {
    std::vector<ScoreRequest> reqs;
    for (Task* t : tasks)
      for (size_t i = 0; i < t->prompts.size(); ++i) {
        reqs.push_back(pairwise_score_request(t->prompts[i], cfg_));
        reqs.back().as_text = as_text(*t, i);
      }
    GAVEL_ASSIGN(auto results, backend.score(reqs));
    if (results.size() != reqs.size())
      return Error{
          fmt::format("backend returned {} results for {} requests", results.size(), reqs.size()),
          StatusCode::kInternal};
    for (size_t i = 0; i < tasks.size(); ++i) {
      GAVEL_ASSIGN(PairwisePass p1, read_pass(results[2 * i], cfg_));
      GAVEL_ASSIGN(PairwisePass p2, read_pass(results[2 * i + 1], cfg_));
      PairwiseLogprobJudgment j = combine_passes(std::move(p1), std::move(p2));
      Json rec = to_json(j, false);
      rec["prompt_tokens"] = {results[2 * i].prompt_tokens, results[2 * i + 1].prompt_tokens};
      tasks[i]->record = std::move(rec);
    }
    return Status::Ok();
  }

  void fill_record(Json& out, std::span<const Task> tasks, bool keep_prompts) const override {
    const Task& t = tasks[0];
    for (auto& [k, v] : t.record->items()) out[k] = v;
    const Json& p = out[meta::record::kPText1];
    if (p.is_number()) out[meta::record::kVerdict] = meta::record::pair_verdict(p.get<double>());
    if (keep_prompts) {
      out["pass1"]["prompt"] = t.prompts[0];
      out["pass2"]["prompt"] = t.prompts[1];
    }
    out["key"] = t.key;
    out["cached"] = t.cached;
  }

  std::unique_ptr<Tally> make_tally() const override {
    return std::make_unique<PairwiseLogprobTally>();
  }

  Result<PairVerdict> pair_verdict(const Json& rec) const override {
    PairVerdict v;
    try {
      v.p_text1 = rec.at("p_text1").get<double>();
      for (const char* pass : {"pass1", "pass2"}) {
        const Json& p = rec.at(pass);
        v.passes.push_back({pass[4] == '1', p.at("p_A").get<double>(),
                            p.at("logprob_A").get<double>(), p.at("logprob_B").get<double>()});
      }
    } catch (const Json::exception& e) {
      return Error{fmt::format("pairwise-logprob record: {}", e.what()), StatusCode::kCorruption};
    }
    return v;
  }

 protected:
  KeyParts key_parts() const override {
    std::string sys = cfg_.system_prompt.empty() ? std::string(*find_template("card_system"))
                                                 : cfg_.system_prompt;
    bool topk = cfg_.read == PairwiseLogprobConfig::Read::kTopK;
    return {"card_system", sys,
            Json{{"read", topk ? "top-k" : "full"},
                 {"top_k", topk ? cfg_.top_k : 0},
                 {"candidates", {"A", "B"}}}};
  }

 private:
  PairwiseLogprobConfig cfg_;
};

}  // namespace

std::unique_ptr<JudgeProtocol> make_pairwise_logprob_protocol(const PairwiseLogprobConfig& cfg,
                                                              const BackendInfo& info,
                                                              ChatRenderer render,
                                                              FieldMap fields) {
  return std::make_unique<PairwiseLogprobProtocol>(cfg, info, std::move(render), std::move(fields));
}

}  // namespace gavel::judge
