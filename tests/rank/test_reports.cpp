// The rank reports and what they are made of: leaderboard CSV and agreement, tournament
// modes and their default rounds, the stand-in judge over items with missing prompts.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "../temp_files.h"
#include "meta/correlation.h"
#include "rank/judges.h"
#include "rank/leaderboard.h"
#include "rank/reports.h"

using namespace gavel::rank;
using gavel::StatusCode;

namespace {

// 4 writers x 3 prompts; writer d has no item on prompt 2.
std::string items_file() {
  std::string s;
  const char* w[] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; ++i)
    for (int p = 0; p < 3; ++p) {
      if (i == 3 && p == 2) continue;
      s += "{\"writer_model\":\"" + std::string(w[i]) + "\",\"prompt_id\":" + std::to_string(p) +
           ",\"clean_score_0_100\":" + std::to_string(40 + 10 * i + p) + ",\"response\":\"" +
           std::string(10 * (i + 1), 'x') + "\"}\n";
    }
  return gavel::testing::write_temp("items.jsonl", s);
}

}  // namespace

TEST(Leaderboard, ReadsNamedColumnsStripsStarsAndQuotes) {
  auto path = gavel::testing::write_temp(
      "lb.csv", "rank,model_name,elo_score\n1,*a,1300\n2,\"b, v2\",1200\n\n3,c,1100\n");
  auto lb = read_leaderboard(path, "model_name", "elo_score");
  ASSERT_TRUE(lb.ok()) << lb.message();
  EXPECT_EQ(lb->rating.size(), 3u);
  EXPECT_EQ(lb->rating.at("a"), 1300);
  EXPECT_EQ(lb->rating.at("b, v2"), 1200);
  auto no_col = read_leaderboard(path, "model_name", "score");
  ASSERT_FALSE(no_col.ok());
  EXPECT_NE(no_col.message().find("no column \"score\""), std::string::npos);
  EXPECT_EQ(no_col.code(), StatusCode::kInvalidArgument);
  auto bad = gavel::testing::write_temp("lb_bad.csv", "model_name,elo_score\na,1\n\nb,high\n");
  auto e = read_leaderboard(bad, "model_name", "elo_score");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("lb_bad.csv:4: \"high\" is not a number"), std::string::npos)
      << e.message();
  auto missing = read_leaderboard(gavel::testing::write_temp("x", "") + ".absent", "n", "v");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
}

TEST(Leaderboard, AgreementIsKendallAndSpearmanOverSharedNames) {
  Leaderboard lb;
  lb.rating = {{"a", 4}, {"b", 3}, {"c", 2}, {"d", 1}, {"e", 0}};
  std::vector<std::string> names = {"a", "b", "x", "c", "d", "e"};
  std::vector<double> ours = {10, 30, 99, 20, 0, -5};
  auto r = leaderboard_agreement(lb, names, ours);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->not_on_leaderboard, std::vector<std::string>{"x"});
  auto k = gavel::meta::kendall_tau_b({10, 30, 20, 0, -5}, {4, 3, 2, 1, 0});
  auto s = gavel::meta::spearman({10, 30, 20, 0, -5}, {4, 3, 2, 1, 0});
  EXPECT_EQ(r->kendall.n, 5);
  EXPECT_EQ(r->kendall.r, k->r);
  EXPECT_EQ(r->spearman.r, s->r);
}

TEST(Tournament, ModesRatingsAndDefaultRounds) {
  EXPECT_EQ(*parse_tournament_mode("option-a"), TournamentMode::kOptionA);
  EXPECT_EQ(parse_tournament_mode("option-c").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(name(TournamentMode::kOptionB), "option-b");
  EXPECT_EQ(default_rounds(TournamentMode::kSwiss), 20);
  EXPECT_EQ(default_rounds(TournamentMode::kOptionA), 5);
  EXPECT_EQ(default_rounds(TournamentMode::kOptionB), 20);
  EXPECT_EQ(*parse_rating_method("bt"), RatingMethod::kBradleyTerry);
  EXPECT_FALSE(parse_rating_method("glicko").ok());
}

TEST(Tournament, StandInJudgeFillsMissingPromptsWithTheWritersMean) {
  auto s = stand_in_judge(items_file(), {}, 5.0);
  ASSERT_TRUE(s.ok()) << s.message();
  // d scored 70 and 71 on prompts 0 and 1: 70.5 stands in for prompt 2.
  EXPECT_DOUBLE_EQ(s->items.mean_value[3][2], 70.5);
  EXPECT_NEAR(s->judge.get(2, 3, 0), 1 / (1 + std::exp(-(70.5 - 42) / 5.0)), 1e-15);
}

TEST(Tournament, ReportUsesTheModesDefaultRoundsAndTheLeaderboard) {
  TournamentReportConfig cfg;
  cfg.in = items_file();
  cfg.mode = TournamentMode::kOptionA;
  cfg.ci_bootstrap = 20;
  cfg.fields.length = "response";
  cfg.both_orders = true;
  cfg.leaderboard = gavel::testing::write_temp("lb2.csv", "model_name,elo_score\na,1\nb,2\nc,3\n");
  auto r = tournament_report(cfg);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->json["rounds"], 5);
  EXPECT_EQ(r->json["mode"], "option-a");
  EXPECT_EQ(r->json["writers"].size(), 4u);
  EXPECT_EQ(r->json["writers"][0]["writer"], "d");  // highest scores
  EXPECT_EQ(r->json["leaderboard"]["n"], 3);
  EXPECT_EQ(r->json["leaderboard"]["not_on_leaderboard"], nlohmann::json::array({"d"}));
  std::map<std::string, double> rating;
  for (const auto& w : r->json["writers"]) rating[w["writer"]] = w["rating"].get<double>();
  auto k = gavel::meta::kendall_tau_b({rating["a"], rating["b"], rating["c"]}, {1, 2, 3});
  EXPECT_EQ(r->json["leaderboard"]["kendall_tau_b"].get<double>(), k->r);
  EXPECT_NEAR(r->json["bias"]["position1_mean_prob"].get<double>(), 0.5, 1e-12);
  ASSERT_EQ(r->tables.size(), 2u);
  cfg.rounds = 3;
  cfg.mode = TournamentMode::kSwiss;
  cfg.leaderboard.clear();
  auto swiss = tournament_report(cfg);
  ASSERT_TRUE(swiss.ok());
  EXPECT_EQ(swiss->json["rounds"], 3);
  EXPECT_FALSE(swiss->json.contains("separability"));
  EXPECT_EQ(swiss->json["rounds_played"], 3);
  EXPECT_EQ(swiss->json["until_stable"], false);
  EXPECT_EQ(swiss->json["stopped_early_tournaments"], 0);
  // --until-stable makes --rounds a cap; 4 writers have too few rounds for the rule to act.
  cfg.until_stable = true;
  auto capped = tournament_report(cfg);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->json["until_stable"], true);
  EXPECT_EQ(capped->json["rounds_played"], 3);
  EXPECT_EQ(capped->json["stopped_early_tournaments"], 0);
}

TEST(Tournament, UntilStableReportsTheRoundsPlayed) {
  // 16 writers 6 points apart: the ranking settles well before the 14-round cap.
  std::string items;
  for (int w = 0; w < 16; ++w)
    for (int p = 0; p < 2; ++p)
      items += "{\"writer_model\":\"w" + std::to_string(w) +
               "\",\"prompt_id\":" + std::to_string(p) +
               ",\"clean_score_0_100\":" + std::to_string(10 + 6 * w) + "}\n";
  TournamentReportConfig cfg;
  cfg.in = gavel::testing::write_temp("stable.jsonl", items);
  cfg.rounds = 14;
  cfg.until_stable = true;
  auto r = tournament_report(cfg);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->json["stopped_early_tournaments"], 1);
  const int played = r->json["rounds_played"];
  EXPECT_GE(played, 4);
  EXPECT_LT(played, 14);
  EXPECT_EQ(r->json["judge_calls"], played * 8);  // 8 pairings a round
}

TEST(Fit, ReportRanksByBradleyTerry) {
  auto path =
      gavel::testing::write_temp("fit.jsonl",
                                 "{\"model_a\":\"x\",\"model_b\":\"y\",\"outcome\":\"A\"}\n"
                                 "{\"model_a\":\"y\",\"model_b\":\"z\",\"outcome\":\"A\"}\n"
                                 "{\"model_a\":\"x\",\"model_b\":\"z\",\"outcome\":\"A\"}\n"
                                 "{\"model_a\":\"z\",\"model_b\":\"x\",\"outcome\":\"B\"}\n");
  FitReportConfig cfg;
  cfg.in = path;
  cfg.bt.alpha = 0.1;
  cfg.bootstrap = 10;
  auto r = fit_report(cfg);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->json["players"][0]["player"], "x");
  EXPECT_EQ(r->json["players"][0]["games"], 3);
  EXPECT_EQ(r->json["players"][0]["score"], 3.0);
  EXPECT_EQ(r->json["comparisons"], 4);
}

TEST(Curve, NeedsAnInputOrASimulation) {
  auto r = curve_report({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), StatusCode::kInvalidArgument);
  CurveReportConfig sim;
  sim.simulate = 4;
  sim.sim_prompts = 2;
  sim.rounds = 2;
  sim.seeds = 2;
  auto c = curve_report(sim);
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_NE(c->preface.find("simulated: 4 writers x 2 prompts"), std::string::npos);
  EXPECT_FALSE(c->json["points"].empty());
}

// A long curve reports progress (every round of every tournament, up to the total), and a
// simulation too large to finish in reasonable time is refused before any work.
TEST(Curve, ReportsProgressAndBoundsTheSimulation) {
  CurveReportConfig sim;
  sim.simulate = 5;
  sim.sim_prompts = 2;
  sim.rounds = 3;
  sim.seeds = 2;
  std::vector<std::pair<int64_t, int64_t>> seen;
  sim.on_progress = [&](int64_t done, int64_t total) { seen.emplace_back(done, total); };
  ASSERT_TRUE(curve_report(sim).ok());
  const int64_t total = 1 + 3 * 2 * 3;  // reference + schemes x seeds x rounds
  ASSERT_EQ(seen.size(), size_t(total));
  for (size_t i = 0; i < seen.size(); ++i)
    EXPECT_EQ(seen[i], std::make_pair(int64_t(i + 1), total));
  sim.simulate = 5000;
  seen.clear();
  auto r = curve_report(sim);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "simulate: must be 2..1000 (writers), got 5000");
  EXPECT_TRUE(seen.empty());
}
