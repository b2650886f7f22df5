#include "meta/judge_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

#include "core/checks.h"

namespace gavel::meta {

Choice choice_of(double p_a, bool text2_first) {
  if (p_a == 0.5 || std::isnan(p_a)) return Choice::kNeither;
  return (p_a > 0.5) != text2_first ? Choice::kText1 : Choice::kText2;
}

double hard_credit(double p_right) { return p_right > 0.5 ? 1.0 : (p_right == 0.5 ? 0.5 : 0.0); }

void AgreementTally::add(bool gold_text1, std::optional<double> p_text1,
                         std::optional<Choice> order1, std::optional<Choice> order2) {
  const Choice gold = gold_text1 ? Choice::kText1 : Choice::kText2;
  ++n_;
  if (p_text1) {
    ++n_scored_;
    const double p_gold = gold_text1 ? *p_text1 : 1.0 - *p_text1;
    target_ += p_gold;
    credit_ += hard_credit(p_gold);
  }
  if (order1) {
    ++n_first_;
    first_correct_ += *order1 == gold;
  }
  if (order1 && order2) {
    ++n_both_;
    strict_ += *order1 == gold && *order2 == gold;
    consistent_ += *order1 != Choice::kNeither && *order1 == *order2;
  }
}

Agreement AgreementTally::result() const {
  auto share = [](double a, int b) { return b ? a / b : std::numeric_limits<double>::quiet_NaN(); };
  Agreement a;
  a.n = n_;
  a.n_scored = n_scored_;
  a.accuracy = share(credit_, n_scored_);
  a.mean_target = share(target_, n_scored_);
  a.n_first_order = n_first_;
  a.accuracy_first_order = share(first_correct_, n_first_);
  a.n_both_orders = n_both_;
  a.strict_accuracy = share(strict_, n_both_);
  a.positional_consistency = share(consistent_, n_both_);
  return a;
}

std::vector<size_t> filter_pairs(const std::vector<PairJudgment>& pairs, const PairFilter& f) {
  std::vector<size_t> keep;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const PairJudgment& p = pairs[i];
    double diff = std::fabs(p.score_1 - p.score_2);
    if (diff == 0) continue;  // no gold preference
    if (diff < f.min_diff) continue;
    if (f.max_diff > 0 && diff > f.max_diff) continue;
    if (f.max_len_ratio > 0) {
      double lo = std::min(p.len_1, p.len_2), hi = std::max(p.len_1, p.len_2);
      if (lo <= 0 || hi / lo > f.max_len_ratio) continue;
    }
    keep.push_back(i);
  }
  if (f.sample > 0 && static_cast<size_t>(f.sample) < keep.size()) {
    std::mt19937_64 rng(f.seed);
    // Partial Fisher-Yates: the first `sample` positions become a uniform sample.
    for (size_t i = 0; i < static_cast<size_t>(f.sample); ++i) {
      std::uniform_int_distribution<size_t> pick(i, keep.size() - 1);
      std::swap(keep[i], keep[pick(rng)]);
    }
    keep.resize(f.sample);
  }
  return keep;
}

Result<PairwiseMetrics> pairwise_metrics(const std::vector<PairJudgment>& pairs,
                                         const PairFilter& f) {
  GAVEL_TRY(check_at_least("max_len_ratio", f.max_len_ratio, 0));
  GAVEL_TRY(check_at_least("min_diff", f.min_diff, 0));
  GAVEL_TRY(check_at_least("max_diff", f.max_diff, 0));
  GAVEL_TRY(check_count("sample", f.sample, 0, std::numeric_limits<int>::max()));
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& p = pairs[i];
    for (double v : {p.p_a_pass1, p.p_a_pass2})
      if (!(v >= 0 && v <= 1))
        return Error{fmt::format("pair {}: probability {} outside [0,1]", i, v),
                     StatusCode::kInvalidArgument};
  }
  auto keep = filter_pairs(pairs, f);
  PairwiseMetrics m;
  m.n = static_cast<int>(keep.size());
  m.filtered_out = static_cast<int>(pairs.size()) - m.n;
  if (m.n == 0)
    return Error{"pairwise metrics: no pair left after the filters", StatusCode::kInvalidArgument};
  AgreementTally tally;
  for (size_t i : keep) {
    const PairJudgment& p = pairs[i];
    const double text1 = (p.p_a_pass1 + (1 - p.p_a_pass2)) / 2;
    tally.add(p.score_1 > p.score_2, text1, choice_of(p.p_a_pass1),
              choice_of(p.p_a_pass2, /*text2_first=*/true));
  }
  const Agreement a = tally.result();
  m.strict_accuracy = a.strict_accuracy;
  m.positional_consistency = a.positional_consistency;
  m.mean_target_mass = a.mean_target;
  m.mean_non_target_mass = 1 - a.mean_target;
  m.soft_accuracy = a.accuracy;
  return m;
}

Result<BiasReport> bias_report(const std::vector<MatchRecord>& records) {
  BiasReport b;
  if (records.empty()) return Error{"bias report: no judged matches", StatusCode::kInvalidArgument};
  std::map<long long, std::vector<size_t>> by_pair;
  double wins_len = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const MatchRecord& r = records[i];
    if (!(r.p_first >= 0 && r.p_first <= 1))
      return Error{fmt::format("match {}: probability {} outside [0,1]", i, r.p_first),
                   StatusCode::kInvalidArgument};
    b.position1_mean_prob += r.p_first;
    b.position1_win_rate += hard_credit(r.p_first);
    if (r.len_first != r.len_second) {
      double p_longer = r.len_first > r.len_second ? r.p_first : 1 - r.p_first;
      ++b.length_n;
      wins_len += hard_credit(p_longer);
      b.longer_ev_margin += 2 * p_longer - 1;
    }
    if (r.pair_id >= 0) by_pair[r.pair_id].push_back(i);
  }
  b.n = static_cast<int>(records.size());
  b.position1_mean_prob /= b.n;
  b.position2_mean_prob = 1 - b.position1_mean_prob;
  b.position1_win_rate /= b.n;
  b.position_skew = b.position1_mean_prob - b.position2_mean_prob;
  if (b.length_n) {
    b.longer_win_rate = wins_len / b.length_n;
    b.longer_ev_margin /= b.length_n;
  }
  int flips = 0;
  for (auto& [id, idx] : by_pair) {
    if (idx.size() != 2) continue;
    const MatchRecord &r1 = records[idx[0]], &r2 = records[idx[1]];
    if (r1.first != r2.second || r1.second != r2.first)
      return Error{fmt::format("pair_id {}: its two records are not swaps of each other", id),
                   StatusCode::kInvalidArgument};
    ++b.swap_pairs;
    // Preferred text id in each orientation; an exact 0.5 prefers nobody and counts as a flip.
    int w1 = r1.p_first > 0.5 ? r1.first : (r1.p_first < 0.5 ? r1.second : -1);
    int w2 = r2.p_first > 0.5 ? r2.first : (r2.p_first < 0.5 ? r2.second : -1);
    if (w1 < 0 || w1 != w2) ++flips;
  }
  if (b.swap_pairs) b.swap_flip_rate = static_cast<double>(flips) / b.swap_pairs;
  return b;
}

}  // namespace gavel::meta
