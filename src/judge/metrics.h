// End-of-run agreement figures against the input's labels: pairwise accuracy, strict accuracy
// in both orders, positional consistency, mean target probability (the card's table), and
// Pearson / Spearman for absolute scores.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace gavel::judge {

std::optional<double> pearson(const std::vector<double>& x, const std::vector<double>& y);
// Spearman's rho: Pearson of average ranks (ties share the mean rank, as scipy does).
std::optional<double> spearman(const std::vector<double>& x, const std::vector<double>& y);
std::vector<double> average_ranks(const std::vector<double>& v);

// Accumulates per-item outcomes; report() gives the JSON summary printed at the end.
class PairwiseTally {
 public:
  // gold_text1: the label says text1 (A) is better. p1: final P(text1) (swap-averaged, or the
  // single pass). order1/order2: which text each order preferred (true = text1), when known.
  void add(bool gold_text1, std::optional<double> p_text1, std::optional<bool> order1_text1,
           std::optional<bool> order2_text1);
  nlohmann::json report() const;

 private:
  int n_ = 0, n_scored_ = 0, n_both_ = 0, strict_ = 0, consistent_ = 0;
  double correct_ = 0, target_mass_ = 0;
  int order1_n_ = 0, order1_correct_ = 0;
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
