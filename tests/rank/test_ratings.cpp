#include <gtest/gtest.h>

#include <cmath>

#include "rank/elo.h"

using namespace gavel::rank;

TEST(Elo, HandComputedUpdate) {
  EloConfig cfg;  // K 32, 1500
  auto r = elo_sequential(2, {{0, 1, 1.0}}, cfg);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ((*r)[0], 1516);  // expected 0.5 -> +16
  EXPECT_DOUBLE_EQ((*r)[1], 1484);
  // Second game, 1 beats 0: E_1 = 1/(1+10^(32/400)).
  auto r2 = elo_sequential(2, {{0, 1, 1.0}, {1, 0, 1.0}}, cfg);
  double e = 1 / (1 + std::pow(10.0, 32.0 / 400));
  EXPECT_NEAR((*r2)[1], 1484 + 32 * (1 - e), 1e-12);
  // Soft outcome 0.5 between equals changes nothing.
  auto r3 = elo_sequential(3, {{0, 2, 0.5}}, cfg);
  EXPECT_DOUBLE_EQ((*r3)[0], 1500);
}

TEST(Elo, RejectsBadOutcomes) {
  EloConfig cfg;
  EXPECT_FALSE(elo_sequential(2, {{0, 2, 1.0}}, cfg).ok());
  EXPECT_FALSE(elo_sequential(2, {{0, 0, 1.0}}, cfg).ok());
  EXPECT_FALSE(elo_sequential(2, {{0, 1, 1.5}}, cfg).ok());
}

TEST(BradleyTerry, TwoPlayersClosedForm) {
  // a beats b twice, loses once; with a negligible prior theta_a - theta_b = ln 2.
  BtConfig cfg;
  cfg.alpha = 1e-10;
  auto r = bradley_terry(2, {{0, 1, 1}, {0, 1, 1}, {1, 0, 1}}, cfg);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->theta[0] - r->theta[1], std::log(2.0), 1e-8);
  EXPECT_NEAR(r->theta[0] + r->theta[1], 0.0, 1e-12);  // mean-zero anchor
  EXPECT_NEAR(r->rating[0] - r->rating[1], 400 * std::log10(2.0), 1e-5);
  // A soft outcome 2/3 is the same likelihood as the three games.
  auto s = bradley_terry(2, {{0, 1, 2.0 / 3, 3.0}}, cfg);
  EXPECT_NEAR(s->theta[0], r->theta[0], 1e-9);
}

TEST(BradleyTerry, DisconnectedAndSeparatedStillSolve) {
  BtConfig cfg;
  cfg.alpha = 0.01;
  // {0,1} and {2,3} never meet; 0 always beats 1 (perfect separation).
  auto r = bradley_terry(4, {{0, 1, 1}, {0, 1, 1}, {2, 3, 0.5}}, cfg);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->theta[0], r->theta[1]);
  EXPECT_NEAR(r->theta[2], 0.0, 1e-12);
  EXPECT_NEAR(r->theta[3], 0.0, 1e-12);
  EXPECT_GT(r->std_error[0], 0.0);
  cfg.alpha = 0;
  EXPECT_FALSE(bradley_terry(4, {}, cfg).ok());
}

TEST(BradleyTerry, BootstrapIsSeededAndCoversFit) {
  std::vector<Outcome> o;
  for (int i = 0; i < 30; ++i) o.push_back({i % 3, (i + 1) % 3, (i % 4) / 3.0});
  BtConfig cfg;
  auto a = bradley_terry_bootstrap(3, o, cfg, 100, 5);
  auto b = bradley_terry_bootstrap(3, o, cfg, 100, 5);
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a->ci_low[i], b->ci_low[i]);
    EXPECT_LE(a->ci_low[i], a->ci_high[i]);
  }
}

// Bootstrap levels, sample counts and Elo parameters out of range are errors, not a crash or
// NaN ratings (a level of 1e6 used to index far outside the draws).
TEST(BradleyTerry, RejectsParametersOutOfRange) {
  std::vector<Outcome> o;
  for (int i = 0; i < 12; ++i) o.push_back({i % 3, (i + 1) % 3, 1.0});
  BtConfig cfg;
  for (double level : {1e6, 2.0, std::nan(""), 0.0}) {
    auto r = bradley_terry_bootstrap(3, o, cfg, 20, 5, level);
    ASSERT_FALSE(r.ok()) << level;
    EXPECT_EQ(r.message().rfind("level:", 0), 0u) << r.message();
  }
  EXPECT_FALSE(bradley_terry_bootstrap(3, o, cfg, -1, 5).ok());
  cfg.alpha = std::nan("");
  EXPECT_FALSE(bradley_terry(3, o, cfg).ok());
  EloConfig elo;
  elo.k = std::nan("");
  auto e = elo_sequential(3, o, elo);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.message(), "k: must be a finite number >= 0, got nan");
  elo = {};
  elo.initial = INFINITY;
  EXPECT_FALSE(elo_sequential(3, o, elo).ok());
}
