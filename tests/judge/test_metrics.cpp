#include <gtest/gtest.h>

#include <cmath>

#include "judge/metrics.h"

namespace gavel::judge {
namespace {

TEST(Metrics, PearsonDefinition) {
  std::vector<double> x = {1, 2, 3, 4, 5}, y = {2, 1, 4, 3, 5};
  double mx = 3, my = 3, sxy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < 5; ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx), syy += (y[i] - my) * (y[i] - my);
  EXPECT_NEAR(*pearson(x, y), sxy / std::sqrt(sxx * syy), 1e-12);
  EXPECT_FALSE(pearson({1, 1, 1}, {1, 2, 3}).has_value());
  EXPECT_FALSE(pearson({1}, {1}).has_value());
}

TEST(Metrics, SpearmanUsesAverageRanks) {
  auto r = average_ranks({10, 20, 20, 5});
  EXPECT_EQ(r, (std::vector<double>{2, 3.5, 3.5, 1}));
  // A monotone transform leaves Spearman at 1.
  EXPECT_NEAR(*spearman({1, 2, 3, 4}, {1, 8, 27, 64}), 1.0, 1e-12);
}

TEST(Metrics, PairwiseTally) {
  PairwiseTally t;
  t.add(true, 0.8, true, true);    // correct, consistent, strict
  t.add(true, 0.4, true, false);   // wrong, inconsistent
  t.add(false, 0.3, false, false);  // correct (gold text2), strict
  t.add(false, 0.5, std::nullopt, std::nullopt);  // tie: half credit
  auto r = t.report();
  EXPECT_NEAR(r["accuracy"].get<double>(), 2.5 / 4, 1e-12);
  EXPECT_NEAR(r["mean_target_probability"].get<double>(), (0.8 + 0.4 + 0.7 + 0.5) / 4, 1e-12);
  EXPECT_EQ(r["n_both_orders"], 3);
  EXPECT_NEAR(r["strict_accuracy_both_orders"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(r["positional_consistency"].get<double>(), 2.0 / 3, 1e-12);
}

}  // namespace
}  // namespace gavel::judge
