#include "meta/separability.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/checks.h"
#include "meta/special.h"
#include "meta/summary.h"

namespace gavel::meta {

Result<Anova> one_way_anova(const std::vector<std::vector<double>>& groups) {
  Anova a;
  a.k = static_cast<int>(groups.size());
  if (a.k < 2) return Error{fmt::format("anova: needs at least 2 groups, got {}", a.k)};
  double total = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty()) return Error{fmt::format("anova: group {} is empty", g)};
    for (double v : groups[g]) {
      if (!std::isfinite(v)) return Error{fmt::format("anova: non-finite value in group {}", g)};
      total += v;
    }
    a.n += static_cast<int>(groups[g].size());
  }
  if (a.n <= a.k)
    return Error{fmt::format("anova: {} values in {} groups leave no within-group df", a.n, a.k)};
  double grand = total / a.n;
  for (const auto& g : groups) {
    double m = 0;
    for (double v : g) m += v;
    m /= static_cast<double>(g.size());
    a.ss_between += static_cast<double>(g.size()) * (m - grand) * (m - grand);
    for (double v : g) a.ss_within += (v - m) * (v - m);
  }
  double dfb = a.k - 1, dfw = a.n - a.k;
  double msb = a.ss_between / dfb, msw = a.ss_within / dfw;
  if (msw == 0) {
    a.f = msb == 0 ? std::numeric_limits<double>::quiet_NaN()
                   : std::numeric_limits<double>::infinity();
    a.p = msb == 0 ? std::numeric_limits<double>::quiet_NaN() : 0.0;
  } else {
    a.f = msb / msw;
    a.p = f_sf(a.f, dfb, dfw);
  }
  double sst = a.ss_between + a.ss_within;
  a.omega2 = sst + msw > 0 ? (a.ss_between - dfb * msw) / (sst + msw)
                           : std::numeric_limits<double>::quiet_NaN();
  return a;
}

double cliffs_delta(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.empty() || y.empty()) return std::numeric_limits<double>::quiet_NaN();
  // Sort y once, count with binary search: O((n+m) log m).
  std::vector<double> ys(y);
  std::sort(ys.begin(), ys.end());
  long long more = 0, less = 0;
  for (double v : x) {
    more += std::lower_bound(ys.begin(), ys.end(), v) - ys.begin();
    less += ys.end() - std::upper_bound(ys.begin(), ys.end(), v);
  }
  return static_cast<double>(more - less) /
         (static_cast<double>(x.size()) * static_cast<double>(y.size()));
}

double mean_abs_cliffs_delta(const std::vector<std::vector<double>>& groups) {
  double sum = 0;
  long long pairs = 0;
  for (size_t i = 0; i < groups.size(); ++i)
    for (size_t j = i + 1; j < groups.size(); ++j) {
      sum += std::fabs(cliffs_delta(groups[i], groups[j]));
      ++pairs;
    }
  return pairs ? sum / static_cast<double>(pairs) : std::numeric_limits<double>::quiet_NaN();
}

double combined_separability(double omega2, double mean_abs_delta) {
  return (0.5 * omega2 + 0.5 * mean_abs_delta) / 0.75 * 100.0;
}

namespace {

std::vector<std::vector<double>> group_values(const std::vector<Item>& items, int n_groups,
                                              const std::vector<int>& prompt_weight) {
  std::vector<std::vector<double>> groups(n_groups);
  for (const Item& it : items)
    for (int w = 0; w < prompt_weight[it.prompt]; ++w) groups[it.group].push_back(it.value);
  return groups;
}

}  // namespace

Result<Separability> separability(const std::vector<Item>& items, int n_groups, int n_prompts,
                                  int bootstrap, uint64_t seed, double level) {
  GAVEL_TRY(check_count("bootstrap", bootstrap, 0, kMaxBootstrap));
  GAVEL_TRY(check_open_unit("level", level));
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    if (it.group < 0 || it.group >= n_groups || it.prompt < 0 || it.prompt >= n_prompts)
      return Error{fmt::format("separability: item {} has group/prompt out of range", i)};
  }
  Separability s;
  std::vector<int> ones(n_prompts, 1);
  auto groups = group_values(items, n_groups, ones);
  GAVEL_ASSIGN(s.anova, one_way_anova(groups));
  s.cliff_delta = mean_abs_cliffs_delta(groups);
  s.score = combined_separability(s.anova.omega2, s.cliff_delta);
  s.bootstrap = bootstrap;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s.score_ci_low = s.score_ci_high = s.omega2_ci_low = s.omega2_ci_high = s.delta_ci_low =
      s.delta_ci_high = nan;
  if (bootstrap <= 0) return s;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, n_prompts - 1);
  std::vector<double> scores, omegas, deltas;
  for (int b = 0; b < bootstrap; ++b) {
    std::vector<int> weight(n_prompts, 0);
    for (int i = 0; i < n_prompts; ++i) ++weight[pick(rng)];
    auto g = group_values(items, n_groups, weight);
    bool empty = std::any_of(g.begin(), g.end(), [](auto& v) { return v.empty(); });
    if (empty) continue;  // a system lost every item: this draw says nothing about it
    auto a = one_way_anova(g);
    if (!a.ok()) continue;
    double d = mean_abs_cliffs_delta(g);
    omegas.push_back(a->omega2);
    deltas.push_back(d);
    scores.push_back(combined_separability(a->omega2, d));
  }
  if (scores.empty()) return s;
  double lo = (1 - level) / 2, hi = 1 - lo;
  s.score_ci_low = quantile_linear(scores, lo);
  s.score_ci_high = quantile_linear(scores, hi);
  s.omega2_ci_low = quantile_linear(omegas, lo);
  s.omega2_ci_high = quantile_linear(omegas, hi);
  s.delta_ci_low = quantile_linear(deltas, lo);
  s.delta_ci_high = quantile_linear(deltas, hi);
  return s;
}

}  // namespace gavel::meta
