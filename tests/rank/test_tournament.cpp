#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "meta/correlation.h"
#include "rank/judges.h"
#include "rank/pairing.h"
#include "rank/tournament.h"

using namespace gavel;
using namespace gavel::rank;

namespace {

std::vector<double> linear_strengths(int n) {
  std::vector<double> s;
  for (int i = 0; i < n; ++i) s.push_back(0.15 * i);
  return s;
}

double tau(const std::vector<double>& a, const std::vector<double>& b) {
  return meta::kendall_tau_b(a, b)->r;
}

}  // namespace

TEST(Pairing, RoundRobinCoversEveryPairOnce) {
  auto pairs = round_robin_pairs(5);
  EXPECT_EQ(pairs.size(), 10u);
  std::set<Pair> seen;
  for (auto [a, b] : pairs) seen.insert({std::min(a, b), std::max(a, b)});
  EXPECT_EQ(seen.size(), 10u);
}

TEST(Pairing, SwissAvoidsRematchesAndRotatesByes) {
  PairingState st;
  st.n_players = 7;
  st.rating.assign(7, 1500);
  st.byes.assign(7, 0);
  std::mt19937_64 rng(3);
  for (int round = 0; round < 6; ++round) {
    auto pairs = swiss_round(st, rng);
    EXPECT_EQ(pairs.size(), 3u);
    for (auto [a, b] : pairs) {
      Pair k{std::min(a, b), std::max(a, b)};
      // 7 players have 6 opponents each: 6 rounds can avoid every rematch.
      EXPECT_FALSE(st.played.count(k)) << "rematch in round " << round;
      st.played.insert(k);
    }
  }
  // 6 byes over 7 players: nobody sat out twice.
  for (int b : st.byes) EXPECT_LE(b, 1);
}

TEST(Tournament, SwissRecoversSimulatedRanking) {
  SimulatedJudgeConfig sc;
  sc.strength = linear_strengths(16);
  sc.judge_noise = 0.3;
  SimulatedJudge judge(sc);
  TournamentConfig cfg;
  cfg.rounds = 12;
  cfg.both_orders = true;
  auto r = run_tournament(16, cfg, std::ref(judge));
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->outcomes.size(), 12u * 8);
  EXPECT_EQ(r->log.size(), 2u * 12 * 8);
  EXPECT_GT(tau(r->rating, sc.strength), 0.8);
  cfg.rating = RatingMethod::kBradleyTerry;
  auto bt = run_tournament(16, cfg, std::ref(judge));
  ASSERT_TRUE(bt.ok());
  EXPECT_GT(tau(bt->rating, sc.strength), 0.8);
}

TEST(Tournament, RoundRobinAndAdaptiveAgree) {
  SimulatedJudgeConfig sc;
  sc.strength = linear_strengths(10);
  SimulatedJudge judge(sc);
  TournamentConfig rr;
  rr.pairing = Pairing::kRoundRobin;
  rr.rounds = 1;
  rr.rating = RatingMethod::kBradleyTerry;
  auto full = run_tournament(10, rr, std::ref(judge));
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->outcomes.size(), 45u);
  // Noise-free judge: the full round robin recovers the truth exactly.
  EXPECT_DOUBLE_EQ(tau(full->rating, sc.strength), 1.0);
  TournamentConfig ad = rr;
  ad.pairing = Pairing::kAdaptive;
  ad.rounds = 5;
  auto a = run_tournament(10, ad, std::ref(judge));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->outcomes.size(), 25u);
  EXPECT_GT(tau(a->rating, full->rating), 0.8);
}

TEST(Tournament, JudgeErrorsAndBadAnswersPropagate) {
  TournamentConfig cfg;
  auto failing = [](const Match& m) -> Result<double> {
    if (m.round == 1) return Error{"judge offline"};
    return 0.5;
  };
  auto r = run_tournament(4, cfg, failing);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("judge offline"), std::string::npos);
  auto bad = [](const Match&) -> Result<double> { return 1.5; };
  EXPECT_FALSE(run_tournament(4, cfg, bad).ok());
  EXPECT_FALSE(run_tournament(1, cfg, bad).ok());
  CachedJudge empty;
  auto miss = run_tournament(4, cfg, std::ref(empty));
  ASSERT_FALSE(miss.ok());
  EXPECT_NE(miss.message().find("no cached judgment"), std::string::npos);
}

TEST(Tournament, PositionBiasShowsInLog) {
  SimulatedJudgeConfig sc;
  sc.strength.assign(8, 0.0);
  sc.position_bias = 0.4;  // P(position 1) = sigmoid(0.4) for equals
  SimulatedJudge judge(sc);
  TournamentConfig cfg;
  cfg.both_orders = true;
  auto r = run_tournament(8, cfg, std::ref(judge));
  ASSERT_TRUE(r.ok());
  for (const auto& j : r->log) EXPECT_NEAR(j.p, 1 / (1 + std::exp(-0.4)), 1e-12);
  // Averaging both orders cancels it: every outcome is a tie.
  for (const auto& o : r->outcomes) EXPECT_NEAR(o.score, 0.5, 1e-12);
}

TEST(OptionAB, ShapesAndSeparability) {
  SimulatedJudgeConfig sc;
  sc.strength = linear_strengths(8);
  sc.n_prompts = 6;
  sc.prompt_noise = 0.3;
  SimulatedJudge judge(sc);
  TournamentConfig cfg;
  cfg.rounds = 4;
  auto a = option_a(8, 6, cfg, std::ref(judge), 100);
  ASSERT_TRUE(a.ok()) << a.message();
  EXPECT_EQ(a->ratings.size(), 8u);
  EXPECT_EQ(a->ratings[0].size(), 6u);
  EXPECT_GT(a->separability.anova.omega2, 0.3);
  EXPECT_GT(tau(a->mean, sc.strength), 0.6);
  auto b = option_b(8, 6, 5, cfg, std::ref(judge), 100);
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_EQ(b->ratings[0].size(), 5u);
  EXPECT_GT(tau(b->mean, sc.strength), 0.6);
  auto again = option_b(8, 6, 5, cfg, std::ref(judge), 100);
  EXPECT_EQ(b->mean, again->mean);  // seeded end to end
}

TEST(Judges, ScoreDifferenceJudge) {
  auto j = score_difference_judge({{70, 50}, {60, 50}}, 10.0);
  ASSERT_TRUE(j.ok());
  EXPECT_NEAR(j->get(0, 0, 1), 1 / (1 + std::exp(-1.0)), 1e-15);
  EXPECT_DOUBLE_EQ(j->get(1, 0, 1), 0.5);
  EXPECT_FALSE(score_difference_judge({{70, NAN}, {60, 50}}, 10.0).ok());
  EXPECT_FALSE(score_difference_judge({{70}, {60}}, 0.0).ok());
}
