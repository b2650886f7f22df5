// Special functions behind the p-values and confidence intervals: the normal and Student t
// distributions, the F distribution and the regularized incomplete beta function.
#pragma once

namespace gavel::meta {

// Standard normal CDF and its inverse (quantile); quantile is accurate to ~1e-15.
double normal_cdf(double z);
double normal_sf(double z);  // 1 - cdf, accurate in the upper tail
double normal_quantile(double p);

// Regularized incomplete beta I_x(a, b), continued fraction (Lentz), relative accuracy ~1e-14.
double incomplete_beta(double x, double a, double b);

// Two-sided p-value of Student's t with `df` degrees of freedom: P(|T| >= |t|).
double student_t_two_sided(double t, double df);
// Upper tail of the F distribution with (d1, d2) degrees of freedom: P(F >= f).
double f_sf(double f, double d1, double d2);

}  // namespace gavel::meta
