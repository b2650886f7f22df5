// Meta-evaluation of a pairwise judge: the model card's pairwise set (strict accuracy,
// positional consistency, target / non-target probability mass) and bias figures
// (position, length, swap-flip) over judged matches.
#pragma once

#include <cstdint>
#include <vector>

#include "gavel/meta.h"
#include "gavel/status.h"

namespace gavel::meta {

// The pair, filter and result types are the public API's (include/gavel/meta.h).
using PairJudgment = ::gavel::JudgedPair;
using PairFilter = ::gavel::PairFilterOptions;
using PairwiseMetrics = ::gavel::PairwiseMetricsResult;

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
