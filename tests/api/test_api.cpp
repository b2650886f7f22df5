// The public API on a real small model (SmolLM2-135M from scripts/setup.sh; a missing model
// fails): its numbers equal the batch runner's (`gavel judge`) on the same input, the store
// answers repeated calls, cancellation keeps finished batches, and bad input is an error
// naming what is wrong; through an HTTP server (the fake engine of tests/python/fake_engine.py)
// the API equals the runner on the same server. Plus the header-only user (public_headers.cpp) and
// the statistics entry points.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/embedded_backend.h"
#include "backend/open.h"
#include "chat/chat.h"
#include "gavel/judge.h"
#include "gavel/meta.h"
#include "gavel/store.h"
#include "gavel/tournament.h"
#include "judge/judge_protocol.h"
#include "judge/runner.h"
#include "store/store.h"

// public_headers.cpp, compiled with include/ only.
namespace public_api {
std::string open_error(const std::string& model);
double separability_score(const std::vector<gavel::ScoredItem>& items);
std::vector<double> round_robin(int n);
long long store_count(const std::string& path);
}  // namespace public_api

namespace gavel {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string small_model() {
  const char* env = std::getenv("GAVEL_MODELS");
  const char* home = std::getenv("HOME");
  fs::path dir = env ? fs::path(env) : fs::path(home ? home : "/root") / ".cache/gavel/models";
  fs::path p = dir / "smollm2-135m-instruct-q4_1.gguf";
  EXPECT_TRUE(fs::exists(p)) << p << " missing (run scripts/setup.sh)";
  return p.string();
}

// A unique scratch directory per test (ctest runs tests in parallel).
class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("gavel_api_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::unique_ptr<Judge> open(const std::string& store = "", int ctx = 4096) {
    JudgeOptions o;
    o.backend.model = small_model();
    o.backend.ctx = ctx;
    o.store = store;
    auto j = Judge::open(o);
    EXPECT_TRUE(j.ok()) << j.message();
    return j.ok() ? std::move(j).value() : nullptr;
  }

  fs::path dir_;
};

const std::vector<PairItem> kPairs = {
    {"Name a prime number.", "7", "8", "p1"},
    {"Say hello politely.", "Hello, nice to meet you!", "What do you want?", "p2"},
    {"What is 2+2?", "4", "22", "p3"},
};

// The records the batch runner (as `gavel judge` calls it) writes for kPairs on `be`.
std::vector<Json> runner_records(Backend& be, const std::string& dir) {
  const std::string in_path = dir + "/in.jsonl", out_path = dir + "/out.jsonl";
  {
    std::ofstream in(in_path);
    for (const PairItem& p : kPairs)
      in << Json{{"id", p.id},
                 {"instruction", p.instruction},
                 {"response_a", p.a},
                 {"response_b", p.b}}
                .dump()
         << "\n";
  }
  const std::string tmpl = be.info().chat_template;
  const judge::ProtocolConfig pc;  // pairwise-logprob, the CLI's defaults
  auto proto = judge::make_protocol(
      pc, be.info(), [tmpl](const Json& m, const Json& v) { return chat::render(tmpl, m, v); });
  EXPECT_TRUE(proto.ok()) << proto.message();
  auto st = store::Store::open(dir + "/runner.sqlite");
  EXPECT_TRUE(st.ok());
  if (!proto.ok() || !st.ok()) return {};
  judge::RunConfig cfg;
  cfg.input_path = in_path;
  cfg.out_path = out_path;
  cfg.progress = false;
  auto sum = judge::run_judge(be, **proto, **st, cfg, nullptr);
  EXPECT_TRUE(sum.ok()) << sum.message();
  std::vector<Json> cli;
  std::ifstream out(out_path);
  for (std::string line; std::getline(out, line);) cli.push_back(Json::parse(line));
  return cli;
}

TEST_F(ApiTest, PairwiseEqualsTheBatchRunnerOnTheSameInput) {
  auto be = backend::EmbeddedBackend::open(small_model(), {2, 4096, 4});
  ASSERT_TRUE(be.ok()) << be.message();
  std::vector<Json> cli = runner_records(**be, dir_.string());
  ASSERT_EQ(cli.size(), kPairs.size());

  auto judge = open();
  ASSERT_TRUE(judge);
  auto batch = judge->pairwise(std::span<const PairItem>(kPairs), {}, BatchOptions{2, {}});
  ASSERT_TRUE(batch.ok()) << batch.message();
  ASSERT_EQ(batch->size(), kPairs.size());
  for (size_t i = 0; i < kPairs.size(); ++i) {
    ASSERT_TRUE((*batch)[i].ok()) << (*batch)[i].message();
    const PairwiseResult& b = *(*batch)[i];
    auto single = judge->pairwise(kPairs[i]);
    ASSERT_TRUE(single.ok()) << single.message();
    EXPECT_EQ(b.id, cli[i]["id"]);
    EXPECT_EQ(b.key, cli[i]["key"]);  // same fingerprint, protocol, prompts, parameters
    EXPECT_EQ(b.p_text1, cli[i]["p_text1"].get<double>());
    EXPECT_EQ(b.pass1.logprob_a, cli[i]["pass1"]["logprob_A"].get<double>());
    EXPECT_EQ(b.pass1.logprob_b, cli[i]["pass1"]["logprob_B"].get<double>());
    EXPECT_EQ(b.pass2.logprob_a, cli[i]["pass2"]["logprob_A"].get<double>());
    EXPECT_EQ(b.pass2.p_b, cli[i]["pass2"]["p_B"].get<double>());
    EXPECT_EQ(single->p_text1, b.p_text1);  // batched or alone: the same bits
    EXPECT_EQ(single->key, b.key);
    EXPECT_EQ(b.p_text1, (b.pass1.p_a + b.pass2.p_b) / 2);
    EXPECT_TRUE(b.pass1.text1_is_a);
    EXPECT_FALSE(b.pass2.text1_is_a);
    // The record is the one the runner writes, but for the line number.
    Json rec = Json::parse(b.record);
    Json want = cli[i];
    want["line"] = i + 1;
    EXPECT_EQ(rec, want);
  }
}

// tests/python/fake_engine.py serving `gguf` with llama.cpp's server API on 127.0.0.1: a
// deterministic function of the token ids, tokenized by llama.cpp itself. Killed on scope exit.
class FakeEngine {
 public:
  explicit FakeEngine(const std::string& gguf) {
    const char* venv = std::getenv("GAVEL_VENV");
    const char* home = std::getenv("HOME");
    const std::string py =
        (venv ? fs::path(venv) : fs::path(home ? home : "/root") / ".cache/gavel/venv") /
        "bin/python";
    const std::string script = GAVEL_SOURCE_DIR "/tests/python/fake_engine.py";
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      execl(py.c_str(), py.c_str(), script.c_str(), "--kind", "llama.cpp", "--gguf", gguf.c_str(),
            "--port", "0", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    std::string line;
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    close(fds[0]);
    if (line.rfind("PORT ", 0) == 0) url_ = "http://127.0.0.1:" + line.substr(5);
    EXPECT_FALSE(url_.empty()) << py << " " << script << " did not start (said '" << line
                               << "'; run scripts/setup.sh)";
  }
  ~FakeEngine() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

TEST_F(ApiTest, HttpBackendEqualsTheBatchRunnerOnTheSameServer) {
  FakeEngine server(small_model());
  ASSERT_FALSE(server.url().empty());
  BackendSpec spec;
  spec.model = small_model();  // the tokenizer and chat template
  spec.urls = {server.url()};
  auto be = backend::open_backend(spec, nullptr);
  ASSERT_TRUE(be.ok()) << be.message();
  std::vector<Json> cli = runner_records(**be, dir_.string());
  ASSERT_EQ(cli.size(), kPairs.size());

  JudgeOptions o;
  o.backend = spec;
  auto judge = Judge::open(o);
  ASSERT_TRUE(judge.ok()) << judge.message();
  EXPECT_EQ((*judge)->info().fingerprint.rfind("http:llama.cpp:fake-model:", 0), 0u)
      << (*judge)->info().fingerprint;
  EXPECT_EQ((*judge)->info().fingerprint, (*be)->info().fingerprint);
  auto batch = (*judge)->pairwise(std::span<const PairItem>(kPairs), {}, BatchOptions{2, {}});
  ASSERT_TRUE(batch.ok()) << batch.message();
  for (size_t i = 0; i < kPairs.size(); ++i) {
    ASSERT_TRUE((*batch)[i].ok()) << (*batch)[i].message();
    const PairwiseResult& b = *(*batch)[i];
    EXPECT_EQ(b.key, cli[i]["key"]);
    EXPECT_EQ(b.p_text1, cli[i]["p_text1"].get<double>());
    EXPECT_TRUE(cli[i]["pass1"]["exact"].get<bool>());
    Json rec = Json::parse(b.record);
    Json want = cli[i];
    want["line"] = i + 1;
    EXPECT_EQ(rec, want);
  }
}

TEST_F(ApiTest, HttpBackendErrorsCarryTheirCode) {
  JudgeOptions o;
  o.backend.model = small_model();
  o.backend.urls = {"ftp://127.0.0.1:1"};
  auto bad_url = Judge::open(o);
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.code(), StatusCode::kInvalidArgument) << bad_url.message();
  EXPECT_NE(bad_url.message().find("ftp://127.0.0.1:1"), std::string::npos);

  int port;
  {
    FakeEngine gone(small_model());  // a port that was just served and is free now
    ASSERT_FALSE(gone.url().empty());
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  o.backend.urls = {"http://127.0.0.1:" + std::to_string(port)};
  o.backend.retries = 1;
  o.backend.down_timeout_s = 0.5;
  auto down = Judge::open(o);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.message();
  EXPECT_NE(down.message().find(o.backend.urls[0]), std::string::npos) << down.message();

  // The HTTP fields are checked for the API as the CLI's flags check them.
  auto expect_refused = [&](BackendSpec spec, const std::string& what) {
    JudgeOptions bad;
    bad.backend = std::move(spec);
    auto r = Judge::open(bad);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.code(), StatusCode::kInvalidArgument) << r.message();
    EXPECT_NE(r.message().find(what), std::string::npos) << r.message();
  };
  BackendSpec spec = o.backend;
  spec.concurrency = 0;
  expect_refused(spec, "concurrency must be 1..1024, got 0");
  spec = o.backend;
  spec.retries = -1;
  expect_refused(spec, "retries must be 0..100, got -1");
  spec = o.backend;
  spec.request_timeout_s = std::numeric_limits<double>::quiet_NaN();
  expect_refused(spec, "request_timeout_s must be");
  spec = o.backend;
  spec.top_n = 0;
  expect_refused(spec, "top_n must be 1..1048576, got 0");
}

TEST_F(ApiTest, TheStoreAnswersRepeatedCalls) {
  auto judge = open(path("s.sqlite"));
  ASSERT_TRUE(judge);
  auto first = judge->pairwise(std::span<const PairItem>(kPairs), {}, BatchOptions{});
  ASSERT_TRUE(first.ok()) << first.message();
  auto again = judge->pairwise(std::span<const PairItem>(kPairs), {}, BatchOptions{});
  ASSERT_TRUE(again.ok()) << again.message();
  for (size_t i = 0; i < kPairs.size(); ++i) {
    EXPECT_FALSE((*first)[i]->cached);
    EXPECT_TRUE((*again)[i]->cached);
    EXPECT_EQ((*again)[i]->p_text1, (*first)[i]->p_text1);
    EXPECT_EQ((*again)[i]->pass1.logprob_b, (*first)[i]->pass1.logprob_b);
  }
  auto js = JudgmentStore::open(path("s.sqlite"));
  ASSERT_TRUE(js.ok());
  EXPECT_EQ(*(*js)->count(), 3);
  EXPECT_EQ(public_api::store_count(path("s.sqlite")), 3);
  std::vector<std::string> keys;
  ASSERT_TRUE((*js)
                  ->for_each([&](const StoredJudgment& j) {
                    keys.push_back(j.key);
                    EXPECT_EQ(j.protocol, "pairwise-logprob");
                    EXPECT_EQ(Json::parse(j.record)["p_text1"].get<double>(),
                              (*first)[keys.size() - 1]->p_text1);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(keys, (std::vector<std::string>{(*first)[0]->key, (*first)[1]->key, (*first)[2]->key}));
}

TEST_F(ApiTest, CancelledBatchesKeepFinishedWorkInTheStore) {
  auto judge = open(path("s.sqlite"));
  ASSERT_TRUE(judge);
  std::vector<Progress> seen;
  BatchOptions bo{1, [&](const Progress& p) {
                    seen.push_back(p);
                    return p.done < 1;  // stop after the first item
                  }};
  auto r = judge->pairwise(std::span<const PairItem>(kPairs), {}, bo);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("cancelled after 1 of 3 items"), std::string::npos) << r.message();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].done, 0);
  EXPECT_EQ(seen[1].done, 1);
  EXPECT_EQ(seen[1].judged, 1);
  EXPECT_EQ(seen[1].total, 3);
  auto js = JudgmentStore::open(path("s.sqlite"));
  ASSERT_TRUE(js.ok());
  EXPECT_EQ(*(*js)->count(), 1);
  auto resumed = judge->pairwise(std::span<const PairItem>(kPairs), {}, BatchOptions{});
  ASSERT_TRUE(resumed.ok());
  EXPECT_TRUE((*resumed)[0]->cached);
  EXPECT_FALSE((*resumed)[1]->cached);
}

TEST_F(ApiTest, BadInputIsAnErrorNamingIt) {
  EXPECT_NE(public_api::open_error(path("missing.gguf")).find("missing.gguf"), std::string::npos);
  {
    std::ofstream f(path("junk.gguf"));
    f << "not a model";
  }
  EXPECT_NE(public_api::open_error(path("junk.gguf")).find("junk.gguf"), std::string::npos);
  JudgeOptions o;
  o.backend.model = small_model();
  o.backend.threads = 0;
  auto bad = Judge::open(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("threads"), std::string::npos);

  auto judge = open("", 128);
  ASSERT_TRUE(judge);
  PairwiseOptions po;
  po.read = "most";
  auto r = judge->pairwise(kPairs[0], po);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("read"), std::string::npos);

  CritiqueItem no_rubric;
  no_rubric.instruction = "x";
  no_rubric.response = "y";
  auto c = judge->critique(no_rubric);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("rubric"), std::string::npos) << c.message();
  CritiqueOptions co;
  co.mode = "sideways";
  auto m = judge->critique(no_rubric, co);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.message().find("unknown mode 'sideways'"), std::string::npos) << m.message();

  // One item longer than the context fails alone; the others are judged.
  std::vector<PairItem> items = kPairs;
  items[1].a = std::string(2000, 'x');
  auto batch = judge->pairwise(std::span<const PairItem>(items), {}, BatchOptions{});
  ASSERT_TRUE(batch.ok()) << batch.message();
  EXPECT_TRUE((*batch)[0].ok());
  EXPECT_FALSE((*batch)[1].ok());
  EXPECT_TRUE((*batch)[2].ok());
}

TEST_F(ApiTest, CritiqueReadsTheProtocolsRecord) {
  auto judge = open();
  ASSERT_TRUE(judge);
  CritiqueItem it;
  it.instruction = "Name a prime number.";
  it.response = "7";
  it.rubric =
      "Is the answer correct?\nScore 1: wrong\nScore 2: mostly wrong\nScore 3: unclear\n"
      "Score 4: mostly right\nScore 5: right";
  CritiqueOptions co;
  co.max_tokens = 24;
  auto r = judge->critique(it, co);
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->passes.size(), 1u);
  const CritiquePass& p = r->passes[0];
  Json rec = Json::parse(r->record);
  EXPECT_EQ(p.critique, rec["passes"][0]["critique"].get<std::string>());
  EXPECT_EQ(p.outcome, rec["passes"][0]["outcome"].get<std::string>());
  EXPECT_LE(p.generated_tokens, 24);
  if (p.finish == "length") {
    EXPECT_EQ(p.outcome, "truncated");
  }
  EXPECT_EQ(r->mode, "absolute");
  EXPECT_EQ(r->score.has_value(), rec["score"].is_number());
}

TEST(ApiMeta, SeparabilityNamesGroupsInOrderOfFirstAppearance) {
  std::vector<ScoredItem> items;
  for (int p = 0; p < 4; ++p)
    for (const char* g : {"zeta", "alpha", "mid"})
      items.push_back({g, "prompt" + std::to_string(p),
                       (g[0] == 'z'   ? 80.0
                        : g[0] == 'a' ? 40.0
                                      : 60.0) +
                           p});
  auto r = separability(items, {200, 3, 0.9});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->groups, (std::vector<std::string>{"zeta", "alpha", "mid"}));
  EXPECT_EQ(r->n_prompts, 4);
  EXPECT_EQ(r->cliff_delta, 1.0);  // every zeta item above every mid item above every alpha item
  EXPECT_LE(r->score_ci_low, r->score);
  EXPECT_GE(r->score_ci_high, r->score);
  auto again = separability(items, {200, 3, 0.9});
  EXPECT_EQ(again->score_ci_low, r->score_ci_low);  // seeded
  EXPECT_EQ(public_api::separability_score(items), r->score);
  EXPECT_FALSE(separability(std::vector<ScoredItem>{{"a", "p", 1}}).ok());
  EXPECT_FALSE(separability(items, {-1, 1, 0.95}).ok());
}

TEST(ApiMeta, CorrelationMethodsAndErrors) {
  std::vector<double> x = {1, 2, 3, 4, 5, 6}, y = {2, 1, 4, 3, 6, 5};
  auto p = correlation(x, y, "pearson");
  auto s = correlation(x, y, "spearman");
  auto k = correlation(x, y, "kendall");
  ASSERT_TRUE(p.ok() && s.ok() && k.ok());
  EXPECT_NEAR(p->r, 0.8285714285714286, 1e-12);  // no ties: Pearson of ranks = Spearman
  EXPECT_NEAR(s->r, p->r, 1e-12);
  EXPECT_NEAR(k->r, 0.6, 1e-12);  // 12 concordant, 3 discordant of 15 pairs
  auto bad = correlation(x, y, "cosine");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("cosine"), std::string::npos);
  EXPECT_FALSE(correlation(x, std::vector<double>{1, 2}, "pearson").ok());
}

TEST(ApiTournament, RoundRobinRanksTheAlwaysFavouredPlayersFirst) {
  auto rating = public_api::round_robin(4);
  ASSERT_EQ(rating.size(), 4u);
  EXPECT_GT(rating[0], rating[1]);
  EXPECT_GT(rating[1], rating[2]);
  EXPECT_GT(rating[2], rating[3]);
  TournamentOptions o;
  o.pairing = "knockout";
  auto bad = run_tournament(4, o, [](const TournamentMatch&) -> Result<double> { return 0.5; });
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("knockout"), std::string::npos);
  o.pairing = "swiss";
  auto failing =
      run_tournament(4, o, [](const TournamentMatch&) -> Result<double> { return Error{"boom"}; });
  ASSERT_FALSE(failing.ok());
  EXPECT_EQ(failing.message(), "boom");
  auto bt = bradley_terry(2, std::vector<TournamentOutcome>{{0, 1, 1.0}, {0, 1, 0.75}});
  ASSERT_TRUE(bt.ok());
  EXPECT_GT(bt->rating[0], bt->rating[1]);
  EXPECT_NEAR((bt->rating[0] + bt->rating[1]) / 2, 1500, 1e-9);
}

TEST(ApiTournament, UntilStableStopsBeforeTheCapAndSaysSo) {
  // 16 players of clearly different strength: the rank intervals settle long before 14 rounds.
  auto judge = [](const TournamentMatch& m) -> Result<double> {
    return 1.0 / (1.0 + std::exp(-(m.b - m.a) * 0.8));  // lower index = stronger
  };
  TournamentOptions o;
  o.rounds = 14;
  o.seed = 3;
  auto full = run_tournament(16, o, judge);
  ASSERT_TRUE(full.ok()) << full.message();
  EXPECT_FALSE(full->stopped_early);
  EXPECT_EQ(full->rounds_played, 14);
  EXPECT_TRUE(full->interval_change.empty());
  o.until_stable = true;
  auto stable = run_tournament(16, o, judge);
  ASSERT_TRUE(stable.ok()) << stable.message();
  EXPECT_TRUE(stable->stopped_early);
  EXPECT_GE(stable->rounds_played, 4);  // the rule's first check is after round 4
  EXPECT_LT(stable->rounds_played, 14);
  EXPECT_LT(stable->judgments.size(), full->judgments.size());
  // One move per checked round after the first; the last two within half a rank.
  ASSERT_EQ(stable->interval_change.size(), static_cast<size_t>(stable->rounds_played - 4));
  for (size_t i = stable->interval_change.size() - 2; i < stable->interval_change.size(); ++i)
    EXPECT_LE(stable->interval_change[i], 0.5);
}

}  // namespace
}  // namespace gavel
