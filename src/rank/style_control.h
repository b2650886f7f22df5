// Bradley-Terry with comparison covariates, as Arena-Hard-Auto's style control fits it: the
// outcome of a comparison depends on the players' strengths and on features of the two texts
// (here their length difference), so a judge's taste for longer texts is fitted apart from
// the writers' ratings:
//   P(a beats b) = sigmoid(theta_a - theta_b + sum_k beta_k x_k)
// MAP of the same objective as bradley_terry() (soft outcomes, weights, alpha |theta|^2;
// beta is not penalised), by damped Newton on (theta, beta) jointly.
#pragma once

#include <vector>

#include "gavel/status.h"
#include "rank/elo.h"

namespace gavel::rank {

struct BtCovariateResult {
  BtResult bt;                  // ratings with the covariates' effect taken out
  std::vector<double> beta;     // log-odds per unit of each covariate
  std::vector<double> beta_se;  // inverse-Hessian standard errors
};

// x[m] holds comparison m's covariates (all the same size k >= 1); each must vary across
// comparisons or beta is not identified (an error).
Result<BtCovariateResult> bradley_terry_covariates(int n_players,
                                                   const std::vector<Outcome>& outcomes,
                                                   const std::vector<std::vector<double>>& x,
                                                   const BtConfig& cfg);

// The length covariate of a comparison: (len_a - len_b) / (len_a + len_b), in [-1, 1]
// (0 when both are empty).
double length_covariate(double len_a, double len_b);

}  // namespace gavel::rank
