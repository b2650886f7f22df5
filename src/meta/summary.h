// Small descriptive statistics shared by meta and rank.
#pragma once

#include <vector>

namespace gavel::meta {

double mean(const std::vector<double>& v);
// Sample standard deviation (ddof = 1); NaN for fewer than 2 values.
double stddev_sample(const std::vector<double>& v);
// The most bootstrap draws a statistic takes: each draw refits it, and the draws are kept.
inline constexpr int kMaxBootstrap = 1'000'000;

// Quantile with linear interpolation between order statistics (numpy's default "linear");
// NaN for an empty vector or q outside [0, 1].
double quantile_linear(std::vector<double> v, double q);

}  // namespace gavel::meta
