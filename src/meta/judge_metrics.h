// Meta-evaluation of a pairwise judge: the model card's pairwise set (strict accuracy,
// positional consistency, target / non-target probability mass) and bias figures
// (position, length, swap-flip) over judged matches. The one definition of these figures: the
// judge layer's end-of-run summary uses AgreementTally too.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "gavel/meta.h"
#include "gavel/status.h"

namespace gavel::meta {

// Which text one judged order preferred. kNeither: judged, but neither text is preferred
// (equal probabilities).
enum class Choice { kNeither, kText1, kText2 };

// The hard choice of a probability for the text in position A: above 0.5 that text, below
// 0.5 the other one. `text2_first`: text 2 was in position A (the swapped order).
Choice choice_of(double p_a, bool text2_first = false);

// A probability of the right answer read as a hard decision: 1 above 0.5, half at exactly
// 0.5 (a tie), 0 below.
double hard_credit(double p_right);

// The model card's agreement of a pairwise judge with gold labels, accumulated pair by pair.
// Each pair has a gold text; the judge may give an order-averaged probability and a hard
// choice per order (text 1 in position A first, then swapped).
struct Agreement {
  int n = 0;                          // pairs added
  int n_scored = 0;                   // pairs with an averaged probability
  double accuracy = 0;                // mean hard_credit of the averaged P(gold text)
  double mean_target = 0;             // mean averaged P(gold text)
  int n_first_order = 0;              // pairs with a choice in the first order
  double accuracy_first_order = 0;    // share of those choosing the gold text
  int n_both_orders = 0;              // pairs with a choice in both orders
  double strict_accuracy = 0;         // share of those choosing the gold text in both orders
  double positional_consistency = 0;  // share of those choosing the same text in both orders
};

class AgreementTally {
 public:
  // gold_text1: text 1 is the better text. p_text1: order-averaged P(text 1 better).
  // order1 / order2: the hard choice in each order; nullopt where that order has no verdict.
  void add(bool gold_text1, std::optional<double> p_text1, std::optional<Choice> order1,
           std::optional<Choice> order2);
  // Shares over an empty set are NaN.
  Agreement result() const;

 private:
  int n_ = 0, n_scored_ = 0, n_first_ = 0, first_correct_ = 0, n_both_ = 0, strict_ = 0,
      consistent_ = 0;
  double credit_ = 0, target_ = 0;
};

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
