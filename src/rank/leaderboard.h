// Agreement of a ranking with a published leaderboard (a CSV with a name and a rating column,
// e.g. EQ-Bench's creative-writing leaderboard): Kendall tau-b and Spearman over the names on
// both, and the names the leaderboard lacks.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gavel/status.h"
#include "meta/correlation.h"

namespace gavel::rank {

// name -> value from a simple CSV (no quoted commas); a leading '*' on a name is dropped (the
// leaderboard marks some entries with it). Errors name the file, line and column.
Result<std::map<std::string, double>> read_leaderboard_csv(const std::string& path,
                                                           const std::string& name_col,
                                                           const std::string& value_col);

struct LeaderboardAgreement {
  meta::Correlation kendall, spearman;
  std::vector<std::string> missing;  // our names not on the leaderboard
};

Result<LeaderboardAgreement> leaderboard_agreement(const std::map<std::string, double>& board,
                                                   const std::vector<std::string>& names,
                                                   const std::vector<double>& ratings);

}  // namespace gavel::rank
