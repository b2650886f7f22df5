// What `gavel tournament` writes: matches.jsonl (every match, in play order), leaderboard
// .json/.csv/.md, separability.json, bias.json, and the terminal summary in the model card's
// section-4 layout. Files hold only what the judgments determine (no timings, no new/stored
// counts), so a resumed run writes the same files as an uninterrupted one (matches.jsonl's
// "judged" field aside, which says where each judgment came from in this run).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rank/leaderboard.h"
#include "tournament/driver.h"

namespace gavel::tournament {

struct ReportContext {
  const ResponseSet& set;
  TextBook& texts;
  const Outcome& outcome;
  const Analysis& analysis;
  std::string judge;  // MatchJudge::description()
  int max_response_tokens = 0;
  std::optional<rank::LeaderboardAgreement> board;  // vs a public leaderboard (--leaderboard)
  std::string board_path;
};

Result<std::string> matches_jsonl(const ReportContext& c);
nlohmann::json leaderboard_json(const ReportContext& c);
std::string leaderboard_csv(const ReportContext& c);
std::string leaderboard_markdown(const ReportContext& c);
nlohmann::json separability_json(const ReportContext& c);
nlohmann::json bias_json(const ReportContext& c);

// Writes the six files into `dir` (created if missing), each atomically.
Status write_outputs(const std::string& dir, const ReportContext& c);

// The card's section-4 block for the option (separability, symmetry & bias, leaderboard), then
// the length-controlled ratings and the run's judgment counts.
std::string summary_text(const ReportContext& c, const JudgeCounters& counters, double seconds,
                         int max_rows = 0);

}  // namespace gavel::tournament
