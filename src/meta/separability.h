// How cleanly a judge's scores separate the systems it scores (Judgemark v4 style):
// one-way ANOVA effect size omega^2, mean absolute pairwise Cliff's delta, and their
// combination, with a bootstrap CI that resamples prompts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gavel/status.h"

namespace gavel::meta {

struct Anova {
  double f = 0;       // F statistic (scipy.stats.f_oneway)
  double p = 1;       // upper tail of F(k-1, N-k)
  double omega2 = 0;  // (SSB - (k-1) MSW) / (SST + MSW)
  double ss_between = 0, ss_within = 0;
  int k = 0, n = 0;
};

// groups: one vector of values per system; every group needs >= 1 value, N > k, k >= 2.
Result<Anova> one_way_anova(const std::vector<std::vector<double>>& groups);

// Cliff's delta of x over y: (#{x_i > y_j} - #{x_i < y_j}) / (|x| |y|), in [-1, 1].
double cliffs_delta(const std::vector<double>& x, const std::vector<double>& y);
// Mean of |delta| over all unordered pairs of groups.
double mean_abs_cliffs_delta(const std::vector<std::vector<double>>& groups);

// Combined separability = (0.5 omega^2 + 0.5 delta) / 0.75 * 100 (Judgemark v4 scaling;
// may exceed 100).
double combined_separability(double omega2, double mean_abs_delta);

struct Item {
  int group = 0;   // system index
  int prompt = 0;  // prompt index (resampling unit)
  double value = 0;
};

struct Separability {
  Anova anova;
  double cliff_delta = 0;
  double score = 0;
  // Percentile bootstrap over prompts (NaN when bootstrap == 0).
  double score_ci_low = 0, score_ci_high = 0;
  double omega2_ci_low = 0, omega2_ci_high = 0;
  double delta_ci_low = 0, delta_ci_high = 0;
  int bootstrap = 0;
};

// Separability over items; the CI draws the set of prompts with replacement `bootstrap`
// times (each drawn prompt contributes all its items), seeded, percentile (1-level)/2.
Result<Separability> separability(const std::vector<Item>& items, int n_groups, int n_prompts,
                                  int bootstrap, uint64_t seed, double level = 0.95);

}  // namespace gavel::meta
