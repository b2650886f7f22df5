// gavel's public meta-evaluation API: how well a judge separates systems, agrees with gold
// scores and labels, and how biased it is. The same statistics as `gavel meta <what>`, on
// values in memory instead of JSONL files (same inputs, same numbers bit for bit).
//
// Conventions (as gavel/judge.h): errors are values; inputs of mismatched length, too few
// values or values out of their domain give an error naming the problem; results are plain
// structs owned by the caller. Statistics that are undefined for the input are NaN.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gavel/status.h"

namespace gavel {

// ---- separability (Judgemark v4 style) ----

// One scored item: the system (group) that wrote it, the prompt it answers, the judge's score.
struct ScoredItem {
  std::string group;
  std::string prompt;
  double value = 0;
};

struct SeparabilityOptions {
  int bootstrap = 1000;  // draws of the prompt set with replacement for the CI (0 = no CI)
  uint64_t seed = 42;    // bootstrap seed
  double level = 0.95;   // CI level
};

struct SeparabilityResult {
  int n_items = 0, n_groups = 0, n_prompts = 0;
  std::vector<std::string> groups, prompts;  // names in order of first appearance
  double anova_f = 0, anova_p = 1;           // one-way ANOVA over groups
  double omega2 = 0;                         // ANOVA effect size omega^2
  double cliff_delta = 0;                    // mean |Cliff's delta| over pairs of groups
  double score = 0;                          // (0.5 omega2 + 0.5 delta) / 0.75 * 100
  int bootstrap = 0;
  double score_ci_low = 0, score_ci_high = 0;  // percentile CIs (NaN without bootstrap)
  double omega2_ci_low = 0, omega2_ci_high = 0;
  double delta_ci_low = 0, delta_ci_high = 0;
};

// Fails with fewer than two groups, a group without items, or no more items than groups.
Result<SeparabilityResult> separability(std::span<const ScoredItem> items,
                                        const SeparabilityOptions& options = {});

// ---- correlation ----

struct CorrelationResult {
  double r = 0;                    // coefficient
  double p = 1;                    // two-sided p-value
  double ci_low = 0, ci_high = 0;  // Fisher-z CI (NaN when n is too small)
  int n = 0;
};

// method: "pearson" | "spearman" | "kendall" (tau-b), with scipy.stats' definitions.
// Fails on different lengths or fewer than 2 values.
Result<CorrelationResult> correlation(std::span<const double> x, std::span<const double> y,
                                      const std::string& method = "pearson", double level = 0.95);

// ---- pairwise judges (the model card's section 3) ----

// One pair of texts judged in both orders. Gold: the text with the higher score is better.
// p_a_pass1 = P(A) with text 1 as A; p_a_pass2 = P(A) with text 2 as A.
struct JudgedPair {
  double score_1 = 0, score_2 = 0;
  double len_1 = 0, len_2 = 0;  // needed by the length-ratio filter only
  double p_a_pass1 = 0.5, p_a_pass2 = 0.5;
};

struct PairFilterOptions {
  double max_len_ratio = 0;  // keep pairs with max(len)/min(len) <= R; 0 = no filter
  double min_diff = 0;       // keep min_diff <= |score_1 - score_2| <= max_diff
  double max_diff = 0;       // 0 = no upper bound
  int sample = 0;            // then draw this many without replacement (0 = all)
  uint64_t seed = 42;
};

struct PairwiseMetricsResult {
  int n = 0;  // pairs evaluated (after filters; gold ties dropped)
  int filtered_out = 0;
  double strict_accuracy = 0;         // hard choice right in both orders
  double positional_consistency = 0;  // same text preferred in both orders
  double mean_target_mass = 0;        // mean of the averaged probability of the better text
  double mean_non_target_mass = 0;
  double soft_accuracy = 0;  // averaged probability of the better text > 0.5
};

Result<PairwiseMetricsResult> pairwise_metrics(std::span<const JudgedPair> pairs,
                                               const PairFilterOptions& filter = {});

// ---- bias ----

// One judged orientation: who sat in position 1 and 2, P(position 1 better), the two texts'
// lengths, and an id shared by the two orientations of one pair (-1: none).
struct JudgedMatchRecord {
  std::string first, second;
  double p_first = 0.5;
  double len_first = 0, len_second = 0;
  int64_t pair_id = -1;
};

struct BiasResult {
  int n = 0;
  double position1_mean_prob = 0, position2_mean_prob = 0, position1_win_rate = 0;
  double position_skew = 0;
  int length_n = 0;
  double longer_win_rate = 0, longer_ev_margin = 0;
  int swap_pairs = 0;
  double swap_flip_rate = 0;
};

Result<BiasResult> bias(std::span<const JudgedMatchRecord> records);

// ---- classification and calibration ----

struct ClassScore {
  std::string label;
  int support = 0, predicted = 0;
  double precision = 0, recall = 0, f1 = 0;
};

struct ClassificationResult {
  int n = 0;
  double accuracy = 0, macro_f1 = 0;
  std::vector<ClassScore> classes;  // sorted by label
};

Result<ClassificationResult> classification(std::span<const std::string> gold,
                                            std::span<const std::string> predicted);

struct CalibrationResult {
  int n = 0, bins = 0;
  double ece = 0, brier = 0;
  std::vector<int> bin_count;
  std::vector<double> bin_confidence, bin_accuracy;
};

// p: predicted probability of the positive outcome; outcome: 0 or 1; equal-width bins.
Result<CalibrationResult> calibration(std::span<const double> p, std::span<const double> outcome,
                                      int bins = 10);

}  // namespace gavel
