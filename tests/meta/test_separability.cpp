#include <gtest/gtest.h>

#include <cmath>

#include "meta/separability.h"
#include "meta/summary.h"

using namespace gavel::meta;

TEST(Anova, HandComputed) {
  // Groups {1,2,3}, {4,5,6}: grand 3.5; SSB = 3*(2-3.5)^2*2 = 13.5; SSW = 2+2 = 4;
  // F = 13.5 / (4/4) = 13.5; omega2 = (13.5 - 1) / (17.5 + 1).
  auto a = one_way_anova({{1, 2, 3}, {4, 5, 6}});
  ASSERT_TRUE(a.ok());
  EXPECT_DOUBLE_EQ(a->f, 13.5);
  EXPECT_NEAR(a->omega2, 12.5 / 18.5, 1e-15);
  EXPECT_GT(a->p, 0.0);
  EXPECT_LT(a->p, 0.05);
}

TEST(Anova, Errors) {
  EXPECT_FALSE(one_way_anova({{1, 2}}).ok());
  EXPECT_FALSE(one_way_anova({{1}, {}}).ok());
  EXPECT_FALSE(one_way_anova({{1}, {2}}).ok());  // no within-group df
}

TEST(Cliff, HandComputed) {
  EXPECT_DOUBLE_EQ(cliffs_delta({3, 4}, {1, 2}), 1.0);
  EXPECT_DOUBLE_EQ(cliffs_delta({1, 2}, {3, 4}), -1.0);
  // x={1,3}, y={2,3}: 1<2, 1<3, 3>2, 3=3 -> (1-2)/4.
  EXPECT_DOUBLE_EQ(cliffs_delta({1, 3}, {2, 3}), -0.25);
  // {1,2} vs {1,3}: -1/4; {3,4} vs {1,3}: 3/4.
  EXPECT_DOUBLE_EQ(mean_abs_cliffs_delta({{1, 2}, {3, 4}, {1, 3}}), (1.0 + 0.25 + 0.75) / 3);
}

TEST(Separability, CombinedFormulaAndBootstrap) {
  EXPECT_DOUBLE_EQ(combined_separability(0.6811, 0.6377),
                   (0.5 * 0.6811 + 0.5 * 0.6377) / 0.75 * 100);
  std::vector<Item> items;
  for (int g = 0; g < 4; ++g)
    for (int p = 0; p < 10; ++p) items.push_back({g, p, g * 2.0 + (p % 3)});
  auto s = separability(items, 4, 10, 200, 1);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->score, combined_separability(s->anova.omega2, s->cliff_delta), 1e-12);
  EXPECT_LE(s->score_ci_low, s->score_ci_high);
  auto again = separability(items, 4, 10, 200, 1);
  EXPECT_EQ(s->score_ci_low, again->score_ci_low);  // seeded
  std::vector<Item> bad{{5, 0, 1.0}};
  EXPECT_FALSE(separability(bad, 4, 10, 0, 1).ok());
}

// A CI level outside (0, 1) or NaN, or a negative bootstrap, is an error naming the argument:
// a level of 2 used to read outside the bootstrap draws, 1e6 to crash.
TEST(Separability, RejectsLevelsAndBootstrapsOutOfRange) {
  std::vector<Item> items;
  for (int g = 0; g < 3; ++g)
    for (int p = 0; p < 6; ++p) items.push_back({g, p, g + 0.1 * p});
  for (double level : {2.0, 1e6, std::nan(""), -1.0, 0.0, 1.0}) {
    auto s = separability(items, 3, 6, 50, 1, level);
    ASSERT_FALSE(s.ok()) << level;
    EXPECT_EQ(s.message().rfind("level: must be in (0, 1)", 0), 0u) << s.message();
  }
  auto s = separability(items, 3, 6, -1, 1, 0.95);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("bootstrap: must be 0..", 0), 0u) << s.message();
  EXPECT_TRUE(std::isnan(quantile_linear({1, 2, 3}, -499999.5)));  // never an index
  EXPECT_TRUE(std::isnan(quantile_linear({1, 2, 3}, std::nan(""))));
  EXPECT_DOUBLE_EQ(quantile_linear({1, 2, 3}, 0.5), 2.0);
}
