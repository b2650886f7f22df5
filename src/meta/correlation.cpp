#include "meta/correlation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "core/checks.h"
#include "meta/special.h"

namespace gavel::meta {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Status check_inputs(const std::vector<double>& x, const std::vector<double>& y, size_t min_n,
                    const char* what, double level) {
  GAVEL_TRY(check_open_unit("level", level));
  if (x.size() != y.size())
    return Error{fmt::format("{}: x has {} values but y has {}", what, x.size(), y.size()),
                 StatusCode::kInvalidArgument};
  if (x.size() < min_n)
    return Error{fmt::format("{}: needs at least {} pairs, got {}", what, min_n, x.size()),
                 StatusCode::kInvalidArgument};
  for (size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
      return Error{fmt::format("{}: non-finite value at index {}", what, i),
                   StatusCode::kInvalidArgument};
  return Status::Ok();
}

void fisher_ci(Correlation& c, double se, double level) {
  if (!(se > 0) || !std::isfinite(se) || std::fabs(c.r) >= 1) {
    c.ci_low = c.ci_high = std::fabs(c.r) >= 1 && std::isfinite(se) ? c.r : kNaN;
    return;
  }
  double z = std::atanh(c.r);
  double q = normal_quantile(1 - (1 - level) / 2);
  c.ci_low = std::tanh(z - q * se);
  c.ci_high = std::tanh(z + q * se);
}

double pearson_r(const std::vector<double>& x, const std::vector<double>& y) {
  size_t n = x.size();
  double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return kNaN;  // constant input: undefined, as in scipy
  double r = sxy / (std::sqrt(sxx) * std::sqrt(syy));
  return std::clamp(r, -1.0, 1.0);
}

// p-value of a correlation coefficient under the t distribution with n-2 df.
double t_p_value(double r, int n) {
  if (std::isnan(r)) return kNaN;
  if (n <= 2) return 1.0;
  if (std::fabs(r) >= 1) return 0.0;
  double df = n - 2;
  // I_{1-r^2}(df/2, 1/2) equals 2 * P(T > |t|) for t = r*sqrt(df/(1-r^2)).
  return incomplete_beta(1 - r * r, df / 2, 0.5);
}

}  // namespace

std::vector<double> rank_average(const std::vector<double>& x) {
  std::vector<size_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(x.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && x[idx[j + 1]] == x[idx[i]]) ++j;
    double r = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (size_t k = i; k <= j; ++k) ranks[idx[k]] = r;
    i = j + 1;
  }
  return ranks;
}

namespace {

// A product-moment coefficient r over n pairs: p from t with n-2 df, Fisher-z CI with
// standard error 1/sqrt(n-3) (Pearson on values, Spearman on ranks).
Correlation product_moment(double r, int n, double level) {
  Correlation c;
  c.n = n;
  c.r = r;
  c.p = t_p_value(c.r, c.n);
  if (c.n > 3 && !std::isnan(c.r)) {
    fisher_ci(c, 1 / std::sqrt(c.n - 3.0), level);
  } else {
    c.ci_low = c.ci_high = kNaN;
  }
  return c;
}

}  // namespace

Result<Correlation> pearson(const std::vector<double>& x, const std::vector<double>& y,
                            double level) {
  GAVEL_TRY(check_inputs(x, y, 2, "pearson", level));
  return product_moment(pearson_r(x, y), static_cast<int>(x.size()), level);
}

Result<Correlation> spearman(const std::vector<double>& x, const std::vector<double>& y,
                             double level) {
  GAVEL_TRY(check_inputs(x, y, 2, "spearman", level));
  return product_moment(pearson_r(rank_average(x), rank_average(y)), static_cast<int>(x.size()),
                        level);
}

Result<Correlation> kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y,
                                  double level) {
  GAVEL_TRY(check_inputs(x, y, 2, "kendall", level));
  const size_t n = x.size();
  // O(n^2) pair count: exact integer arithmetic, fine for the sizes meta-evaluation sees.
  long long concordant = 0, discordant = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      double dx = x[i] - x[j], dy = y[i] - y[j];
      double s = dx * dy;
      if (s > 0) ++concordant;
      if (s < 0) ++discordant;
    }
  // Tie groups: sums over groups of t(t-1), t(t-1)(t-2), t(t-1)(2t+5).
  auto tie_sums = [](const std::vector<double>& v, double& s1, double& s2, double& s3) {
    std::map<double, long long> counts;
    for (double a : v) ++counts[a];
    s1 = s2 = s3 = 0;
    for (auto& [k, t] : counts) {
      double td = static_cast<double>(t);
      s1 += td * (td - 1);
      s2 += td * (td - 1) * (td - 2);
      s3 += td * (td - 1) * (2 * td + 5);
    }
  };
  double x1, x2, x3, y1, y2, y3;
  tie_sums(x, x1, x2, x3);
  tie_sums(y, y1, y2, y3);
  double nd = static_cast<double>(n);
  double n0 = nd * (nd - 1) / 2;
  double nx = x1 / 2, ny = y1 / 2;  // pairs tied in x / in y
  Correlation c;
  c.n = static_cast<int>(n);
  double s = static_cast<double>(concordant - discordant);
  if (n0 - nx == 0 || n0 - ny == 0) {
    c.r = c.p = c.ci_low = c.ci_high = kNaN;
    return c;
  }
  c.r = std::clamp(s / (std::sqrt(n0 - nx) * std::sqrt(n0 - ny)), -1.0, 1.0);
  double var = (nd * (nd - 1) * (2 * nd + 5) - x3 - y3) / 18 + (x1 * y1) / (2 * nd * (nd - 1));
  if (n > 2) var += (x2 * y2) / (9 * nd * (nd - 1) * (nd - 2));
  c.p = var > 0 ? std::erfc(std::fabs(s) / std::sqrt(var) / std::sqrt(2.0)) : kNaN;
  if (n > 4) {
    fisher_ci(c, std::sqrt(0.437 / (nd - 4)), level);
  } else {
    c.ci_low = c.ci_high = kNaN;
  }
  return c;
}

}  // namespace gavel::meta
