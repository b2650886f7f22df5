#include <gtest/gtest.h>

#include <cmath>

#include "meta/correlation.h"
#include "meta/special.h"
#include "meta/summary.h"

using namespace gavel::meta;

TEST(Special, NormalQuantileInvertsCdf) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-14);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-15);
  for (double p : {1e-10, 0.01, 0.3, 0.9, 1 - 1e-9})
    EXPECT_NEAR(normal_cdf(normal_quantile(p)), p, 1e-12 * std::max(p, 1e-3));
}

TEST(Special, IncompleteBetaKnownValues) {
  // I_x(1,1) = x; I_x(2,1) = x^2; I_0.5(a,a) = 0.5.
  EXPECT_NEAR(incomplete_beta(0.3, 1, 1), 0.3, 1e-15);
  EXPECT_NEAR(incomplete_beta(0.3, 2, 1), 0.09, 1e-15);
  EXPECT_NEAR(incomplete_beta(0.5, 7.5, 7.5), 0.5, 1e-14);
  // t with 1 df is Cauchy: P(|T| >= 1) = 0.5.
  EXPECT_NEAR(student_t_two_sided(1.0, 1.0), 0.5, 1e-14);
}

TEST(Ranks, AverageTies) {
  auto r = rank_average({10, 20, 10, 30, 20, 20});
  std::vector<double> want{1.5, 4, 1.5, 6, 4, 4};
  EXPECT_EQ(r, want);
}

TEST(Pearson, PerfectAndHandComputed) {
  auto c = pearson({1, 2, 3, 4, 5}, {2, 4, 6, 8, 10});
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->r, 1.0, 1e-15);
  EXPECT_LT(c->p, 1e-20);
  // x = 1,2,3; y = 1,3,2: sxy = 1, sxx = syy = 2 -> r = 0.5.
  auto d = pearson({1, 2, 3}, {1, 3, 2});
  ASSERT_TRUE(d.ok());
  EXPECT_NEAR(d->r, 0.5, 1e-15);
  // n = 3: t = 0.5 sqrt(1/0.75); p = 1 - 2 atan(t)/pi (Cauchy) = 2/3.
  EXPECT_NEAR(d->p, 2.0 / 3.0, 1e-14);
}

TEST(Pearson, ErrorsAndUndefined) {
  EXPECT_FALSE(pearson({1, 2}, {1}).ok());
  EXPECT_FALSE(pearson({1}, {1}).ok());
  EXPECT_FALSE(pearson({1, NAN}, {1, 2}).ok());
  auto c = pearson({1, 1, 1}, {1, 2, 3});  // constant input: r undefined
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(std::isnan(c->r));
}

TEST(Spearman, MonotoneIsOne) {
  auto c = spearman({1, 2, 3, 4, 5}, {1, 8, 27, 64, 125});
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->r, 1.0);
}

TEST(Kendall, HandComputedWithTies) {
  // Pairs of (1,2,3) vs (1,3,2): 2 concordant, 1 discordant -> tau = 1/3.
  auto c = kendall_tau_b({1, 2, 3}, {1, 3, 2});
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->r, 1.0 / 3.0, 1e-15);
  // x = (1,1,2), y = (1,2,3): pairs (0,1) tied in x; (0,2),(1,2) concordant.
  // tau_b = 2 / sqrt((3-1)(3-0)) = 2/sqrt(6).
  auto d = kendall_tau_b({1, 1, 2}, {1, 2, 3});
  ASSERT_TRUE(d.ok());
  EXPECT_NEAR(d->r, 2 / std::sqrt(6.0), 1e-15);
}

TEST(Summary, QuantileAndSd) {
  EXPECT_DOUBLE_EQ(quantile_linear({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile_linear({4, 1, 3, 2}, 0.0), 1);
  EXPECT_NEAR(stddev_sample({2, 4, 4, 4, 5, 5, 7, 9}), std::sqrt(32.0 / 7), 1e-15);
}
