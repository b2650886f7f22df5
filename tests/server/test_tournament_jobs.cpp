// Tournament jobs (src/server/tournament_jobs.h) over the deterministic scripted backend: a job
// is the tournament layer's run, so it makes the same judgments and the same figures as
// tournament::run + tournament::analyze called directly on the same responses and options.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "backend/scripted_backend.h"
#include "server/server.h"
#include "server/tournament_jobs.h"
#include "store/store.h"
#include "tournament/driver.h"
#include "tournament/match_judge.h"

namespace gavel::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("gavel_tj_" + std::to_string(getpid()) + "_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

json body(const std::string& option) {
  json writers = json::array();
  const char* names[] = {"terse", "polite", "wrong", "long"};
  for (int w = 0; w < 4; ++w) {
    json rs = json::array();
    for (int p = 0; p < 3; ++p)
      rs.push_back(std::string(names[w]) + " answer " + std::to_string(p) +
                   std::string(size_t(3 * w), '!'));
    writers.push_back({{"name", names[w]}, {"responses", rs}});
  }
  json b = {{"prompts", {"Name a colour.", "Say hello.", "Give a number."}},
            {"writers", writers},
            {"option", option},
            {"rounds", 3},
            {"seed", 11},
            {"bootstrap", 40}};
  if (option == "B") b["iterations"] = 3;
  return b;
}

json wait_done(store::Store& store, int64_t id) {
  for (int i = 0; i < 6000; ++i) {
    auto run = store.run(id);
    EXPECT_TRUE(run.ok() && *run) << "no run " << id;
    if (!run.ok() || !*run) return nullptr;
    if ((*run)->status == "done" || (*run)->status == "failed") {
      EXPECT_EQ((*run)->status, "done") << (*run)->summary;
      return json::parse((*run)->summary);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "job " << id << " not done within 60 s";
  return nullptr;
}

class JobEqualsLayer : public ::testing::TestWithParam<std::string> {};

TEST_P(JobEqualsLayer, SameJudgmentsAndFigures) {
  TempDir dir("eq_" + GetParam());
  auto be = backend::deterministic_backend("").value();
  auto served = store::Store::open((dir.path / "server.sqlite").string()).value();
  auto direct_store = store::Store::open((dir.path / "direct.sqlite").string()).value();
  ServerOptions o;
  o.log_requests = false;
  Server srv(*be, served.get(), o);
  Context& ctx = srv.context();
  auto q = parse_tournament_request(body(GetParam()).dump(), o.limits);
  ASSERT_TRUE(q.ok()) << q.error().message;
  auto id = ctx.tournaments->submit(*q);
  ASSERT_TRUE(id.ok()) << id.error().message;
  const json res = wait_done(*served, *id);
  ASSERT_TRUE(res.is_object());
  srv.stop();

  // The same tournament through the layer, as `gavel tournament` calls it.
  const tournament::ResponseSet& set = q->responses;
  auto proto = judge::make_protocol(q->config, be->info(), ctx.render);
  ASSERT_TRUE(proto.ok()) << proto.message();
  tournament::TextBook texts(set, be.get(), 0);
  auto judge = tournament::make_model_judge(*be, **proto, *direct_store, set, texts, {4});
  auto out = tournament::run(set, *judge, q->tournament);
  ASSERT_TRUE(out.ok()) << out.message();
  auto an = tournament::analyze(set, texts, *out);
  ASSERT_TRUE(an.ok()) << an.message();

  EXPECT_EQ(res["progress"]["matches_done"], out->matches.size());
  EXPECT_EQ(res["progress"]["matches_planned"], out->planned_matches);
  EXPECT_EQ(res["judgments"], an->judgments);
  EXPECT_EQ(*served->count(), *direct_store->count());
  for (const tournament::PlayedMatch& m : out->matches)
    for (const std::string& k : m.result.keys) {
      auto a = served->get(k), b = direct_store->get(k);
      ASSERT_TRUE(a.ok() && *a && b.ok() && *b) << k;
      EXPECT_EQ(**a, **b) << k;
    }
  ASSERT_EQ(res["leaderboard"].size(), an->rows.size());
  for (const tournament::LeaderboardRow& r : an->rows) {
    const json* row = nullptr;
    for (const json& x : res["leaderboard"])
      if (x["writer"] == set.writers[size_t(r.writer)]) row = &x;
    ASSERT_NE(row, nullptr) << set.writers[size_t(r.writer)];
    EXPECT_DOUBLE_EQ((*row)["rating"].get<double>(), r.bt);
    EXPECT_DOUBLE_EQ((*row)["se"].get<double>(), r.bt_se);
    EXPECT_DOUBLE_EQ((*row)["ci_low"].get<double>(), r.bt_ci_low);
    EXPECT_DOUBLE_EQ((*row)["ci_high"].get<double>(), r.bt_ci_high);
    EXPECT_DOUBLE_EQ((*row)["lc"].get<double>(), r.lc);
    EXPECT_DOUBLE_EQ((*row)["elo"].get<double>(), r.rating);
    EXPECT_EQ((*row)["matches"], r.matches);
  }
  const auto by_round = tournament::ratings_by_round(*out, set.n_writers());
  ASSERT_EQ(res["rounds"]["x"].size(), by_round.size());
  for (int w = 0; w < set.n_writers(); ++w)
    for (size_t r = 0; r < by_round.size(); ++r)
      EXPECT_DOUBLE_EQ(res["rounds"]["series"][size_t(w)]["values"][r].get<double>(),
                       by_round[r][size_t(w)]);
  for (int w = 0; w < set.n_writers(); ++w)
    for (int p = 0; p < set.n_prompts(); ++p) {
      const json& v = res["heatmap"]["values"][size_t(w)][size_t(p)];
      if (std::isnan(an->prompt_win[size_t(w)][size_t(p)]))
        EXPECT_TRUE(v.is_null());
      else
        EXPECT_DOUBLE_EQ(v.get<double>(), an->prompt_win[size_t(w)][size_t(p)]);
    }
  EXPECT_DOUBLE_EQ(res["bias"]["position1_mean_prob"].get<double>(), an->bias.position1_mean_prob);
  EXPECT_EQ(res.contains("separability"), GetParam() != "global");
  if (GetParam() != "global") {
    EXPECT_DOUBLE_EQ(res["separability"]["score"].get<double>(), out->separability.score);
  }
}

INSTANTIATE_TEST_SUITE_P(Options, JobEqualsLayer, ::testing::Values("global", "A", "B"));

TEST(TournamentRequest, OptionsMapToTheLayersConfig) {
  RequestLimits lim;
  json b = body("B");
  b["pairing"] = "round-robin";
  b["prompts_per_match"] = 2;
  auto q = parse_tournament_request(b.dump(), lim);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->tournament.option, tournament::Option::kB);
  EXPECT_EQ(q->tournament.pairing, rank::Pairing::kRoundRobin);
  EXPECT_EQ(q->tournament.iterations, 3);
  EXPECT_EQ(q->tournament.prompts_per_match, 2);
  EXPECT_EQ(q->tournament.bt_bootstrap, 40);
  EXPECT_EQ(q->responses.writers[1], "polite");
  EXPECT_EQ(q->responses.instructions[2], "Give a number.");
  b = body("B");
  b.erase("rounds");
  EXPECT_EQ(parse_tournament_request(b.dump(), lim)->tournament.rounds, 20);  // B's default
  b = body("global");
  b["iterations"] = 2;
  auto bad = parse_tournament_request(b.dump(), lim);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().param, "iterations");
  b = body("C");
  bad = parse_tournament_request(b.dump(), lim);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().param, "option");
}

}  // namespace
}  // namespace gavel::server
