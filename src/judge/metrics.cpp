#include "judge/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gavel::judge {

std::optional<double> pearson(const std::vector<double>& x, const std::vector<double>& y) {
  size_t n = x.size();
  if (n < 2 || y.size() != n) return std::nullopt;
  double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0 || syy == 0) return std::nullopt;  // undefined for a constant series
  return sxy / std::sqrt(sxx * syy);
}

std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    double rank = (i + j) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = rank;
    i = j + 1;
  }
  return r;
}

std::optional<double> spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) return std::nullopt;
  return pearson(average_ranks(x), average_ranks(y));
}

void PairwiseTally::add(bool gold_text1, std::optional<double> p_text1,
                        std::optional<bool> order1_text1, std::optional<bool> order2_text1) {
  ++n_;
  if (p_text1) {
    ++n_scored_;
    double p_gold = gold_text1 ? *p_text1 : 1.0 - *p_text1;
    target_mass_ += p_gold;
    correct_ += p_gold > 0.5 ? 1.0 : (p_gold == 0.5 ? 0.5 : 0.0);
  }
  if (order1_text1) {
    ++order1_n_;
    order1_correct_ += *order1_text1 == gold_text1;
  }
  if (order1_text1 && order2_text1) {
    ++n_both_;
    strict_ += (*order1_text1 == gold_text1) && (*order2_text1 == gold_text1);
    consistent_ += *order1_text1 == *order2_text1;
  }
}

nlohmann::json PairwiseTally::report() const {
  auto frac = [](double a, int b) -> nlohmann::json { return b ? nlohmann::json(a / b) : nullptr; };
  return {{"n_labelled", n_},
          {"n_scored", n_scored_},
          {"accuracy", frac(correct_, n_scored_)},
          {"mean_target_probability", frac(target_mass_, n_scored_)},
          {"accuracy_first_order", frac(order1_correct_, order1_n_)},
          {"n_both_orders", n_both_},
          {"strict_accuracy_both_orders", frac(strict_, n_both_)},
          {"positional_consistency", frac(consistent_, n_both_)}};
}

void ScoreTally::add(double gold, std::optional<double> parsed, std::optional<double> expected) {
  ++n_;
  if (parsed) gold_parsed_.push_back(gold), parsed_.push_back(*parsed);
  if (expected) gold_expected_.push_back(gold), expected_.push_back(*expected);
}

nlohmann::json ScoreTally::report() const {
  auto opt = [](std::optional<double> v) -> nlohmann::json {
    return v ? nlohmann::json(*v) : nullptr;
  };
  return {{"n_labelled", n_},
          {"n_valid", parsed_.size()},
          {"pearson", opt(pearson(parsed_, gold_parsed_))},
          {"spearman", opt(spearman(parsed_, gold_parsed_))},
          {"n_expected", expected_.size()},
          {"pearson_expected", opt(pearson(expected_, gold_expected_))},
          {"spearman_expected", opt(spearman(expected_, gold_expected_))}};
}

}  // namespace gavel::judge
