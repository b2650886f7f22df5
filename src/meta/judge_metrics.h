// Meta-evaluation of a pairwise judge: the model card's pairwise set (strict accuracy,
// positional consistency, target / non-target probability mass) and bias figures
// (position, length, swap-flip) over judged matches.
#pragma once

#include <cstdint>
#include <vector>

#include "gavel/status.h"

namespace gavel::meta {

// One pair of texts judged in both orientations. Gold: the text with the higher score is
// better. p_a_pass1 = P(A) with text 1 as A; p_a_pass2 = P(A) with text 2 as A.
struct PairJudgment {
  double score_1 = 0, score_2 = 0;
  double len_1 = 0, len_2 = 0;
  double p_a_pass1 = 0.5, p_a_pass2 = 0.5;
};

struct PairFilter {
  double max_len_ratio = 0;  // keep pairs with max(len)/min(len) <= R; 0 = no filter
  double min_diff = 0;       // keep min_diff <= |score_1 - score_2| <= max_diff
  double max_diff = 0;       // 0 = no upper bound
  int sample = 0;            // then draw this many without replacement (0 = all)
  uint64_t seed = 42;
};

struct PairwiseMetrics {
  int n = 0;  // pairs evaluated (after filters; gold ties dropped)
  int filtered_out = 0;
  double strict_accuracy = 0;         // hard choice right in both orientations
  double positional_consistency = 0;  // same text preferred in both orientations
  double mean_target_mass = 0;        // mean of the averaged probability of the better text
  double mean_non_target_mass = 0;
  double soft_accuracy = 0;  // averaged probability of the better text > 0.5
};

// Indices of `pairs` kept by the filter, in sample order.
std::vector<size_t> filter_pairs(const std::vector<PairJudgment>& pairs, const PairFilter& f);
Result<PairwiseMetrics> pairwise_metrics(const std::vector<PairJudgment>& pairs,
                                         const PairFilter& f);

// One judged orientation: `p_first` = probability the text in position 1 is better.
// Records sharing a pair_id >= 0 are the two orientations of one pair (first/second swapped).
struct MatchRecord {
  int first = 0, second = 0;  // ids of the texts/systems in position 1 and 2
  double p_first = 0.5;
  double len_first = 0, len_second = 0;
  long long pair_id = -1;
};

struct BiasReport {
  int n = 0;
  double position1_mean_prob = 0;  // mean P(position 1) over all records
  double position2_mean_prob = 0;
  double position1_win_rate = 0;  // hard wins of position 1 (p > 0.5; p == 0.5 counts half)
  double position_skew = 0;       // position1_mean_prob - position2_mean_prob
  int length_n = 0;               // records whose two lengths differ
  double longer_win_rate = 0;     // hard wins of the longer text (ties count half)
  double longer_ev_margin = 0;    // mean of P(longer) - P(shorter)
  int swap_pairs = 0;             // pairs seen in both orientations
  double swap_flip_rate = 0;      // share of those whose preferred text changes with the swap
};

Result<BiasReport> bias_report(const std::vector<MatchRecord>& records);

}  // namespace gavel::meta
