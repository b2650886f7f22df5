// Correlation coefficients with the exact definitions scipy.stats uses, their two-sided
// p-values and confidence intervals. Inputs must be the same length (>= 2 for r, >= 4 for CIs).
#pragma once

#include <vector>

#include "gavel/status.h"

namespace gavel::meta {

struct Correlation {
  double r = 0;       // coefficient
  double p = 1;       // two-sided p-value (NaN when undefined)
  double ci_low = 0;  // confidence interval (NaN when n is too small)
  double ci_high = 0;
  int n = 0;
};

// Average ranks (1-based) with ties sharing the mean rank (scipy.stats.rankdata "average").
std::vector<double> rank_average(const std::vector<double>& x);

// Pearson r; p from the exact t/beta distribution (scipy.stats.pearsonr); CI by Fisher z:
// tanh(atanh(r) +- z_{1-(1-level)/2} / sqrt(n-3)) (scipy's PearsonRResult.confidence_interval).
Result<Correlation> pearson(const std::vector<double>& x, const std::vector<double>& y,
                            double level = 0.95);
// Spearman rho = Pearson on average ranks; p from t with n-2 df (scipy.stats.spearmanr);
// CI by Fisher z with standard error 1/sqrt(n-3).
Result<Correlation> spearman(const std::vector<double>& x, const std::vector<double>& y,
                             double level = 0.95);
// Kendall tau-b (ties in x, y or both handled); p from the asymptotic normal approximation
// with the tie-corrected variance (scipy.stats.kendalltau(method="asymptotic")); CI by Fisher z
// with the Fieller-Hartley-Pearson standard error sqrt(0.437/(n-4)) (needs n > 4).
Result<Correlation> kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y,
                                  double level = 0.95);

}  // namespace gavel::meta
