#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "rank/style_control.h"

namespace gavel::rank {
namespace {

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

TEST(StyleControl, RecoversStrengthsAndLengthEffect) {
  // Soft outcomes equal to the model's probabilities: the MLE is the truth itself.
  std::vector<double> theta = {-1.0, -0.3, 0.2, 1.1};
  const double beta = 0.8;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> len(100, 2000);
  std::vector<Outcome> out;
  std::vector<std::vector<double>> x;
  for (int r = 0; r < 30; ++r)
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b) {
        if (a == b) continue;
        double c = length_covariate(len(rng), len(rng));
        out.push_back({a, b, sigmoid(theta[a] - theta[b] + beta * c), 1.0});
        x.push_back({c});
      }
  BtConfig cfg;
  cfg.alpha = 1e-9;
  auto r = bradley_terry_covariates(4, out, x, cfg);
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->beta.size(), 1u);
  EXPECT_NEAR(r->beta[0], beta, 1e-6);
  EXPECT_GT(r->beta_se[0], 0);
  double mean = (theta[0] + theta[1] + theta[2] + theta[3]) / 4;
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(r->bt.theta[i], theta[i] - mean, 1e-6);
    EXPECT_NEAR(r->bt.rating[i], theta_to_elo(theta[i] - mean, 1500), 1e-3);
    EXPECT_GT(r->bt.std_error[i], 0);
  }
}

TEST(StyleControl, LongerTextsFavouredAreNotCreditedToTheWriter) {
  // Writer 0 always writes longer and always wins by length alone; equal strengths.
  std::vector<Outcome> out;
  std::vector<std::vector<double>> x;
  for (int r = 0; r < 20; ++r) {
    double c = length_covariate(1000 + 10 * r, 500);
    out.push_back({0, 1, sigmoid(1.5 * c), 1.0});
    x.push_back({c});
  }
  auto plain = bradley_terry(2, out, BtConfig{});
  auto lc = bradley_terry_covariates(2, out, x, BtConfig{});
  ASSERT_TRUE(plain.ok() && lc.ok());
  EXPECT_GT(plain->rating[0] - plain->rating[1], 50);  // plain BT credits the writer
  // Length and writer are confounded here except through the length's variation: the fit
  // still finds the effect and leaves the writers close.
  EXPECT_NEAR(lc->beta[0], 1.5, 1e-3);
  EXPECT_NEAR(lc->bt.rating[0] - lc->bt.rating[1], 0, 1.0);
}

TEST(StyleControl, BadInputsAreErrors) {
  std::vector<Outcome> out = {{0, 1, 0.7, 1.0}, {1, 0, 0.4, 1.0}};
  EXPECT_FALSE(bradley_terry_covariates(2, out, {{0.1}}, BtConfig{}).ok());  // rows != outcomes
  EXPECT_FALSE(bradley_terry_covariates(2, out, {{0.1}, {0.1}}, BtConfig{}).ok());  // constant
  EXPECT_FALSE(bradley_terry_covariates(2, out, {{0.1}, {NAN}}, BtConfig{}).ok());
  EXPECT_FALSE(bradley_terry_covariates(2, {}, {}, BtConfig{}).ok());
  EXPECT_TRUE(bradley_terry_covariates(2, out, {{0.1}, {-0.2}}, BtConfig{}).ok());
  EXPECT_EQ(length_covariate(0, 0), 0);
  EXPECT_DOUBLE_EQ(length_covariate(300, 100), 0.5);
}

}  // namespace
}  // namespace gavel::rank
