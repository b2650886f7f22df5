#include "meta/judgemark.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "meta/correlation.h"
#include "meta/summary.h"

namespace gavel::meta {

namespace {

double clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

}  // namespace

Result<JudgemarkResult> judgemark_v1(const JudgemarkInput& in) {
  const size_t n = in.scores.size();
  if (n < 3) return Error{fmt::format("judgemark: needs at least 3 writers, got {}", n)};
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
          fmt::format("judgemark: reference {} has {} values for {} writers", name, ref.size(), n)};
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
  if (pearsons.empty()) return Error{"judgemark: no reference benchmark given"};
  r.avg_pearson = std::accumulate(pearsons.begin(), pearsons.end(), 0.0) / pearsons.size();
  r.avg_kendall = std::accumulate(kendalls.begin(), kendalls.end(), 0.0) / kendalls.size();
  double sum = clamp01(r.avg_kendall) + clamp01(r.avg_pearson) + clamp01(r.std_dev / 15);
  r.terms = 3;
  if (in.anova_f >= 0) {
    sum += clamp01(in.anova_f / 28);
    r.terms = 4;
  }
  r.score = 100 * sum / r.terms;
  return r;
}

}  // namespace gavel::meta
