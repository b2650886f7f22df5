// Judgemark v1 (EQ-Bench, 2024): how well a judge's mean creative-writing scores for the
// test writers spread out and agree with reference benchmarks.
//   std_dev   sample standard deviation of the writer scores (ddof = 1)
//   pearson_/kendall_<ref>        over writers whose reference value is known
//   pearson_/kendall_top_8_<ref>  over the 8 writers the judge scored highest, then dropping
//                                 those without a reference value
//   score = 100 * mean(clamp(mean of the kendalls), clamp(mean of the pearsons),
//                      clamp(std_dev / 15) [, clamp(anova_f / 28)])   clamp to [0, 1]
// The ANOVA term (v1 "late") needs per-item scores; pass the published F when only means exist.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gavel/status.h"

namespace gavel::meta {

struct JudgemarkInput {
  std::vector<double> scores;                             // judge's mean score per writer
  std::map<std::string, std::vector<double>> references;  // name -> value per writer (NaN = none)
  double anova_f = -1;                                    // < 0: use the 3-term formula
};

struct JudgemarkResult {
  double std_dev = 0;
  std::map<std::string, double> stats;  // pearson_<ref>, kendall_<ref>, ..._top_8_<ref>
  double avg_kendall = 0, avg_pearson = 0;
  double score = 0;
  int terms = 3;
};

Result<JudgemarkResult> judgemark_v1(const JudgemarkInput& in);

// The score formula above (anova_f < 0: the 3-term form).
double judgemark_v1_score(double avg_kendall, double avg_pearson, double std_dev, double anova_f);
// The same formula over already computed statistics (e.g. the published, rounded ones):
// the mean of the kendall_* and of the pearson_* entries, and std_dev; NaN entries are
// ignored. NaN when a kendall, a pearson or std_dev is missing.
double judgemark_v1_from_stats(const std::map<std::string, double>& stats, double anova_f);

}  // namespace gavel::meta
