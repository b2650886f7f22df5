#include "judge/pairwise_logprob.h"

#include <fmt/format.h>

#include <cmath>

#include "judge/py_json.h"
#include "judge/templates.h"
#include "meta/judgment_record.h"

namespace gavel::judge {

std::pair<double, double> two_way_softmax(double la, double lb) {
  if (std::isnan(la) || std::isnan(lb)) return {NAN, NAN};
  if (la == lb) return {0.5, 0.5};  // also covers -inf == -inf
  double d = la - lb;               // may be +-inf: exp gives 0 or inf, fine
  double pa = d >= 0 ? 1.0 / (1.0 + std::exp(-d)) : std::exp(d) / (1.0 + std::exp(d));
  double pb = d >= 0 ? std::exp(-d) / (1.0 + std::exp(-d)) : 1.0 / (1.0 + std::exp(d));
  return {pa, pb};
}

Result<std::string> card_user_content(const std::string& instruction, const std::string& a,
                                      const std::string& b, bool ensure_ascii) {
  return py_json_dumps({{"instruction", instruction}, {"A", a}, {"B", b}}, ensure_ascii);
}

Result<std::array<std::string, 2>> pairwise_prompts(
    const std::string& instruction, const std::string& text1, const std::string& text2,
    const PairwiseLogprobConfig& cfg, const BackendInfo& info, const ChatRenderer& render) {
  std::string system = cfg.system_prompt;
  if (system.empty()) system = std::string(*find_template("card_system"));
  nlohmann::json vars = chat_vars(info, cfg.thinking);
  std::array<std::string, 2> out;
  for (int pass = 0; pass < 2; ++pass) {
    GAVEL_ASSIGN(std::string user, card_user_content(instruction, pass == 0 ? text1 : text2,
                                                     pass == 0 ? text2 : text1, cfg.ensure_ascii));
    nlohmann::json messages = nlohmann::json::array(
        {{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", user}}});
    auto prompt = render(messages, vars);
    if (!prompt.ok()) return prompt.status().prefixed("chat template: ");
    out[pass] = std::move(*prompt);
  }
  return out;
}

ScoreRequest pairwise_score_request(const std::string& prompt, const PairwiseLogprobConfig& cfg) {
  return ScoreRequest{
      prompt, {"A", "B"}, cfg.read == PairwiseLogprobConfig::Read::kTopK ? cfg.top_k : 0};
}

Result<PairwisePass> read_pass(const ScoreResult& r, const PairwiseLogprobConfig& cfg) {
  if (r.candidates.size() != 2)
    return Error{
        fmt::format("backend returned {} candidate scores, expected 2 (A, B)", r.candidates.size()),
        StatusCode::kInternal};
  PairwisePass p;
  // The card reads the first token of "A"/"B" (tokenizer.encode(...)[0]).
  const CandidateScore& a = r.candidates[0];
  const CandidateScore& b = r.candidates[1];
  if (cfg.read == PairwiseLogprobConfig::Read::kFull) {
    p.logprob_a = a.first_token_logprob;
    p.logprob_b = b.first_token_logprob;
    p.exact = a.exact && b.exact;
  } else {
    if (a.tokens.empty() || b.tokens.empty())
      return Error{"backend gave no token ids for candidates A/B", StatusCode::kInternal};
    auto lookup = [&](int32_t id, bool& found) {
      for (const TopToken& t : r.top)
        if (t.id == id) {
          found = true;
          return t.logprob;
        }
      found = false;
      return -100.0;  // the card: getattr(lps.get(id), "logprob", -100)
    };
    p.logprob_a = lookup(a.tokens[0], p.a_in_top);
    p.logprob_b = lookup(b.tokens[0], p.b_in_top);
  }
  std::tie(p.p_a, p.p_b) = two_way_softmax(p.logprob_a, p.logprob_b);
  return p;
}

PairwiseLogprobJudgment combine_passes(PairwisePass pass1, PairwisePass pass2) {
  PairwiseLogprobJudgment j;
  j.p_text1 = (pass1.p_a + pass2.p_b) / 2;
  j.p_text2 = (pass1.p_b + pass2.p_a) / 2;
  j.pass1 = std::move(pass1);
  j.pass2 = std::move(pass2);
  return j;
}

nlohmann::json to_json(const PairwisePass& p, bool keep_prompt) {
  nlohmann::json j = {{"logprob_A", p.logprob_a}, {"logprob_B", p.logprob_b},
                      {meta::record::kPA, p.p_a}, {"p_B", p.p_b},
                      {"A_in_top_k", p.a_in_top}, {"B_in_top_k", p.b_in_top},
                      {"exact", p.exact}};
  if (keep_prompt) j["prompt"] = p.prompt;
  return j;
}

nlohmann::json to_json(const PairwiseLogprobJudgment& j, bool keep_prompts) {
  return {{meta::record::kPass1, to_json(j.pass1, keep_prompts)},
          {meta::record::kPass2, to_json(j.pass2, keep_prompts)},
          {meta::record::kPText1, j.p_text1},
          {"p_text2", j.p_text2}};
}

}  // namespace gavel::judge
