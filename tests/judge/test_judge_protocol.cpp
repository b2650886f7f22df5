// The JudgeProtocol interface: both shipped protocols answer through it, and a protocol
// defined outside the judge layer runs through the unchanged batch runner.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fake_backend.h"
#include "judge/judge_protocol.h"
#include "judge/runner.h"

namespace gavel::judge {
namespace {

namespace fs = std::filesystem;
using testing::ScriptedBackend;

Item pair_item(const std::string& a, const std::string& b) {
  auto it = parse_item(
      nlohmann::json{{"id", "p"}, {"instruction", "write"}, {"response_a", a}, {"response_b", b}}
          .dump(),
      7, FieldMap::defaults());
  return std::move(it).value();
}

TEST(JudgeProtocol, PairwiseLogprobPlansOneTaskAndReadsItsVerdict) {
  ScriptedBackend be;
  be.logprob = [](const std::string& prompt, const std::string& c) {
    bool x_in_a = prompt.find("\"A\": \"x\"") != std::string::npos;
    return (c == "A") == x_in_a ? -0.2 : -1.7;  // prefers text "x" in either position
  };
  ProtocolConfig pc;
  auto proto = make_protocol(pc, be.info(), testing::trivial_renderer());
  ASSERT_TRUE(proto.ok()) << proto.message();
  const JudgeProtocol& p = **proto;
  EXPECT_EQ(p.name(), "pairwise-logprob");
  EXPECT_TRUE(p.pairwise());
  EXPECT_EQ(p.item_fields(), (std::vector<std::string>{"instruction", "A", "B"}));
  auto tasks = p.plan(pair_item("x", "y"));
  ASSERT_TRUE(tasks.ok()) << tasks.message();
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].prompts.size(), 2u);
  EXPECT_EQ((*tasks)[0].key, p.task_key((*tasks)[0].prompts));
  Task* ptr[] = {&(*tasks)[0]};
  ASSERT_TRUE(p.compute(be, ptr).ok());
  EXPECT_EQ(be.score_log.size(), 2u);
  nlohmann::json rec;
  p.fill_record(rec, *tasks, false);
  auto v = p.pair_verdict(rec);
  ASSERT_TRUE(v.ok()) << v.message();
  double s = 1 / (1 + std::exp(-1.5));
  EXPECT_NEAR(*v->p_text1, s, 1e-12);
  ASSERT_EQ(v->passes.size(), 2u);
  EXPECT_TRUE(v->passes[0].text1_is_a);
  EXPECT_FALSE(v->passes[1].text1_is_a);
  EXPECT_NEAR(*v->passes[0].p_a, s, 1e-12);
  EXPECT_NEAR(*v->passes[1].p_a, 1 - s, 1e-12);
  EXPECT_EQ(*v->passes[0].logprob_a, -0.2);
  EXPECT_EQ(*v->passes[1].logprob_b, -0.2);
}

TEST(JudgeProtocol, KeysChangeWithEveryJudgmentInput) {
  ScriptedBackend be;
  ProtocolConfig pc;
  auto a = make_protocol(pc, be.info(), testing::trivial_renderer());
  pc.pairwise.read = PairwiseLogprobConfig::Read::kTopK;
  auto b = make_protocol(pc, be.info(), testing::trivial_renderer());
  ScriptedBackend other;
  other.info_.fingerprint = "other-model";
  pc.pairwise.read = PairwiseLogprobConfig::Read::kFull;
  auto c = make_protocol(pc, other.info(), testing::trivial_renderer());
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  std::vector<std::string> prompts{"p1", "p2"};
  EXPECT_NE((*a)->task_key(prompts), (*b)->task_key(prompts));
  EXPECT_NE((*a)->task_key(prompts), (*c)->task_key(prompts));
  EXPECT_NE((*a)->task_key(prompts), (*a)->task_key(std::vector<std::string>{"p2", "p1"}));
  EXPECT_EQ((*a)->task_key(prompts).size(), 64u);
}

TEST(JudgeProtocol, CritiquePairwiseVerdictInTermsOfText1) {
  ScriptedBackend be;
  be.logprob = [](const std::string&, const std::string& c) { return c == " A" ? -0.1 : -2.5; };
  GenerateResult g;
  g.text = "**Result:** A";
  be.completions = {g, g};  // says A in both orders: position-driven, inconsistent
  ProtocolConfig pc;
  pc.protocol = Protocol::kCritique;
  pc.critique.mode = Mode::kPairwise;
  pc.both_orders = true;
  pc.fields.constants["rubric_objective"] = "quality";
  auto proto = make_protocol(pc, be.info(), testing::trivial_renderer());
  ASSERT_TRUE(proto.ok()) << proto.message();
  auto tasks = (*proto)->plan(pair_item("x", "y"));
  ASSERT_TRUE(tasks.ok()) << tasks.message();
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_NE((*tasks)[0].key, (*tasks)[1].key);
  Task* ptr[] = {&(*tasks)[0], &(*tasks)[1]};
  ASSERT_TRUE((*proto)->compute(be, ptr).ok());
  nlohmann::json rec;
  (*proto)->fill_record(rec, *tasks, false);
  auto v = (*proto)->pair_verdict(rec);
  ASSERT_TRUE(v.ok()) << v.message();
  double pa = 1 / (1 + std::exp(-2.4));
  ASSERT_EQ(v->passes.size(), 2u);
  EXPECT_TRUE(v->passes[0].text1_is_a);
  EXPECT_FALSE(v->passes[1].text1_is_a);
  EXPECT_NEAR(*v->passes[0].p_a, pa, 1e-12);
  EXPECT_NEAR(*v->p_text1, 0.5, 1e-12);  // (pa + (1 - pa)) / 2
}

TEST(JudgeProtocol, NonPairwiseModesDoNotAnswerPairVerdicts) {
  ScriptedBackend be;
  ProtocolConfig pc;
  pc.protocol = Protocol::kCritique;
  pc.critique.mode = Mode::kAbsolute;
  auto proto = make_protocol(pc, be.info(), testing::trivial_renderer());
  ASSERT_TRUE(proto.ok());
  EXPECT_FALSE((*proto)->pairwise());
  EXPECT_FALSE((*proto)->pair_verdict(nlohmann::json::object()).ok());
  pc.critique.format = Format::kJson;  // Appendix E formats exist for pairwise mode only
  EXPECT_FALSE(make_protocol(pc, be.info(), testing::trivial_renderer()).ok());
}

// A protocol the judge layer has never heard of: "longer text wins", one score() per item.
class LengthProtocol : public JudgeProtocol {
 public:
  explicit LengthProtocol(const BackendInfo& info)
      : JudgeProtocol(info, testing::trivial_renderer(), FieldMap::defaults()) {}
  std::string_view name() const override { return "length"; }
  std::vector<std::string> item_fields() const override { return {"A", "B"}; }
  bool pairwise() const override { return false; }
  Result<std::vector<Task>> render_tasks(const Item& item, const FieldMap& fields) const override {
    GAVEL_ASSIGN(std::string a, item_text(item, fields, "A"));
    GAVEL_ASSIGN(std::string b, item_text(item, fields, "B"));
    Task t;
    t.prompts = {a + "|" + b};
    return std::vector<Task>{t};
  }
  Status compute(Backend& backend, std::span<Task* const> tasks) const override {
    std::vector<ScoreRequest> reqs;
    for (Task* t : tasks) reqs.push_back({t->prompts[0], {"x"}, 0});
    GAVEL_ASSIGN(auto res, backend.score(reqs));
    for (size_t i = 0; i < tasks.size(); ++i) {
      const std::string& p = tasks[i]->prompts[0];
      size_t bar = p.find('|');
      tasks[i]->record = nlohmann::json{{"longer", bar > p.size() - bar - 1 ? "A" : "B"},
                                        {"lp", res[i].candidates[0].logprob}};
    }
    return Status::Ok();
  }
  void fill_record(nlohmann::json& out, std::span<const Task> tasks, bool) const override {
    out["longer"] = (*tasks[0].record)["longer"];
    out["cached"] = tasks[0].cached;
  }
  class Count : public Tally {
   public:
    void add(const Item&, const nlohmann::json&) override { ++n; }
    nlohmann::json report() const override { return {{"n", n}}; }
    int n = 0;
  };
  std::unique_ptr<Tally> make_tally() const override { return std::make_unique<Count>(); }

 protected:
  KeyParts key_parts() const override { return {"none", "", nlohmann::json::object()}; }
};

TEST(JudgeProtocol, ANewProtocolRunsThroughTheUnchangedRunner) {
  fs::path dir = fs::temp_directory_path() / ("gavel_jp_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream(dir / "in.jsonl") << R"({"response_a": "long text", "response_b": "s"})"
                                       "\n"
                                    << R"({"response_a": "s", "response_b": "long text"})"
                                       "\n";
  }
  auto st = store::Store::open((dir / "s.sqlite").string());
  ASSERT_TRUE(st.ok());
  ScriptedBackend be;
  LengthProtocol proto(be.info());
  RunConfig cfg;
  cfg.input_path = (dir / "in.jsonl").string();
  cfg.out_path = (dir / "out.jsonl").string();
  cfg.progress = false;
  auto s = run_judge(be, proto, **st, cfg, nullptr);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(s->judged, 2);
  EXPECT_EQ(s->metrics["n"], 2);
  std::ifstream in(dir / "out.jsonl");
  std::string l1, l2;
  std::getline(in, l1);
  std::getline(in, l2);
  EXPECT_EQ(nlohmann::json::parse(l1)["longer"], "A");
  EXPECT_EQ(nlohmann::json::parse(l2)["longer"], "B");
  EXPECT_EQ(nlohmann::json::parse(l1)["protocol"], "length");
  auto again = run_judge(be, proto, **st, cfg, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cached, 2);  // the runner stores and resumes any protocol
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gavel::judge
