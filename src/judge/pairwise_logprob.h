// Protocol 1, the Qwen3.5-4B Creative-Writing-Judge model card: a fixed system prompt, the user
// content json.dumps({"instruction", "A", "B"}), the next-token log-probabilities of "A" and
// "B" after the generation prompt, and two passes with the texts swapped:
//   S(A) = e^lA / (e^lA + e^lB),  P(text1) = (S1(A) + S2(B)) / 2.
// Read::kFull takes lA, lB from the full distribution (exact); Read::kTopK reproduces the
// card's vLLM code, where a token missing from the top k counts as logprob -100.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gavel/backend.h"
#include "judge/protocol.h"

namespace gavel::judge {

struct PairwiseLogprobConfig {
  std::string system_prompt;  // empty: the card's (template card_system)
  bool ensure_ascii = true;   // the card's evaluate_pair calls json.dumps with defaults
  Thinking thinking = Thinking::kTemplateDefault;
  enum class Read { kFull, kTopK } read = Read::kFull;
  int top_k = 10;  // the card's SamplingParams(logprobs=10)
};

struct PairwisePass {
  std::string prompt;                   // fully rendered chat prompt
  double logprob_a = 0, logprob_b = 0;  // as read (top-k: -100 when absent)
  bool a_in_top = true, b_in_top = true;
  // --read full: false when the engine returned only a top-k without A or B (the value read
  // is then an upper bound); --read top-k reads the top-k by definition and stays true.
  bool exact = true;
  double p_a = 0.5, p_b = 0.5;  // S(A), S(B)
};

struct PairwiseLogprobJudgment {
  PairwisePass pass1, pass2;  // pass1: text1 is A; pass2: text2 is A
  double p_text1 = 0.5, p_text2 = 0.5;
};

// S(A) and S(B) from two log-probabilities, computed as a logistic of the difference so that
// very negative logprobs (where the card's exp() underflows to 0/0) still give the right ratio.
std::pair<double, double> two_way_softmax(double la, double lb);

// json.dumps({"instruction": i, "A": a, "B": b}) as the card's evaluate_pair builds it.
Result<std::string> card_user_content(const std::string& instruction, const std::string& a,
                                      const std::string& b, bool ensure_ascii);

// The two rendered prompts: [0] with text1 as A, [1] with text2 as A.
Result<std::array<std::string, 2>> pairwise_prompts(
    const std::string& instruction, const std::string& text1, const std::string& text2,
    const PairwiseLogprobConfig& cfg, const BackendInfo& info, const ChatRenderer& render);

ScoreRequest pairwise_score_request(const std::string& prompt, const PairwiseLogprobConfig& cfg);
Result<PairwisePass> read_pass(const ScoreResult& r, const PairwiseLogprobConfig& cfg);
PairwiseLogprobJudgment combine_passes(PairwisePass pass1, PairwisePass pass2);

nlohmann::json to_json(const PairwisePass& p, bool keep_prompt);
nlohmann::json to_json(const PairwiseLogprobJudgment& j, bool keep_prompts);

}  // namespace gavel::judge
