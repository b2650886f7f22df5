// End-of-run agreement figures against the input's labels, as the JSON summary the runner
// prints: pairwise accuracy, strict accuracy in both orders, positional consistency, mean
// target probability (the card's table), and Pearson / Spearman for absolute scores. The
// figures themselves are defined once, in the meta layer (meta/judge_metrics.h,
// meta/correlation.h); these classes collect a run's items and format the summary.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "meta/judge_metrics.h"

namespace gavel::judge {

// Accumulates per-item outcomes; report() gives the JSON summary printed at the end.
class PairwiseTally {
 public:
  // gold_text1: the label says text1 (A) is better. p1: final P(text1) (swap-averaged, or the
  // single pass). order1/order2: which text each order preferred (true = text1), when known.
  void add(bool gold_text1, std::optional<double> p_text1, std::optional<bool> order1_text1,
           std::optional<bool> order2_text1);
  nlohmann::json report() const;

 private:
  meta::AgreementTally tally_;
};

// Labels the figures cannot use (for pairwise figures anything but "A" or "B": "C", 5, "a",
// " A", a tie): counted with their first distinct values, so none is dropped without a word.
class UnscoredLabels {
 public:
  void add(const nlohmann::json& label);
  // Adds {"labels_not_scored": {"count": n, "values": [...]}} to `metrics` when there are any.
  void report_into(nlohmann::json& metrics) const;

 private:
  int n_ = 0;
  std::vector<nlohmann::json> values_;  // distinct, at most 10
};

class ScoreTally {
 public:
  void add(double gold, std::optional<double> parsed, std::optional<double> expected);
  nlohmann::json report() const;

 private:
  int n_ = 0;
  std::vector<double> gold_parsed_, parsed_, gold_expected_, expected_;
};

}  // namespace gavel::judge
