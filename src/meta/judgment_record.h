// The field names of a judgment record: one line of `gavel judge --out` and of a tournament's
// matches.jsonl. The writers (judge/judge_items.cpp, the protocols, tournament/report.cpp) and
// the readers' defaults (`gavel meta pairwise` / `classify`, `gavel rank fit`) take the names
// from here, so the output of one command is the input of the next without field flags.
#pragma once

#include <string>

namespace gavel::meta::record {

inline constexpr const char* kId = "id";
// Gold label of the input: "A" / "B" / "tie" for pairs (A = text 1, the input's A field),
// "Yes" / "No" for classification, a 1-5 score for absolute grading.
inline constexpr const char* kLabel = "label";
// The systems that wrote the texts, carried from the input when it names them: text 1 (the
// input's A field) and text 2 of a pair; the single response of an absolute / classify item.
inline constexpr const char* kSystemA = "model_a";
inline constexpr const char* kSystemB = "model_b";
inline constexpr const char* kSystem = "model";
// P(text 1 better): both orders averaged (null when the judge gave no verdict).
inline constexpr const char* kPText1 = "p_text1";
// The judge's hard verdict in the label's vocabulary ("A" / "B" / "tie" for pairs, "Yes" /
// "No" for classification; null without a verdict), so it compares with kLabel as it is.
inline constexpr const char* kVerdict = "verdict";
// The two passes of a pair judged in both orders: pass 1 has text 1 in position A, pass 2 has
// text 2 there; each holds kPA, the normalised P(position A better) of that pass.
inline constexpr const char* kPass1 = "pass1";
inline constexpr const char* kPass2 = "pass2";
inline constexpr const char* kPA = "p_A";

// The dotted path of a pass's P(A), as the JSONL readers take it ("pass1.p_A").
inline std::string pass_p_a(const char* pass) { return std::string(pass) + "." + kPA; }

// The hard verdict of a P(text 1 better): "A" above one half, "B" below, "tie" at it.
inline const char* pair_verdict(double p_text1) {
  return p_text1 > 0.5 ? "A" : p_text1 < 0.5 ? "B" : "tie";
}

}  // namespace gavel::meta::record
