#include <gtest/gtest.h>

#include <cmath>

#include "fake_backend.h"
#include "judge/pairwise_logprob.h"
#include "judge/templates.h"

namespace gavel::judge {
namespace {

using testing::ScriptedBackend;

TEST(TwoWaySoftmax, MatchesDefinitionAndStaysFinite) {
  for (auto [la, lb] : {std::pair{-0.1, -2.3}, {-5.0, -0.01}, {-1.0, -1.0}, {-100.0, -3.0}}) {
    auto [pa, pb] = two_way_softmax(la, lb);
    double ea = std::exp(la), eb = std::exp(lb);
    EXPECT_NEAR(pa, ea / (ea + eb), 1e-15);
    EXPECT_NEAR(pb, eb / (ea + eb), 1e-15);
  }
  // Where exp underflows (the card's code would fall back to 50/50) the ratio is still exact.
  auto [pa, pb] = two_way_softmax(-900.0, -901.0);
  EXPECT_NEAR(pa, 1.0 / (1.0 + std::exp(-1.0)), 1e-15);
  EXPECT_NEAR(pa + pb, 1.0, 1e-15);
  auto [qa, qb] = two_way_softmax(-INFINITY, -INFINITY);
  EXPECT_EQ(qa, 0.5);
  EXPECT_EQ(qb, 0.5);
  auto [ra, rb] = two_way_softmax(-1.0, -INFINITY);
  EXPECT_EQ(ra, 1.0);
  EXPECT_EQ(rb, 0.0);
}

TEST(PairwiseLogprob, PromptsFollowTheCard) {
  ScriptedBackend be;
  PairwiseLogprobConfig cfg;
  auto p = pairwise_prompts("Write \"x\"", "first", "second", cfg, be.info(), testing::trivial_renderer());
  ASSERT_TRUE(p.ok()) << p.message();
  std::string sys(*find_template("card_system"));
  EXPECT_EQ((*p)[0], "<system>\n" + sys + "\n<user>\n" +
                         "{\"instruction\": \"Write \\\"x\\\"\", \"A\": \"first\", \"B\": \"second\"}" +
                         "\n<assistant>\n");
  EXPECT_NE((*p)[1].find("\"A\": \"second\", \"B\": \"first\""), std::string::npos);
  cfg.thinking = Thinking::kOff;
  p = pairwise_prompts("i", "a", "b", cfg, be.info(), testing::trivial_renderer());
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE((*p)[0].ends_with("<assistant>\n<think-off>"));
}

TEST(PairwiseLogprob, InvalidUtf8NamesTheField) {
  ScriptedBackend be;
  auto p = pairwise_prompts("i", "ok", "bad\xff", {}, be.info(), testing::trivial_renderer());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.message().find("\"B\""), std::string::npos) << p.message();
}

TEST(PairwiseLogprob, FullReadAndSwapAverage) {
  ScriptedBackend be;
  // Pass 1 (text1 = A): lA=-0.2, lB=-1.9. Pass 2 (text2 = A): lA=-1.2, lB=-0.4.
  be.logprob = [](const std::string& prompt, const std::string& c) {
    bool pass1 = prompt.find("\"A\": \"t1\"") != std::string::npos;
    if (c == "A") return pass1 ? -0.2 : -1.2;
    return pass1 ? -1.9 : -0.4;
  };
  PairwiseLogprobConfig cfg;
  auto prompts = pairwise_prompts("i", "t1", "t2", cfg, be.info(), testing::trivial_renderer());
  ASSERT_TRUE(prompts.ok());
  std::vector<ScoreRequest> reqs{pairwise_score_request((*prompts)[0], cfg),
                                 pairwise_score_request((*prompts)[1], cfg)};
  EXPECT_EQ(reqs[0].candidates, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(reqs[0].top_k, 0);
  auto res = be.score(reqs);
  ASSERT_TRUE(res.ok());
  auto p1 = read_pass((*res)[0], cfg);
  auto p2 = read_pass((*res)[1], cfg);
  ASSERT_TRUE(p1.ok() && p2.ok());
  auto j = combine_passes(*p1, *p2);
  double s1a = std::exp(-0.2) / (std::exp(-0.2) + std::exp(-1.9));
  double s2b = std::exp(-0.4) / (std::exp(-1.2) + std::exp(-0.4));
  EXPECT_NEAR(j.p_text1, (s1a + s2b) / 2, 1e-12);
  EXPECT_NEAR(j.p_text1 + j.p_text2, 1.0, 1e-12);
  EXPECT_EQ(j.pass1.logprob_a, -0.2);
  EXPECT_EQ(j.pass2.logprob_b, -0.4);
}

TEST(PairwiseLogprob, TopKReadUsesMinus100WhenAbsent) {
  PairwiseLogprobConfig cfg;
  cfg.read = PairwiseLogprobConfig::Read::kTopK;
  EXPECT_EQ(pairwise_score_request("p", cfg).top_k, 10);
  ScoreResult r;
  r.candidates = {CandidateScore{"A", {32}, -0.5, -0.5}, CandidateScore{"B", {33}, -3.0, -3.0}};
  r.top = {TopToken{32, "A", -0.6}, TopToken{9, "x", -2.0}};  // B not in the top list
  auto p = read_pass(r, cfg);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->logprob_a, -0.6);  // top-k value, not the full-distribution one
  EXPECT_EQ(p->logprob_b, -100.0);
  EXPECT_TRUE(p->a_in_top);
  EXPECT_FALSE(p->b_in_top);
  r.top.clear();
  p = read_pass(r, cfg);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->p_a, 0.5);  // both absent: -100 vs -100
}

TEST(PairwiseLogprob, WrongCandidateCountIsAnError) {
  ScoreResult r;
  r.candidates = {CandidateScore{"A", {32}, -0.5, -0.5}};
  EXPECT_FALSE(read_pass(r, {}).ok());
}

}  // namespace
}  // namespace gavel::judge
