#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "fake_backend.h"
#include "tournament/driver.h"
#include "tournament/match_judge.h"

namespace gavel::tournament {
namespace {

namespace fs = std::filesystem;
using judge::testing::prefer_good;
using judge::testing::ScriptedBackend;

struct Env {
  fs::path dir;
  ResponseSet set;
  std::unique_ptr<store::Store> store;
  explicit Env(const std::string& name, const std::string& rows) {
    dir = fs::temp_directory_path() / ("gavel_mj_" + std::to_string(getpid()) + "_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "in.jsonl") << rows;
    set = std::move(load_responses((dir / "in.jsonl").string(), {}).value());
    store = std::move(store::Store::open((dir / "s.sqlite").string()).value());
  }
  ~Env() { fs::remove_all(dir); }
};

std::string row(const std::string& w, const std::string& p, const std::string& text,
                double score = 50) {
  return nlohmann::json{{"writer_model", w},
                        {"prompt_id", p},
                        {"writing_prompt", "task " + p},
                        {"response", text},
                        {"clean_score_0_100", score}}
             .dump() +
         "\n";
}

TEST(ModelMatchJudge, OnePairOneJudgmentInEitherOrientation) {
  Env env("orient", row("zed", "1", "good text") + row("amy", "1", "bad text"));
  ScriptedBackend be;
  prefer_good(be);
  judge::ProtocolConfig pc;
  auto proto = judge::make_protocol(pc, be.info(), judge::testing::trivial_renderer());
  ASSERT_TRUE(proto.ok());
  TextBook texts(env.set, nullptr, 0);
  auto mj = make_model_judge(be, **proto, *env.store, env.set, texts, {});
  // writer 0 = zed (good), writer 1 = amy. Canonical text 1 = amy (sorts first).
  MatchSpec zed_first{0, 0, 0, 1, 0, 0, 0}, amy_first{0, 1, 1, 0, 0, 0, 0};
  MatchSpec both[] = {zed_first, amy_first};
  auto r = mj->judge(both);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(be.score_log.size(), 2u);  // one judgment (two passes) for both orientations
  ASSERT_EQ(r->size(), 2u);
  double s = 1 / (1 + std::exp(-1.0));
  EXPECT_NEAR((*r)[0].p_writer1, s, 1e-12);      // zed's good text wins
  EXPECT_NEAR((*r)[1].p_writer1, 1 - s, 1e-12);  // amy loses
  EXPECT_EQ((*r)[0].keys, (*r)[1].keys);
  EXPECT_EQ((*r)[0].source, MatchResult::Source::kNew);
  EXPECT_EQ((*r)[1].source, MatchResult::Source::kRun);
  // Pass 1 had the canonical text 1 (amy) as A.
  EXPECT_FALSE((*r)[0].passes[0].writer1_is_a);
  EXPECT_TRUE((*r)[1].passes[0].writer1_is_a);
  EXPECT_EQ(mj->counters().new_judgments, 1);
  EXPECT_EQ(mj->counters().reused_judgments, 1);
  // The key is the one `gavel judge` computes for the canonical item.
  auto item = canonical_item(env.set, texts, zed_first);
  ASSERT_TRUE(item.ok());
  EXPECT_TRUE(item->second);
  EXPECT_EQ(item->first["response_a"], "bad text");
  judge::Item it;
  it.record = item->first;
  auto tasks = (*proto)->plan(it);
  ASSERT_TRUE(tasks.ok());
  EXPECT_EQ((*tasks)[0].key, (*r)[0].keys[0]);
  EXPECT_EQ(*env.store->count(), 1);

  // A new run over the same store: from the store, the backend untouched.
  be.score_log.clear();
  auto mj2 = make_model_judge(be, **proto, *env.store, env.set, texts, {});
  auto again = mj2->judge(both);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(be.score_log.empty());
  EXPECT_EQ((*again)[0].source, MatchResult::Source::kStore);
  EXPECT_EQ((*again)[1].source, MatchResult::Source::kStore);
  EXPECT_EQ((*again)[0].p_writer1, (*r)[0].p_writer1);
  EXPECT_EQ(mj2->counters().stored_judgments, 1);
}

TEST(ModelMatchJudge, BackendErrorsNameTheMatch) {
  Env env("err", row("a", "1", "good") + row("b", "1", "boom"));
  ScriptedBackend be;
  prefer_good(be);
  be.fail_if = [](const std::string& p) { return p.find("boom") != std::string::npos; };
  judge::ProtocolConfig pc;
  auto proto = judge::make_protocol(pc, be.info(), judge::testing::trivial_renderer());
  TextBook texts(env.set, nullptr, 0);
  auto mj = make_model_judge(be, **proto, *env.store, env.set, texts, {});
  MatchSpec m{0, 0, 0, 1, 0, 0, 0};
  auto r = mj->judge(std::span(&m, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("scripted score failure"), std::string::npos) << r.message();
  EXPECT_EQ(*env.store->count(), 0);
}

TEST(Driver, OddFieldMissingResponsesAndOptionB) {
  std::string rows;
  const char* names[] = {"a", "b", "c", "d", "e"};
  for (int p = 0; p < 3; ++p)
    for (int w = 0; w < 5; ++w)
      if (!(w == 4 && p == 2)) rows += row(names[w], std::to_string(p), "x", 30 + 10 * w + p);
  Env env("drv", rows);
  auto judge = make_stand_in_judge(env.set, 5.0);
  ASSERT_TRUE(judge.ok()) << judge.message();
  Config cfg;
  cfg.rounds = 3;
  auto a = run(env.set, **judge, cfg);
  ASSERT_TRUE(a.ok()) << a.message();
  EXPECT_EQ(a->matches.size(), 3u * (2 + 2 + 2));  // fields 5, 5, 4: two matches a round
  EXPECT_TRUE(std::isnan(a->ratings[4][2]));       // e did not play prompt 2
  ASSERT_EQ(a->tournaments.size(), 3u);
  EXPECT_EQ(a->tournaments[2].writers.size(), 4u);
  EXPECT_EQ(planned_matches(env.set, cfg), 18);
  TextBook texts(env.set, nullptr, 0);
  auto an = analyze(env.set, texts, *a);
  ASSERT_TRUE(an.ok()) << an.message();
  EXPECT_EQ(an->rows.front().writer, 4);  // e scores best
  EXPECT_EQ(an->length_unit, "chars");
  EXPECT_FALSE(an->length_fitted);  // every text is "x"
  cfg.option = Option::kB;
  cfg.iterations = 3;
  auto b = run(env.set, **judge, cfg);
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_EQ(b->tournaments.size(), 3u);
  EXPECT_EQ(b->matches.size() + 0u, 3u * 3u * 2u - b->unplayable);
  for (const PlayedMatch& m : b->matches)
    EXPECT_TRUE(env.set.has(m.spec.writer1, m.spec.prompt) &&
                env.set.has(m.spec.writer2, m.spec.prompt));
}

TEST(Driver, OptionGlobalPromptsPerMatchRoundsAndHeatmap) {
  std::string rows;
  const char* names[] = {"a", "b", "c", "d"};
  for (int p = 0; p < 3; ++p)
    for (int w = 0; w < 4; ++w)
      rows += row(names[w], std::to_string(p), std::string(size_t(1 + w), 'x'), 30 + 10 * w + p);
  Env env("glob", rows);
  auto judge = make_stand_in_judge(env.set, 5.0);
  ASSERT_TRUE(judge.ok()) << judge.message();
  ASSERT_EQ(*parse_option("global"), Option::kGlobal);
  EXPECT_EQ(name(Option::kGlobal), "global");
  EXPECT_FALSE(parse_option("C").ok());
  Config cfg;
  cfg.option = Option::kGlobal;
  cfg.rounds = 4;
  cfg.prompts_per_match = 2;
  cfg.bt_bootstrap = 50;
  EXPECT_EQ(planned_matches(env.set, cfg), 4 * 2 * 2);
  auto out = run(env.set, **judge, cfg);
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_EQ(int64_t(out->matches.size()), out->planned_matches);
  ASSERT_EQ(out->tournaments.size(), 1u);
  EXPECT_EQ(out->tournaments[0].prompts, (std::vector<int>{0, 1, 2}));
  // Matches come in twos per pairing, each on its own drawn prompt, all prompts in play.
  std::set<int> prompts;
  for (size_t i = 0; i < out->matches.size(); i += 2) {
    EXPECT_EQ(out->matches[i].spec.writer1, out->matches[i + 1].spec.writer1);
    EXPECT_EQ(out->matches[i].spec.writer2, out->matches[i + 1].spec.writer2);
    prompts.insert(out->matches[i].spec.prompt);
    prompts.insert(out->matches[i + 1].spec.prompt);
  }
  EXPECT_EQ(prompts.size(), 3u);
  // Ratings after every round; the last round's are the tournament's ratings.
  ASSERT_EQ(out->round_ratings.size(), 4u);
  auto by_round = ratings_by_round(*out, 4);
  ASSERT_EQ(by_round.size(), 4u);
  for (int w = 0; w < 4; ++w) {
    EXPECT_DOUBLE_EQ(by_round[3][w], out->mean[w]);
    EXPECT_TRUE(std::isnan(out->sd[w]));
  }
  TextBook texts(env.set, nullptr, 0);
  auto an = analyze(env.set, texts, *out);
  ASSERT_TRUE(an.ok()) << an.message();
  EXPECT_EQ(an->rows.front().writer, 3);    // d scores best
  for (const LeaderboardRow& r : an->rows)  // percentile CIs (they need not hold the point)
    EXPECT_TRUE(std::isfinite(r.bt_ci_low) && r.bt_ci_low < r.bt_ci_high) << r.writer;
  // The heatmap: each cell the mean P(win) of the writer's matches on the prompt.
  ASSERT_EQ(an->prompt_win.size(), 4u);
  for (int w = 0; w < 4; ++w)
    for (int p = 0; p < 3; ++p) {
      double sum = 0;
      int n = 0;
      for (const PlayedMatch& m : out->matches)
        if (m.spec.prompt == p && (m.spec.writer1 == w || m.spec.writer2 == w))
          sum += m.spec.writer1 == w ? m.result.p_writer1 : 1 - m.result.p_writer1, ++n;
      if (n == 0)
        EXPECT_TRUE(std::isnan(an->prompt_win[w][p]));
      else
        EXPECT_DOUBLE_EQ(an->prompt_win[w][p], sum / n);
    }
  // Option A reports every prompt tournament's rounds; averaged per round. No CIs asked.
  cfg.bt_bootstrap = 0;
  cfg.option = Option::kA;
  cfg.prompts_per_match = 1;
  cfg.rounds = 2;
  auto a = run(env.set, **judge, cfg);
  ASSERT_TRUE(a.ok()) << a.message();
  ASSERT_EQ(a->round_ratings.size(), 3u * 2u);
  EXPECT_EQ(a->round_ratings[5].tournament, 2);
  auto a_rounds = ratings_by_round(*a, 4);
  ASSERT_EQ(a_rounds.size(), 2u);
  for (int w = 0; w < 4; ++w) EXPECT_NEAR(a_rounds[1][w], a->mean[w], 1e-9);
  auto a_an = analyze(env.set, texts, *a);
  ASSERT_TRUE(a_an.ok()) << a_an.message();
  EXPECT_TRUE(std::isnan(a_an->rows[0].bt_ci_low));
}

}  // namespace
}  // namespace gavel::tournament
