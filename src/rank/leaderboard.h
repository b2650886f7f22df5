// A published leaderboard (a CSV file with a header row) and how well our ratings agree with
// it: Kendall tau-b (with p and CI) and Spearman over the systems on both.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gavel/status.h"
#include "meta/correlation.h"

namespace gavel::rank {

struct Leaderboard {
  std::map<std::string, double> rating;  // by system name; a repeated name keeps its last row
};

// Reads the `name_column` and `value_column` columns. A leading '*' on a name (some
// leaderboards mark systems that way) is dropped. Errors name the file and line.
Result<Leaderboard> read_leaderboard(const std::string& path, const std::string& name_column,
                                     const std::string& value_column);

struct LeaderboardAgreement {
  meta::Correlation kendall;  // tau-b; kendall.n systems on both
  meta::Correlation spearman;
  std::vector<std::string> not_on_leaderboard;  // our systems the leaderboard lacks
};

// names[i] has rating ratings[i].
Result<LeaderboardAgreement> leaderboard_agreement(const Leaderboard& board,
                                                   const std::vector<std::string>& names,
                                                   const std::vector<double>& ratings);

}  // namespace gavel::rank
