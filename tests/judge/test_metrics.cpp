#include <gtest/gtest.h>

#include <cmath>

#include "judge/metrics.h"
#include "meta/correlation.h"

namespace gavel::judge {
namespace {

TEST(Metrics, PairwiseTally) {
  PairwiseTally t;
  t.add(true, 0.8, true, true);    // correct, consistent, strict
  t.add(true, 0.4, true, false);   // wrong, inconsistent
  t.add(false, 0.3, false, false);  // correct (gold text2), strict
  t.add(false, 0.5, std::nullopt, std::nullopt);  // tie: half credit
  auto r = t.report();
  EXPECT_EQ(r["n_labelled"], 4);
  EXPECT_NEAR(r["accuracy"].get<double>(), 2.5 / 4, 1e-12);
  EXPECT_NEAR(r["mean_target_probability"].get<double>(), (0.8 + 0.4 + 0.7 + 0.5) / 4, 1e-12);
  EXPECT_NEAR(r["accuracy_first_order"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(r["n_both_orders"], 3);
  EXPECT_NEAR(r["strict_accuracy_both_orders"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(r["positional_consistency"].get<double>(), 2.0 / 3, 1e-12);
  // Nothing judged in both orders: the figures are null, not 0.
  PairwiseTally one;
  one.add(true, 0.9, true, std::nullopt);
  EXPECT_TRUE(one.report()["strict_accuracy_both_orders"].is_null());
}

// The summary's coefficients are meta's (scipy-checked) ones; undefined ones are null.
TEST(Metrics, ScoreTallyUsesMetaCorrelations) {
  ScoreTally t;
  const std::vector<double> gold = {1, 2, 3, 4, 5}, parsed = {2, 1, 4, 3, 5};
  for (size_t i = 0; i < gold.size(); ++i)
    t.add(gold[i], parsed[i], i < 1 ? std::optional(3.0) : std::nullopt);
  auto r = t.report();
  EXPECT_EQ(r["n_labelled"], 5);
  EXPECT_EQ(r["pearson"].get<double>(), meta::pearson(parsed, gold)->r);
  EXPECT_EQ(r["spearman"].get<double>(), meta::spearman(parsed, gold)->r);
  EXPECT_EQ(r["n_expected"], 1);
  EXPECT_TRUE(r["pearson_expected"].is_null());  // one value
  ScoreTally constant;
  for (double g : {1.0, 2.0, 3.0}) constant.add(g, 4.0, std::nullopt);
  EXPECT_TRUE(constant.report()["pearson"].is_null());
  EXPECT_TRUE(constant.report()["spearman"].is_null());
}

}  // namespace
}  // namespace gavel::judge
