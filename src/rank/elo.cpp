#include "rank/elo.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/checks.h"
#include "meta/summary.h"

namespace gavel::rank {

Status check_outcomes(int n_players, const std::vector<Outcome>& outcomes) {
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& o = outcomes[i];
    if (o.a < 0 || o.a >= n_players || o.b < 0 || o.b >= n_players)
      return Error{fmt::format("outcome {}: player index out of range [0,{})", i, n_players)};
    if (o.a == o.b) return Error{fmt::format("outcome {}: a player cannot meet itself", i)};
    if (!(o.score >= 0 && o.score <= 1))
      return Error{fmt::format("outcome {}: score {} outside [0,1]", i, o.score)};
    if (!(o.weight >= 0) || !std::isfinite(o.weight))
      return Error{fmt::format("outcome {}: weight {} must be finite and >= 0", i, o.weight)};
  }
  return Status::Ok();
}

double elo_expected(double ra, double rb, const EloConfig& cfg) {
  return 1.0 / (1.0 + std::pow(10.0, (rb - ra) / cfg.scale));
}

void elo_update(std::vector<double>& ratings, const Outcome& o, const EloConfig& cfg) {
  double delta = cfg.k * o.weight * (o.score - elo_expected(ratings[o.a], ratings[o.b], cfg));
  ratings[o.a] += delta;
  ratings[o.b] -= delta;
}

Status check_elo(const EloConfig& cfg) {
  GAVEL_TRY(check_at_least("k", cfg.k, 0));
  GAVEL_TRY(check_finite("initial", cfg.initial));
  return check_positive("scale", cfg.scale);
}

Result<std::vector<double>> elo_sequential(int n_players, const std::vector<Outcome>& outcomes,
                                           const EloConfig& cfg) {
  GAVEL_TRY(check_elo(cfg));
  GAVEL_TRY(check_outcomes(n_players, outcomes));
  std::vector<double> r(n_players, cfg.initial);
  for (const Outcome& o : outcomes) elo_update(r, o, cfg);
  return r;
}

double theta_to_elo(double theta, double anchor) { return anchor + theta * 400.0 / std::log(10.0); }

namespace {

double sigmoid(double x) {
  return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}

// Cholesky factor of a symmetric positive definite H, in place (lower triangle).
bool cholesky_factor(std::vector<double>& h, int n) {
  for (int j = 0; j < n; ++j) {
    double d = h[j * n + j];
    for (int k = 0; k < j; ++k) d -= h[j * n + k] * h[j * n + k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    h[j * n + j] = d;
    for (int i = j + 1; i < n; ++i) {
      double s = h[i * n + j];
      for (int k = 0; k < j; ++k) s -= h[i * n + k] * h[j * n + k];
      h[i * n + j] = s / d;
    }
  }
  return true;
}

// Solves L L^T x = g in place with a factor from cholesky_factor.
void cholesky_solve(const std::vector<double>& l, std::vector<double>& g, int n) {
  for (int i = 0; i < n; ++i) {
    double s = g[i];
    for (int k = 0; k < i; ++k) s -= l[i * n + k] * g[k];
    g[i] = s / l[i * n + i];
  }
  for (int i = n - 1; i >= 0; --i) {
    double s = g[i];
    for (int k = i + 1; k < n; ++k) s -= l[k * n + i] * g[k];
    g[i] = s / l[i * n + i];
  }
}

// Gradient and Hessian of the penalized negative log-likelihood.
void grad_hess(const std::vector<Outcome>& outcomes, const std::vector<double>& theta, double alpha,
               std::vector<double>& g, std::vector<double>& h, int n) {
  for (int i = 0; i < n; ++i) g[i] = 2 * alpha * theta[i];
  std::fill(h.begin(), h.end(), 0.0);
  for (int i = 0; i < n; ++i) h[i * n + i] = 2 * alpha;
  for (const Outcome& o : outcomes) {
    double p = sigmoid(theta[o.a] - theta[o.b]);
    double d = o.weight * (p - o.score);
    g[o.a] += d;
    g[o.b] -= d;
    double c = o.weight * p * (1 - p);
    h[o.a * n + o.a] += c;
    h[o.b * n + o.b] += c;
    h[o.a * n + o.b] -= c;
    h[o.b * n + o.a] -= c;
  }
}

double objective(const std::vector<Outcome>& outcomes, const std::vector<double>& theta,
                 double alpha) {
  double v = 0;
  for (double t : theta) v += alpha * t * t;
  for (const Outcome& o : outcomes) {
    double x = theta[o.a] - theta[o.b];
    // -log sigmoid(x) = log1p(exp(-x)), computed stably on both sides.
    auto nls = [](double z) {
      return z > 0 ? std::log1p(std::exp(-z)) : -z + std::log1p(std::exp(z));
    };
    v += o.weight * (o.score * nls(x) + (1 - o.score) * nls(-x));
  }
  return v;
}

}  // namespace

Result<BtResult> bradley_terry(int n_players, const std::vector<Outcome>& outcomes,
                               const BtConfig& cfg) {
  if (n_players < 1) return Error{"bradley-terry: no players"};
  GAVEL_TRY(check_positive("alpha", cfg.alpha));
  GAVEL_TRY(check_finite("anchor", cfg.anchor));
  GAVEL_TRY(check_outcomes(n_players, outcomes));
  const int n = n_players;
  BtResult r;
  r.theta.assign(n, 0.0);
  std::vector<double> g(n), h(static_cast<size_t>(n) * n), step(n), trial(n);
  double f = objective(outcomes, r.theta, cfg.alpha);
  bool converged = false;
  // The likelihood only sees differences and the penalty is smallest at mean zero, so the
  // optimum is centred; solving with H + 11^T (same action on gradients orthogonal to 1)
  // keeps the system well conditioned even for tiny alpha.
  auto add_ones = [&](std::vector<double>& hm) {
    for (double& v : hm) v += 1.0;
  };
  for (int it = 0; it < cfg.max_iter; ++it) {
    r.iterations = it + 1;
    grad_hess(outcomes, r.theta, cfg.alpha, g, h, n);
    add_ones(h);
    step = g;
    if (!cholesky_factor(h, n)) return Error{"bradley-terry: Hessian not positive definite"};
    cholesky_solve(h, step, n);
    // Damped Newton: halve the step until the objective does not increase.
    double t = 1.0, max_change = 0;
    for (int ls = 0; ls < 60; ++ls) {
      for (int i = 0; i < n; ++i) trial[i] = r.theta[i] - t * step[i];
      double mean = 0;
      for (double v : trial) mean += v;
      mean /= n;
      for (double& v : trial) v -= mean;
      double ft = objective(outcomes, trial, cfg.alpha);
      if (ft <= f + 1e-12 * std::fabs(f)) {
        f = ft;
        break;
      }
      t /= 2;
    }
    for (int i = 0; i < n; ++i) max_change = std::max(max_change, std::fabs(trial[i] - r.theta[i]));
    r.theta = trial;
    if (max_change < cfg.tol) {
      converged = true;
      break;
    }
  }
  if (!converged)
    return Error{fmt::format("bradley-terry: no convergence in {} Newton steps", cfg.max_iter)};
  // Standard errors of the mean-anchored ratings: diag(P H^-1 P), P = I - 11^T/n. With
  // H' = H + 11^T (H 1 = 2 alpha 1): P H^-1 P = H'^-1 - 11^T / (n (2 alpha + n)).
  grad_hess(outcomes, r.theta, cfg.alpha, g, h, n);
  add_ones(h);
  if (!cholesky_factor(h, n)) return Error{"bradley-terry: Hessian not positive definite"};
  r.std_error.assign(n, 0.0);
  const double to_elo = 400.0 / std::log(10.0);
  const double shift = 1.0 / (n * (2 * cfg.alpha + n));
  std::vector<double> e(n);
  for (int i = 0; i < n; ++i) {
    std::fill(e.begin(), e.end(), 0.0);
    e[i] = 1;
    cholesky_solve(h, e, n);
    r.std_error[i] = std::sqrt(std::max(0.0, e[i] - shift)) * to_elo;
  }
  r.rating.resize(n);
  for (int i = 0; i < n; ++i) r.rating[i] = theta_to_elo(r.theta[i], cfg.anchor);
  return r;
}

Result<std::vector<double>> bt_covariance(int n_players, const std::vector<Outcome>& outcomes,
                                          const std::vector<double>& theta, double alpha) {
  const int n = n_players;
  if (static_cast<int>(theta.size()) != n) return Error{"bt_covariance: theta size != players"};
  std::vector<double> g(n), h(static_cast<size_t>(n) * n);
  grad_hess(outcomes, theta, alpha, g, h, n);
  for (double& v : h) v += 1.0;  // H + 11^T, as in bradley_terry()
  if (!cholesky_factor(h, n)) return Error{"bt_covariance: Hessian not positive definite"};
  const double shift = 1.0 / (n * (2 * alpha + n));
  std::vector<double> cov(static_cast<size_t>(n) * n), e(n);
  for (int j = 0; j < n; ++j) {
    std::fill(e.begin(), e.end(), 0.0);
    e[j] = 1;
    cholesky_solve(h, e, n);
    for (int i = 0; i < n; ++i) cov[static_cast<size_t>(i) * n + j] = e[i] - shift;
  }
  return cov;
}

Result<BtBootstrap> bradley_terry_bootstrap(int n_players, const std::vector<Outcome>& outcomes,
                                            const BtConfig& cfg, int samples, uint64_t seed,
                                            double level) {
  GAVEL_TRY(check_count("bootstrap", samples, 0, meta::kMaxBootstrap));
  GAVEL_TRY(check_open_unit("level", level));
  BtBootstrap b;
  GAVEL_ASSIGN(b.fit, bradley_terry(n_players, outcomes, cfg));
  b.samples = samples;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  b.ci_low.assign(n_players, nan);
  b.ci_high.assign(n_players, nan);
  if (samples <= 0 || outcomes.empty()) return b;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, outcomes.size() - 1);
  std::vector<std::vector<double>> draws(n_players);
  std::vector<Outcome> resample(outcomes.size());
  BtConfig quick = cfg;
  quick.tol = std::max(cfg.tol, 1e-9);
  for (int s = 0; s < samples; ++s) {
    for (auto& o : resample) o = outcomes[pick(rng)];
    GAVEL_ASSIGN(auto fit, bradley_terry(n_players, resample, quick));
    for (int i = 0; i < n_players; ++i) draws[i].push_back(fit.rating[i]);
  }
  double lo = (1 - level) / 2;
  for (int i = 0; i < n_players; ++i) {
    b.ci_low[i] = meta::quantile_linear(draws[i], lo);
    b.ci_high[i] = meta::quantile_linear(draws[i], 1 - lo);
  }
  return b;
}

}  // namespace gavel::rank
