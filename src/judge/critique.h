// Protocol 2, Atla Selene Mini: the judge writes "**Reasoning:** ... **Result:** X" (greedy),
// the parser takes the LAST Result marker and validates X for the mode, and outcomes stay
// distinct (valid, parse_error, invalid_label, truncated): a parse failure never becomes a
// score. Beyond the peers, the verdict distribution at the answer position is read with the
// backend's score(): prompt + critique up to the marker, then each label with the separator
// the model itself wrote (" ", " **", ...), normalised over the mode's labels.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gavel/backend.h"
#include "judge/protocol.h"

namespace gavel::judge {

struct CritiqueConfig {
  Mode mode = Mode::kAbsolute;
  Format format = Format::kOriginal;
  Thinking thinking = Thinking::kTemplateDefault;
  GenerateParams gen{};  // greedy by default
  bool verdict_distribution = true;
};

// Template name for a mode/format ("selene_absolute", "selene_pairwise-json", ...). The
// Appendix E formats exist for pairwise mode only (that is what the paper varied).
Result<std::string> critique_template_name(Mode mode, Format format);
// The user message: Python str.format of the template with `vars`.
Result<std::string> critique_user_content(Mode mode, Format format,
                                          const std::map<std::string, std::string>& vars);
Result<std::string> critique_prompt(const std::string& user_content, const CritiqueConfig& cfg,
                                    const BackendInfo& info, const ChatRenderer& render);

enum class Outcome { kValid, kParseError, kInvalidLabel, kTruncated };
std::string_view name(Outcome o);

struct ParsedVerdict {
  Outcome outcome = Outcome::kParseError;
  std::string label;      // canonical label; set only when outcome == kValid
  std::string raw_label;  // the token after the last marker, as written
  bool has_marker = false;
  size_t marker_end = 0;  // offset just past the last marker ("**Result:**")
  std::string separator;  // text between the marker and the label (" ", " **", "\n")
};

// hit_max_tokens: generation stopped at max_tokens; such output is kTruncated, whatever it says.
ParsedVerdict parse_verdict(std::string_view text, Mode mode, bool hit_max_tokens);

struct VerdictDistribution {
  std::vector<std::string> labels;
  std::vector<double> logprobs;    // of separator+label after the marker
  std::vector<double> probs;       // normalised over the labels
  double mass = 0;                 // sum of exp(logprobs): how much the labels cover
  std::optional<double> expected;  // absolute modes: sum k * P(k)
  bool exact = true;  // false: a label was outside the engine's top-k (its value is a bound)
};

// The score() request for the verdict distribution; needs parsed.has_marker.
ScoreRequest verdict_request(const std::string& prompt, std::string_view generated,
                             const ParsedVerdict& parsed, Mode mode);
Result<VerdictDistribution> read_verdict(const ScoreResult& r, Mode mode);

nlohmann::json to_json(const VerdictDistribution& v);

}  // namespace gavel::judge
