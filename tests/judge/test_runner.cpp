#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fake_backend.h"
#include "judge/runner.h"

namespace gavel::judge {
namespace {

namespace fs = std::filesystem;
using testing::prefer_good;
using testing::ScriptedBackend;

struct Env {
  fs::path dir;
  std::unique_ptr<store::Store> store;
  explicit Env(const std::string& name) {
    dir = fs::temp_directory_path() / ("gavel_runner_" + std::to_string(getpid()) + "_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    store = std::move(store::Store::open((dir / "s.sqlite").string()).value());
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
  std::vector<nlohmann::json> read_out(const std::string& name) {
    std::ifstream in(dir / name);
    std::vector<nlohmann::json> v;
    for (std::string l; std::getline(in, l);) v.push_back(nlohmann::json::parse(l));
    return v;
  }
};

// The runner with the protocol a ProtocolConfig names, for the scripted backend.
Result<RunSummary> run(ScriptedBackend& be, store::Store& st, const ProtocolConfig& pc,
                       const RunConfig& cfg) {
  auto proto = make_protocol(pc, be.info(), testing::trivial_renderer());
  if (!proto.ok()) return Error{proto.message()};
  return run_judge(be, **proto, st, cfg, nullptr);
}

std::string pair_line(const std::string& id, const std::string& a, const std::string& b,
                      const std::string& label) {
  return nlohmann::json{{"id", id},
                        {"instruction", "say " + id},
                        {"response_a", a},
                        {"response_b", b},
                        {"label", label}}
             .dump() +
         "\n";
}

TEST(Runner, PairwiseLogprobJudgesThenResumesFromStore) {
  Env env("plp");
  ScriptedBackend be;
  prefer_good(be);
  ProtocolConfig pc;
  RunConfig cfg;
  cfg.input_path = env.write("in.jsonl", pair_line("1", "good one", "bad", "A") + "\n" +
                                             pair_line("2", "bad", "good two", "B") +
                                             pair_line("3", "good x", "bad y", "B"));
  cfg.out_path = (env.dir / "out.jsonl").string();
  cfg.batch = 2;
  cfg.progress = false;
  auto s = run(be, *env.store, pc, cfg);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(s->items, 3);
  EXPECT_EQ(s->judged, 3);
  EXPECT_EQ(s->cached, 0);
  EXPECT_TRUE(s->errors.empty());
  EXPECT_EQ(be.score_log.size(), 6u);  // two passes per pair
  auto out = env.read_out("out.jsonl");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1]["line"], 3);  // blank line 2 is skipped but lines keep their numbers
  double s1 = 1.0 / (1.0 + std::exp(-1.0));
  EXPECT_NEAR(out[0]["p_text1"].get<double>(), s1, 1e-12);
  EXPECT_NEAR(out[1]["p_text1"].get<double>(), 1 - s1, 1e-12);
  EXPECT_EQ(out[0]["pass1"]["logprob_A"], -0.3);
  EXPECT_EQ(out[0]["pass2"]["logprob_A"], -1.3);
  EXPECT_NEAR(s->metrics["accuracy"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(s->metrics["positional_consistency"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(*env.store->count(), 3);

  // Same command again: everything comes from the store, the backend is not called.
  be.score_log.clear();
  auto again = run(be, *env.store, pc, cfg);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cached, 3);
  EXPECT_EQ(again->judged, 0);
  EXPECT_TRUE(be.score_log.empty());
  auto out2 = env.read_out("out.jsonl");
  ASSERT_EQ(out2.size(), 3u);
  EXPECT_EQ(out2[2]["p_text1"], out[2]["p_text1"]);
  EXPECT_EQ(out2[2]["cached"], true);
  EXPECT_EQ(*env.store->count(), 3);

  // A different decoding setting is different work: new keys.
  pc.pairwise.read = PairwiseLogprobConfig::Read::kTopK;
  auto topk = run(be, *env.store, pc, cfg);
  ASSERT_TRUE(topk.ok());
  EXPECT_EQ(topk->judged, 3);
  EXPECT_EQ(*env.store->count(), 6);
}

TEST(Runner, BadInputIsReportedWithLineNumbers) {
  Env env("bad");
  ScriptedBackend be;
  prefer_good(be);
  be.fail_if = [](const std::string& p) { return p.find("say boom") != std::string::npos; };
  ProtocolConfig pc;
  RunConfig cfg;
  cfg.input_path = env.write("in.jsonl", pair_line("ok1", "good", "bad", "A") + "{broken\n" +
                                             "{\"instruction\": \"x\", \"response_a\": \"a\"}\n" +
                                             pair_line("boom", "good", "bad", "A") +
                                             pair_line("ok2", "bad", "good", "B"));
  cfg.out_path = (env.dir / "out.jsonl").string();
  cfg.batch = 8;
  cfg.progress = false;
  auto s = run(be, *env.store, pc, cfg);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(s->done, 2);
  ASSERT_EQ(s->errors.size(), 3u);
  EXPECT_EQ(s->errors[0].line, 2);
  EXPECT_NE(s->errors[0].message.find("invalid JSON"), std::string::npos);
  EXPECT_EQ(s->errors[1].line, 3);
  EXPECT_NE(s->errors[1].message.find("response_b"), std::string::npos);
  EXPECT_EQ(s->errors[2].line, 4);
  EXPECT_NE(s->errors[2].message.find("scripted score failure"), std::string::npos);
  EXPECT_EQ(env.read_out("out.jsonl").size(), 2u);
  std::string summary = format_summary(*s, cfg);
  EXPECT_NE(summary.find("3 item(s) failed"), std::string::npos);
  EXPECT_NE(summary.find("line 2"), std::string::npos);

  RunConfig stop = cfg;
  stop.stop_on_error = true;
  stop.out_path = (env.dir / "out2.jsonl").string();
  auto st = run(be, *env.store, pc, stop);
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->stopped);
  EXPECT_EQ(st->errors.size(), 1u);
  EXPECT_EQ(st->done, 1);
}

GenerateResult gen(const std::string& text,
                   GenerateResult::Finish f = GenerateResult::Finish::kEos) {
  GenerateResult g;
  g.text = text;
  g.finish = f;
  g.tokens.resize(text.size() / 4);
  return g;
}

TEST(Runner, CritiqueAbsoluteOutcomesAndVerdicts) {
  Env env("abs");
  ScriptedBackend be;
  // Verdict distribution: mass on " 4" then " 3".
  be.logprob = [](const std::string&, const std::string& c) {
    return c == " 4" ? -0.2 : c == " 3" ? -2.0 : -6.0;
  };
  be.completions = {gen("**Reasoning:** fine.\n\n**Result:** 4"), gen("No verdict here."),
                    gen("**Reasoning:** ...\n**Result:** 9"),
                    gen("**Reasoning:** cut", GenerateResult::Finish::kLength)};
  std::string rubric = "[Helpful?]\nScore 1: a\nScore 2: b\nScore 3: c\nScore 4: d\nScore 5: e";
  std::string in;
  for (int i = 0; i < 4; ++i)
    in += nlohmann::json{{"instruction", "q"},
                         {"response", "r" + std::to_string(i)},
                         {"rubric", rubric},
                         {"label", 4 - i % 2}}
              .dump() +
          "\n";
  ProtocolConfig pc;
  RunConfig cfg;
  pc.protocol = Protocol::kCritique;
  pc.critique.mode = Mode::kAbsolute;
  pc.critique.gen.max_tokens = 64;
  cfg.input_path = env.write("in.jsonl", in);
  cfg.out_path = (env.dir / "out.jsonl").string();
  cfg.progress = false;
  cfg.batch = 3;
  auto s = run(be, *env.store, pc, cfg);
  ASSERT_TRUE(s.ok()) << s.message();
  auto out = env.read_out("out.jsonl");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]["score"], 4);
  EXPECT_EQ(out[0]["passes"][0]["outcome"], "valid");
  EXPECT_GT(out[0]["expected_score"].get<double>(), 3.5);
  EXPECT_EQ(out[1]["passes"][0]["outcome"], "parse_error");
  EXPECT_TRUE(out[1]["score"].is_null());
  EXPECT_TRUE(out[1]["passes"][0]["verdict"].is_null());
  EXPECT_EQ(out[2]["passes"][0]["outcome"], "invalid_label");
  EXPECT_EQ(out[2]["passes"][0]["raw_label"], "9");
  EXPECT_TRUE(out[2]["score"].is_null());
  EXPECT_FALSE(out[2]["passes"][0]["verdict"].is_null());  // marker present: distribution read
  EXPECT_EQ(out[3]["passes"][0]["outcome"], "truncated");
  // The prompt carries the rendered Selene template; the verdict prefix ends at the marker.
  EXPECT_NE(be.gen_log[0].prompt.find("Score 4: d"), std::string::npos);
  EXPECT_EQ(be.gen_log[0].params.max_tokens, 64);
  EXPECT_TRUE(be.score_log[0].prompt.ends_with("**Result:**"));
  EXPECT_EQ(s->metrics["outcomes"]["valid"], 1);
  EXPECT_EQ(s->metrics["outcomes"]["parse_error"], 1);
  EXPECT_EQ(s->metrics["n_valid"], 1);
}

TEST(Runner, CritiquePairwiseBothOrders) {
  Env env("cpw");
  ScriptedBackend be;
  be.logprob = [](const std::string&, const std::string& c) { return c == " A" ? -0.1 : -2.5; };
  // Order AB says A (= text1), order BA says B (= text1 again): consistent.
  be.completions = {gen("**Result:** A"), gen("**Result:** B")};
  ProtocolConfig pc;
  RunConfig cfg;
  pc.protocol = Protocol::kCritique;
  pc.critique.mode = Mode::kPairwise;
  pc.critique.format = Format::kMarkdown;
  pc.both_orders = true;
  cfg.input_path = env.write("in.jsonl", pair_line("1", "x", "y", "A"));
  cfg.out_path = (env.dir / "out.jsonl").string();
  cfg.progress = false;
  auto s = run(be, *env.store, pc, cfg);
  ASSERT_TRUE(s.ok()) << s.message();
  auto out = env.read_out("out.jsonl");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["preferred"], "text1");
  ASSERT_EQ(be.gen_log.size(), 2u);
  EXPECT_NE(be.gen_log[1].prompt.find("### Response A\n```\ny\n```"), std::string::npos);
  EXPECT_EQ(s->metrics["strict_accuracy_both_orders"], 1.0);
  EXPECT_EQ(*env.store->count(), 2);  // one judgment per order
}

TEST(Runner, ShuffleIsDeterministicPermutation) {
  std::vector<size_t> a(50), b(50);
  for (size_t i = 0; i < 50; ++i) a[i] = b[i] = i;
  shuffle_indices(a, 42);
  shuffle_indices(b, 42);
  EXPECT_EQ(a, b);
  std::vector<size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  shuffle_indices(b, 43);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace gavel::judge
