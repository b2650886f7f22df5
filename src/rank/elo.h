// Ratings from pairwise outcomes: sequential Elo (as the model card uses it) and
// Bradley-Terry maximum likelihood with a Gaussian prior, both on the Elo scale.
#pragma once

#include <cstdint>
#include <vector>

#include "gavel/status.h"

namespace gavel::rank {

// One comparison: `score` = how much `a` beat `b`, in [0, 1] (1 win, 0 loss, 0.5 tie,
// anything between = soft outcome such as P(a better)). `weight` multiplies its likelihood.
struct Outcome {
  int a = 0, b = 0;
  double score = 0.5;
  double weight = 1.0;
};

Status check_outcomes(int n_players, const std::vector<Outcome>& outcomes);

struct EloConfig {
  double k = 32;          // update step
  double initial = 1500;  // starting rating
  double scale = 400;     // 10^(diff/scale) odds
};

// k >= 0, initial finite, scale > 0 (an error naming the field otherwise).
Status check_elo(const EloConfig& cfg);

// Expected score of a against b.
double elo_expected(double ra, double rb, const EloConfig& cfg);
// One update: E = expected(a, b); r_a += K w (s - E); r_b -= K w (s - E).
void elo_update(std::vector<double>& ratings, const Outcome& o, const EloConfig& cfg);
// All outcomes applied in order, starting from cfg.initial.
Result<std::vector<double>> elo_sequential(int n_players, const std::vector<Outcome>& outcomes,
                                           const EloConfig& cfg);

// Bradley-Terry: P(a beats b) = 1 / (1 + exp(theta_b - theta_a)). MAP estimate of
//   sum_m w_m [ -s_m log P(a_m beats b_m) - (1 - s_m) log P(b_m beats a_m) ] + alpha |theta|^2
// (the same penalty as choix.opt_pairwise(alpha)); alpha > 0 keeps disconnected or perfectly
// separated comparison graphs solvable. At the optimum sum(theta) = 0, so the Elo-scale
// rating anchor + theta * 400 / ln 10 puts the field's mean at `anchor`.
struct BtConfig {
  double alpha = 1e-4;
  double anchor = 1500;
  double tol = 1e-12;  // stop when the Newton step's max |change| < tol
  int max_iter = 200;
};

struct BtResult {
  std::vector<double> theta;      // natural-log strengths, mean 0
  std::vector<double> rating;     // Elo scale
  std::vector<double> std_error;  // Elo-scale s.e. of rating - mean rating (inverse Hessian)
  int iterations = 0;
};

double theta_to_elo(double theta, double anchor);

// Covariance of the mean-anchored strengths at `theta` (natural-log units): P H^-1 P with H the
// Hessian of the penalized objective and P = I - 11^T/n; n x n, row-major. Its diagonal is the
// square of BtResult::std_error (before the Elo scaling).
Result<std::vector<double>> bt_covariance(int n_players, const std::vector<Outcome>& outcomes,
                                          const std::vector<double>& theta, double alpha);

Result<BtResult> bradley_terry(int n_players, const std::vector<Outcome>& outcomes,
                               const BtConfig& cfg);

struct BtBootstrap {
  BtResult fit;
  std::vector<double> ci_low, ci_high;  // percentile CI of the Elo-scale rating
  int samples = 0;
};

// Resamples the outcomes with replacement `samples` times (seeded) and refits.
Result<BtBootstrap> bradley_terry_bootstrap(int n_players, const std::vector<Outcome>& outcomes,
                                            const BtConfig& cfg, int samples, uint64_t seed,
                                            double level = 0.95);

}  // namespace gavel::rank
