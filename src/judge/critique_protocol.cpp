// Selene's critique-then-result protocol behind the JudgeProtocol interface: one generate()
// per task, then (optionally) one score() for the verdict distribution at the Result marker.
// Pairwise mode with both orders plans two tasks per item, A/B and B/A.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "judge/judge_protocol.h"
#include "judge/metrics.h"
#include "judge/templates.h"
#include "meta/judgment_record.h"

namespace gavel::judge {
namespace {

using Json = nlohmann::json;

std::string finish_name(GenerateResult::Finish f) {
  switch (f) {
    case GenerateResult::Finish::kStop:
      return "stop";
    case GenerateResult::Finish::kEos:
      return "eos";
    case GenerateResult::Finish::kLength:
      return "length";
  }
  return "?";
}

class CritiqueTally : public Tally {
 public:
  explicit CritiqueTally(Mode mode) : mode_(mode) {}

  void add(const Item& item, const Json& rec) override {
    for (const Json& r : rec["passes"]) outcomes_[r["outcome"].get<std::string>()]++;
    if (!item.label) return;
    const Json& gold = *item.label;
    if (mode_ == Mode::kPairwise) {
      auto g = label_text(gold);
      if (!g || (*g != "A" && *g != "B")) {  // ties and odd labels are not scored, but counted
        unscored_.add(gold);
        return;
      }
      std::vector<std::optional<bool>> o;
      for (const Json& x : rec["preferences"])
        o.push_back(x.is_string() ? std::optional<bool>(x == "text1") : std::nullopt);
      std::optional<double> p1;
      if (rec["p_text1"].is_number()) {
        p1 = rec["p_text1"].get<double>();
      } else {
        double s = 0;
        bool all = true;
        for (auto& x : o) all = all && x.has_value(), s += x.value_or(false) ? 1.0 : 0.0;
        if (all) p1 = s / o.size();
      }
      pairwise_.add(*g == "A", p1, o[0], o.size() > 1 ? o[1] : std::nullopt);
    } else if (mode_ == Mode::kAbsolute || mode_ == Mode::kAbsoluteRef) {
      double g;
      if (gold.is_number()) {
        g = gold.get<double>();
      } else if (gold.is_string()) {
        try {
          g = std::stod(gold.get<std::string>());
        } catch (...) {
          unscored_.add(gold);
          return;
        }
      } else {
        unscored_.add(gold);
        return;
      }
      std::optional<double> parsed, expected;
      if (rec["score"].is_number()) parsed = rec["score"].get<double>();
      if (rec["expected_score"].is_number()) expected = rec["expected_score"].get<double>();
      scores_.add(g, parsed, expected);
    } else {
      auto g = label_text(gold);
      if (!g) {
        unscored_.add(gold);
        return;
      }
      ++classify_n_;
      classify_correct_ += rec["verdict"].is_string() && rec["verdict"] == *g;
    }
  }

  Json report() const override {
    Json m;
    if (mode_ == Mode::kPairwise)
      m = pairwise_.report();
    else if (mode_ == Mode::kAbsolute || mode_ == Mode::kAbsoluteRef)
      m = scores_.report();
    else
      m = {{"n_labelled", classify_n_},
           {"accuracy",
            classify_n_ ? Json(double(classify_correct_) / classify_n_) : Json(nullptr)}};
    m["outcomes"] = outcomes_;
    unscored_.report_into(m);
    return m;
  }

 private:
  Mode mode_;
  PairwiseTally pairwise_;
  UnscoredLabels unscored_;
  ScoreTally scores_;
  int classify_n_ = 0, classify_correct_ = 0;
  std::map<std::string, int> outcomes_;
};

class CritiqueProtocol : public JudgeProtocol {
 public:
  CritiqueProtocol(CritiqueConfig cfg, bool both_orders, std::string template_name,
                   BackendInfo info, ChatRenderer render, FieldMap fields)
      : JudgeProtocol(std::move(info), std::move(render), std::move(fields)),
        cfg_(std::move(cfg)),
        orders_(cfg_.mode == Mode::kPairwise && both_orders ? 2 : 1),
        template_name_(std::move(template_name)) {}

  std::string_view name() const override { return judge::name(Protocol::kCritique); }
  bool pairwise() const override { return cfg_.mode == Mode::kPairwise; }

  std::vector<std::string> item_fields() const override {
    switch (cfg_.mode) {
      case Mode::kPairwise:
        return {"instruction", "A", "B"};
      case Mode::kAbsoluteRef:
      case Mode::kClassifyRef:
        return {"instruction", "response", "reference"};
      case Mode::kAbsolute:
      case Mode::kClassify:
        return {"instruction", "response"};
    }
    return {};
  }

  Result<std::vector<Task>> render_tasks(const Item& item, const FieldMap& fields) const override {
    std::vector<Task> tasks;
    for (int order = 0; order < orders_; ++order) {
      auto vars = selene_vars(item, fields, cfg_.mode, cfg_.format, order == 1);
      if (!vars.ok()) return vars.status();
      auto user = critique_user_content(cfg_.mode, cfg_.format, *vars);
      if (!user.ok()) return user.status().prefixed(fmt::format("line {}: ", item.line));
      auto prompt = critique_prompt(*user, cfg_, info_, render_);
      if (!prompt.ok()) return prompt.status().prefixed(fmt::format("line {}: ", item.line));
      Task t;
      t.order = order;
      t.prompts = {std::move(*prompt)};
      tasks.push_back(std::move(t));
    }
    return tasks;
  }

  Status compute(Backend& backend, std::span<Task* const> tasks) const override {
    std::vector<GenerateRequest> reqs;
    for (Task* t : tasks) reqs.push_back(GenerateRequest{t->prompts[0], cfg_.gen, as_text(*t, 0)});
    GAVEL_ASSIGN(auto gens, backend.generate(reqs));
    if (gens.size() != reqs.size())
      return Error{
          fmt::format("backend returned {} generations for {} requests", gens.size(), reqs.size()),
          StatusCode::kInternal};
    std::vector<ParsedVerdict> parsed;
    std::vector<ScoreRequest> vreqs;
    std::vector<size_t> vidx;
    for (size_t i = 0; i < tasks.size(); ++i) {
      parsed.push_back(parse_verdict(gens[i].text, cfg_.mode,
                                     gens[i].finish == GenerateResult::Finish::kLength));
      if (cfg_.verdict_distribution && parsed.back().has_marker) {
        vreqs.push_back(
            verdict_request(tasks[i]->prompts[0], gens[i].text, parsed.back(), cfg_.mode));
        vreqs.back().as_text = as_text(*tasks[i], 0);  // the prompt is the request's prefix
        vidx.push_back(i);
      }
    }
    std::vector<std::optional<VerdictDistribution>> verdicts(tasks.size());
    if (!vreqs.empty()) {
      GAVEL_ASSIGN(auto scored, backend.score(vreqs));
      if (scored.size() != vreqs.size())
        return Error{"backend returned a wrong number of verdict scores", StatusCode::kInternal};
      for (size_t k = 0; k < vidx.size(); ++k) {
        GAVEL_ASSIGN(VerdictDistribution v, read_verdict(scored[k], cfg_.mode));
        verdicts[vidx[k]] = std::move(v);
      }
    }
    for (size_t i = 0; i < tasks.size(); ++i) {
      const ParsedVerdict& pv = parsed[i];
      Json rec = {{"critique", gens[i].text},
                  {"finish", finish_name(gens[i].finish)},
                  {"generated_tokens", gens[i].tokens.size()},
                  {"prompt_tokens", gens[i].prompt_tokens},
                  {"outcome", judge::name(pv.outcome)},
                  {"label", pv.outcome == Outcome::kValid ? Json(pv.label) : Json(nullptr)},
                  {"raw_label", pv.has_marker ? Json(pv.raw_label) : Json(nullptr)},
                  {"verdict", verdicts[i] ? to_json(*verdicts[i]) : Json(nullptr)}};
      if (cfg_.mode == Mode::kPairwise) rec["order"] = tasks[i]->order == 0 ? "AB" : "BA";
      tasks[i]->record = std::move(rec);
    }
    return Status::Ok();
  }

  void fill_record(Json& out, std::span<const Task> tasks, bool keep_prompts) const override {
    out["mode"] = judge::name(cfg_.mode);
    out["format"] = judge::name(cfg_.format);
    Json passes = Json::array();
    for (const Task& t : tasks) {
      Json r = *t.record;
      r["key"] = t.key;
      r["cached"] = t.cached;
      if (keep_prompts) r["prompt"] = t.prompts[0];
      passes.push_back(std::move(r));
    }
    const Json& first = passes[0];
    if (cfg_.mode == Mode::kAbsolute || cfg_.mode == Mode::kAbsoluteRef) {
      out["score"] = first["label"].is_string() ? Json(std::stoi(first["label"].get<std::string>()))
                                                : Json(nullptr);
      out["expected_score"] =
          first["verdict"].is_object() ? first["verdict"]["expected"] : Json(nullptr);
    } else if (cfg_.mode == Mode::kClassify || cfg_.mode == Mode::kClassifyRef) {
      out["verdict"] = first["label"];
      out["p_yes"] =
          first["verdict"].is_object() ? first["verdict"]["probs"]["Yes"] : Json(nullptr);
    } else {
      // Preferences in terms of the input's texts: text1 = the record's A field.
      std::vector<Json> pref;
      double p_sum = 0;
      bool all_p = true;
      for (const Json& r : passes) {
        bool swapped = r["order"] == "BA";
        if (r["label"].is_string()) {
          bool says_a = r["label"] == "A";
          pref.push_back((says_a != swapped) ? "text1" : "text2");
        } else {
          pref.push_back(nullptr);
        }
        if (r["verdict"].is_object()) {
          double pa = r["verdict"]["probs"]["A"].get<double>();
          p_sum += swapped ? 1.0 - pa : pa;
        } else {
          all_p = false;
        }
      }
      out["preferences"] = pref;
      bool agree =
          std::all_of(pref.begin(), pref.end(), [&](const Json& x) { return x == pref[0]; });
      out["preferred"] = agree ? pref[0] : Json(nullptr);
      out[meta::record::kPText1] = all_p ? Json(p_sum / passes.size()) : Json(nullptr);
      // In the label's vocabulary; orders that disagree (or an unparsed one) give no verdict.
      out[meta::record::kVerdict] = !agree || pref[0].is_null() ? Json(nullptr)
                                    : pref[0] == "text1"        ? Json("A")
                                                                : Json("B");
    }
    out["passes"] = std::move(passes);
  }

  std::unique_ptr<Tally> make_tally() const override {
    return std::make_unique<CritiqueTally>(cfg_.mode);
  }

  Result<PairVerdict> pair_verdict(const Json& rec) const override {
    if (cfg_.mode != Mode::kPairwise)
      return Error{fmt::format("critique mode {} does not judge pairs", judge::name(cfg_.mode)),
                   StatusCode::kInvalidArgument};
    PairVerdict v;
    try {
      if (rec.at("p_text1").is_number()) v.p_text1 = rec["p_text1"].get<double>();
      for (const Json& r : rec.at("passes")) {
        PassVerdict p;
        p.text1_is_a = r.at("order") != "BA";
        if (r.at("verdict").is_object()) {
          p.p_a = r["verdict"].at("probs").at("A").get<double>();
          p.logprob_a = r["verdict"].at("logprobs").at("A").get<double>();
          p.logprob_b = r["verdict"].at("logprobs").at("B").get<double>();
        }
        v.passes.push_back(p);
      }
    } catch (const Json::exception& e) {
      return Error{fmt::format("critique record: {}", e.what()), StatusCode::kCorruption};
    }
    return v;
  }

 protected:
  KeyParts key_parts() const override {
    const GenerateParams& g = cfg_.gen;
    return {template_name_, std::string(*find_template(template_name_)),
            Json{{"mode", judge::name(cfg_.mode)},
                 {"max_tokens", g.max_tokens},
                 {"temperature", g.temperature},
                 {"top_p", g.top_p},
                 {"seed", g.seed},
                 {"stop", g.stop},
                 {"verdict_distribution", cfg_.verdict_distribution}}};
  }

 private:
  CritiqueConfig cfg_;
  int orders_;
  std::string template_name_;
};

}  // namespace

Result<std::unique_ptr<JudgeProtocol>> make_critique_protocol(const CritiqueConfig& cfg,
                                                              bool both_orders,
                                                              const BackendInfo& info,
                                                              ChatRenderer render,
                                                              FieldMap fields) {
  GAVEL_ASSIGN(std::string tname, critique_template_name(cfg.mode, cfg.format));
  if (!find_template(tname)) return Error{"template not embedded: " + tname, StatusCode::kInternal};
  return std::unique_ptr<JudgeProtocol>(std::make_unique<CritiqueProtocol>(
      cfg, both_orders, std::move(tname), info, std::move(render), std::move(fields)));
}

}  // namespace gavel::judge
