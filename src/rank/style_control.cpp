#include "rank/style_control.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gavel::rank {
namespace {

double sigmoid(double x) {
  return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}

// -log sigmoid(z), stable on both sides.
double nls(double z) { return z > 0 ? std::log1p(std::exp(-z)) : -z + std::log1p(std::exp(z)); }

struct Problem {
  int n, k;
  const std::vector<Outcome>& out;
  const std::vector<std::vector<double>>& x;
  double alpha;

  double eta(const std::vector<double>& z, size_t m) const {
    double e = z[out[m].a] - z[out[m].b];
    for (int j = 0; j < k; ++j) e += z[n + j] * x[m][j];
    return e;
  }
  double objective(const std::vector<double>& z) const {
    double v = 0;
    for (int i = 0; i < n; ++i) v += alpha * z[i] * z[i];
    for (size_t m = 0; m < out.size(); ++m) {
      double e = eta(z, m);
      v += out[m].weight * (out[m].score * nls(e) + (1 - out[m].score) * nls(-e));
    }
    return v;
  }
  // Gradient and Hessian; the theta block gets + 1 1^T (shift invariance, as bradley_terry).
  void grad_hess(const std::vector<double>& z, std::vector<double>& g,
                 std::vector<double>& h) const {
    const int d = n + k;
    std::fill(g.begin(), g.end(), 0.0);
    std::fill(h.begin(), h.end(), 0.0);
    for (int i = 0; i < n; ++i) {
      g[i] = 2 * alpha * z[i];
      h[i * d + i] = 2 * alpha;
      for (int j = 0; j < n; ++j) h[i * d + j] += 1.0;
    }
    std::vector<std::pair<int, double>> gv;
    for (size_t m = 0; m < out.size(); ++m) {
      double p = sigmoid(eta(z, m));
      double r = out[m].weight * (p - out[m].score), c = out[m].weight * p * (1 - p);
      gv.clear();
      gv.push_back({out[m].a, 1.0});
      gv.push_back({out[m].b, -1.0});
      for (int j = 0; j < k; ++j) gv.push_back({n + j, x[m][j]});
      for (auto [i, vi] : gv) {
        g[i] += r * vi;
        for (auto [j, vj] : gv) h[i * d + j] += c * vi * vj;
      }
    }
  }
};

bool cholesky(std::vector<double>& h, int d) {
  for (int j = 0; j < d; ++j) {
    double s = h[j * d + j];
    for (int q = 0; q < j; ++q) s -= h[j * d + q] * h[j * d + q];
    if (!(s > 0)) return false;
    s = std::sqrt(s);
    h[j * d + j] = s;
    for (int i = j + 1; i < d; ++i) {
      double t = h[i * d + j];
      for (int q = 0; q < j; ++q) t -= h[i * d + q] * h[j * d + q];
      h[i * d + j] = t / s;
    }
  }
  return true;
}

void solve(const std::vector<double>& l, std::vector<double>& b, int d) {
  for (int i = 0; i < d; ++i) {
    double s = b[i];
    for (int q = 0; q < i; ++q) s -= l[i * d + q] * b[q];
    b[i] = s / l[i * d + i];
  }
  for (int i = d - 1; i >= 0; --i) {
    double s = b[i];
    for (int q = i + 1; q < d; ++q) s -= l[q * d + i] * b[q];
    b[i] = s / l[i * d + i];
  }
}

}  // namespace

double length_covariate(double len_a, double len_b) {
  double s = len_a + len_b;
  return s > 0 ? (len_a - len_b) / s : 0.0;
}

Result<BtCovariateResult> bradley_terry_covariates(int n_players,
                                                   const std::vector<Outcome>& outcomes,
                                                   const std::vector<std::vector<double>>& x,
                                                   const BtConfig& cfg) {
  if (n_players < 1) return Error{"bradley-terry: no players"};
  if (!(cfg.alpha > 0)) return Error{"bradley-terry: alpha must be > 0"};
  GAVEL_TRY(check_outcomes(n_players, outcomes));
  if (x.size() != outcomes.size())
    return Error{fmt::format("bradley-terry covariates: {} rows for {} comparisons", x.size(),
                             outcomes.size())};
  if (x.empty()) return Error{"bradley-terry covariates: no comparisons"};
  const int k = static_cast<int>(x[0].size());
  if (k < 1) return Error{"bradley-terry covariates: no covariate"};
  for (size_t m = 0; m < x.size(); ++m) {
    if (static_cast<int>(x[m].size()) != k)
      return Error{fmt::format("bradley-terry covariates: row {} has {} values, expected {}", m,
                               x[m].size(), k)};
    for (double v : x[m])
      if (!std::isfinite(v))
        return Error{fmt::format("bradley-terry covariates: row {} is not finite", m)};
  }
  for (int j = 0; j < k; ++j) {
    bool varies = false;
    for (size_t m = 1; m < x.size() && !varies; ++m) varies = x[m][j] != x[0][j];
    if (!varies)
      return Error{fmt::format("bradley-terry covariates: covariate {} never varies", j)};
  }
  const int n = n_players, d = n + k;
  Problem pr{n, k, outcomes, x, cfg.alpha};
  std::vector<double> z(d, 0.0), g(d), h(static_cast<size_t>(d) * d), step(d), trial(d);
  double f = pr.objective(z);
  bool converged = false;
  BtCovariateResult r;
  for (int it = 0; it < cfg.max_iter; ++it) {
    r.bt.iterations = it + 1;
    pr.grad_hess(z, g, h);
    if (!cholesky(h, d)) return Error{"bradley-terry covariates: Hessian not positive definite"};
    step = g;
    solve(h, step, d);
    double t = 1.0;
    for (int ls = 0; ls < 60; ++ls) {
      for (int i = 0; i < d; ++i) trial[i] = z[i] - t * step[i];
      double mean = 0;
      for (int i = 0; i < n; ++i) mean += trial[i];
      mean /= n;
      for (int i = 0; i < n; ++i) trial[i] -= mean;
      double ft = pr.objective(trial);
      if (ft <= f + 1e-12 * std::fabs(f)) {
        f = ft;
        break;
      }
      t /= 2;
    }
    double change = 0;
    for (int i = 0; i < d; ++i) change = std::max(change, std::fabs(trial[i] - z[i]));
    z = trial;
    if (change < cfg.tol) {
      converged = true;
      break;
    }
  }
  if (!converged)
    return Error{
        fmt::format("bradley-terry covariates: no convergence in {} Newton steps", cfg.max_iter)};
  pr.grad_hess(z, g, h);
  if (!cholesky(h, d)) return Error{"bradley-terry covariates: Hessian not positive definite"};
  const double to_elo = 400.0 / std::log(10.0);
  const double shift = 1.0 / (n * (2 * cfg.alpha + n));  // see bradley_terry()
  std::vector<double> e(d);
  r.bt.theta.assign(z.begin(), z.begin() + n);
  r.bt.rating.resize(n);
  r.bt.std_error.resize(n);
  for (int i = 0; i < d; ++i) {
    std::fill(e.begin(), e.end(), 0.0);
    e[i] = 1;
    solve(h, e, d);
    if (i < n) {
      r.bt.std_error[i] = std::sqrt(std::max(0.0, e[i] - shift)) * to_elo;
      r.bt.rating[i] = theta_to_elo(z[i], cfg.anchor);
    } else {
      r.beta.push_back(z[i]);
      r.beta_se.push_back(std::sqrt(std::max(0.0, e[i])));
    }
  }
  return r;
}

}  // namespace gavel::rank
