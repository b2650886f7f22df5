#include "meta/judgemark.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "meta/correlation.h"
#include "meta/summary.h"

namespace gavel::meta {

namespace {

double clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

}  // namespace

Result<JudgemarkResult> judgemark_v1(const JudgemarkInput& in) {
  const size_t n = in.scores.size();
  if (n < 3)
    return Error{fmt::format("judgemark: needs at least 3 writers, got {}", n),
                 StatusCode::kInvalidArgument};
  JudgemarkResult r;
  r.std_dev = stddev_sample(in.scores);
  // Top 8 by the judge's score (stable on ties, like pandas nlargest keep="first").
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return in.scores[a] > in.scores[b]; });
  order.resize(std::min<size_t>(8, n));
  std::vector<double> kendalls, pearsons;
  for (const auto& [name, ref] : in.references) {
    if (ref.size() != n)
      return Error{
          fmt::format("judgemark: reference {} has {} values for {} writers", name, ref.size(), n),
          StatusCode::kInvalidArgument};
    for (int top = 0; top < 2; ++top) {
      std::vector<double> x, y;
      auto add = [&, &ref = ref](size_t i) {  // a binding is captured by name (clang 14)
        if (std::isnan(ref[i])) return;
        x.push_back(in.scores[i]);
        y.push_back(ref[i]);
      };
      if (top) {
        for (size_t i : order) add(i);
      } else {
        for (size_t i = 0; i < n; ++i) add(i);
      }
      std::string suffix = (top ? "top_8_" : "") + name;
      GAVEL_ASSIGN(auto p, pearson(x, y));
      GAVEL_ASSIGN(auto k, kendall_tau_b(x, y));
      r.stats["pearson_" + suffix] = p.r;
      r.stats["kendall_" + suffix] = k.r;
      pearsons.push_back(p.r);
      kendalls.push_back(k.r);
    }
  }
  if (pearsons.empty())
    return Error{"judgemark: no reference benchmark given", StatusCode::kInvalidArgument};
  r.avg_pearson = std::accumulate(pearsons.begin(), pearsons.end(), 0.0) / pearsons.size();
  r.avg_kendall = std::accumulate(kendalls.begin(), kendalls.end(), 0.0) / kendalls.size();
  r.terms = in.anova_f >= 0 ? 4 : 3;
  r.score = judgemark_v1_score(r.avg_kendall, r.avg_pearson, r.std_dev, in.anova_f);
  return r;
}

double judgemark_v1_score(double avg_kendall, double avg_pearson, double std_dev, double anova_f) {
  double sum = clamp01(avg_kendall) + clamp01(avg_pearson) + clamp01(std_dev / 15);
  if (anova_f < 0) return 100 * sum / 3;
  sum += clamp01(anova_f / 28);
  return 100 * sum / 4;
}

double judgemark_v1_from_stats(const std::map<std::string, double>& stats, double anova_f) {
  double kendall = 0, pearson = 0;
  int nk = 0, np = 0;
  for (const auto& [k, v] : stats) {
    if (std::isnan(v)) continue;
    if (k.rfind("kendall_", 0) == 0) kendall += v, ++nk;
    if (k.rfind("pearson_", 0) == 0) pearson += v, ++np;
  }
  auto sd = stats.find("std_dev");
  if (!nk || !np || sd == stats.end() || std::isnan(sd->second))
    return std::numeric_limits<double>::quiet_NaN();
  return judgemark_v1_score(kendall / nk, pearson / np, sd->second, anova_f);
}

}  // namespace gavel::meta
