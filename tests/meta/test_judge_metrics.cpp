#include <gtest/gtest.h>

#include <cmath>

#include "meta/classification.h"
#include "meta/judge_metrics.h"
#include "meta/judgemark.h"

using namespace gavel::meta;

TEST(Pairwise, StrictConsistencyAndMass) {
  std::vector<PairJudgment> pairs = {
      // text 1 better; judge right in both orientations.
      {80, 70, 100, 100, 0.9, 0.2},
      // text 1 better; judge always says A (position bias): inconsistent.
      {80, 70, 100, 100, 0.8, 0.7},
      // text 2 better; judge prefers text 1 in both: consistent but wrong.
      {60, 70, 100, 100, 0.6, 0.4},
  };
  auto m = pairwise_metrics(pairs, {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->n, 3);
  EXPECT_DOUBLE_EQ(m->strict_accuracy, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m->positional_consistency, 2.0 / 3);
  // target masses: (0.9+0.8)/2 = 0.85, (0.8+0.3)/2 = 0.55, 1-(0.6+0.6)/2 = 0.4.
  EXPECT_NEAR(m->mean_target_mass, (0.85 + 0.55 + 0.4) / 3, 1e-15);
  EXPECT_NEAR(m->mean_non_target_mass, 1 - (0.85 + 0.55 + 0.4) / 3, 1e-15);
}

TEST(Pairwise, Filters) {
  std::vector<PairJudgment> pairs = {
      {80, 70, 100, 300, 0.9, 0.2},  // length ratio 3
      {80, 78, 100, 100, 0.9, 0.2},  // diff 2
      {80, 72, 100, 150, 0.9, 0.2},  // kept
      {80, 80, 100, 100, 0.9, 0.2},  // gold tie: never kept
  };
  PairFilter f;
  f.max_len_ratio = 2;
  f.min_diff = 5;
  f.max_diff = 10;
  EXPECT_EQ(filter_pairs(pairs, f), std::vector<size_t>{2});
  f.max_len_ratio = 0;
  f.min_diff = 0;
  f.max_diff = 0;
  f.sample = 2;
  EXPECT_EQ(filter_pairs(pairs, f).size(), 2u);
  EXPECT_EQ(filter_pairs(pairs, f), filter_pairs(pairs, f));  // seeded
  pairs[0].p_a_pass1 = 1.5;
  EXPECT_FALSE(pairwise_metrics(pairs, {}).ok());
}

TEST(Bias, PositionLengthSwap) {
  std::vector<MatchRecord> r = {
      {0, 1, 0.8, 200, 100, 0},  // pos 1 wins, longer wins
      {1, 0, 0.6, 100, 200, 0},  // pos 1 wins again -> flip; shorter wins
      {2, 3, 0.3, 100, 100, 1},  // equal lengths
      {3, 2, 0.7, 100, 100, 1},  // consistent: text 3 preferred both times
  };
  auto b = bias_report(r);
  ASSERT_TRUE(b.ok());
  EXPECT_NEAR(b->position1_mean_prob, (0.8 + 0.6 + 0.3 + 0.7) / 4, 1e-15);
  EXPECT_DOUBLE_EQ(b->position1_win_rate, 0.75);
  EXPECT_EQ(b->length_n, 2);
  EXPECT_DOUBLE_EQ(b->longer_win_rate, 0.5);
  EXPECT_NEAR(b->longer_ev_margin, ((2 * 0.8 - 1) + (2 * 0.4 - 1)) / 2, 1e-15);
  EXPECT_EQ(b->swap_pairs, 2);
  EXPECT_DOUBLE_EQ(b->swap_flip_rate, 0.5);
  r[1].first = 5;
  EXPECT_FALSE(bias_report(r).ok());  // not a swap of its partner
}

TEST(Classification, AccuracyF1) {
  auto c = classification({"A", "A", "B", "B"}, {"A", "B", "B", "B"});
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->accuracy, 0.75);
  // A: tp 1, pred 1, gold 2 -> F1 2/3; B: tp 2, pred 3, gold 2 -> F1 4/5.
  EXPECT_NEAR(c->classes[0].f1, 2.0 / 3, 1e-15);
  EXPECT_NEAR(c->classes[1].f1, 0.8, 1e-15);
  EXPECT_NEAR(c->macro_f1, (2.0 / 3 + 0.8) / 2, 1e-15);
  EXPECT_FALSE(classification({"A"}, {}).ok());
}

TEST(Calibration, EceBrier) {
  // Two bins: [0,0.5) holds p=0.2 (y=0), 0.4 (y=1); [0.5,1] holds 0.9 (y=1), 1.0 (y=1).
  auto c = calibration({0.2, 0.4, 0.9, 1.0}, {0, 1, 1, 1}, 2);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->ece, 0.5 * std::abs(0.5 - 0.3) + 0.5 * std::abs(1 - 0.95), 1e-15);
  EXPECT_NEAR(c->brier, (0.04 + 0.36 + 0.01 + 0) / 4, 1e-15);
  EXPECT_FALSE(calibration({0.5}, {2}, 2).ok());
  EXPECT_FALSE(calibration({1.5}, {1}, 2).ok());
}

// The bin count drives memory: 1e9 bins used to allocate until the kernel killed the process.
TEST(Calibration, BinsAreBounded) {
  auto c = calibration({0.2, 0.9}, {0, 1}, 1000000000);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.message(), "bins: must be 1..10000, got 1000000000");
  EXPECT_FALSE(calibration({0.2, 0.9}, {0, 1}, 0).ok());
  EXPECT_TRUE(calibration({0.2, 0.9}, {0, 1}, kMaxCalibrationBins).ok());
}

TEST(Judgemark, ThreeAndFourTermFormula) {
  JudgemarkInput in;
  in.scores = {10, 20, 30, 40, 50};
  in.references["ref"] = {1, 2, 3, 4, 5};
  auto r = judgemark_v1(in);
  ASSERT_TRUE(r.ok());
  // Perfect agreement everywhere: kendall = pearson = 1, std = 15.81 > 15 -> clamp 1.
  EXPECT_NEAR(r->score, 100.0, 1e-12);
  in.anova_f = 14;
  r = judgemark_v1(in);
  EXPECT_NEAR(r->score, 100 * 3.5 / 4, 1e-12);
  in.references["ref"] = {1, 2};
  EXPECT_FALSE(judgemark_v1(in).ok());
}

TEST(Agreement, ChoicesAndHardCredit) {
  EXPECT_EQ(choice_of(0.7), Choice::kText1);
  EXPECT_EQ(choice_of(0.2), Choice::kText2);
  EXPECT_EQ(choice_of(0.5), Choice::kNeither);
  EXPECT_EQ(choice_of(0.7, /*text2_first=*/true), Choice::kText2);
  EXPECT_EQ(choice_of(0.2, /*text2_first=*/true), Choice::kText1);
  EXPECT_EQ(hard_credit(0.51), 1.0);
  EXPECT_EQ(hard_credit(0.5), 0.5);
  EXPECT_EQ(hard_credit(0.49), 0.0);
}

// The definitions, counted by hand: strict = the gold text chosen in both orders, consistency =
// the same text chosen in both; a "neither" order is judged but fails both; an order without a
// verdict leaves the pair out of the both-orders figures.
TEST(Agreement, TallyCountsLikeTheCard) {
  AgreementTally t;
  t.add(true, 0.8, Choice::kText1, Choice::kText1);   // right twice: strict, consistent
  t.add(true, 0.4, Choice::kText1, Choice::kText2);   // flips: neither
  t.add(false, 0.3, Choice::kText2, Choice::kText2);  // gold text 2, right twice
  t.add(false, 0.5, std::nullopt, std::nullopt);      // no verdict: half credit, no orders
  t.add(true, std::nullopt, Choice::kNeither, Choice::kNeither);  // judged, no preference
  Agreement a = t.result();
  EXPECT_EQ(a.n, 5);
  EXPECT_EQ(a.n_scored, 4);
  EXPECT_NEAR(a.accuracy, 2.5 / 4, 1e-15);
  EXPECT_NEAR(a.mean_target, (0.8 + 0.4 + 0.7 + 0.5) / 4, 1e-15);
  EXPECT_EQ(a.n_first_order, 4);
  EXPECT_NEAR(a.accuracy_first_order, 3.0 / 4, 1e-15);
  EXPECT_EQ(a.n_both_orders, 4);
  EXPECT_NEAR(a.strict_accuracy, 2.0 / 4, 1e-15);
  EXPECT_NEAR(a.positional_consistency, 2.0 / 4, 1e-15);
  EXPECT_TRUE(std::isnan(AgreementTally().result().strict_accuracy));
}

// pairwise_metrics is the tally over the pairs: a pass at exactly 0.5 prefers neither text and
// so is neither strict nor consistent, but still counts.
TEST(Pairwise, HalfPassCountsAsNoPreference) {
  std::vector<PairJudgment> pairs = {{80, 70, 1, 1, 0.5, 0.5}, {80, 70, 1, 1, 0.9, 0.1}};
  auto m = pairwise_metrics(pairs, {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->n, 2);
  EXPECT_DOUBLE_EQ(m->strict_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(m->positional_consistency, 0.5);
  EXPECT_DOUBLE_EQ(m->soft_accuracy, (0.5 + 1.0) / 2);
}
