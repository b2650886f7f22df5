#include <gtest/gtest.h>

#include <cmath>

#include "fake_backend.h"
#include "judge/critique.h"
#include "judge/templates.h"

namespace gavel::judge {
namespace {

TEST(Critique, TemplateNames) {
  EXPECT_EQ(*critique_template_name(Mode::kAbsoluteRef, Format::kOriginal), "selene_absolute-ref");
  EXPECT_EQ(*critique_template_name(Mode::kPairwise, Format::kPrePair), "selene_pairwise-prepair");
  EXPECT_FALSE(critique_template_name(Mode::kAbsolute, Format::kJson).ok());
}

TEST(Critique, UserContentIsTemplateWithVars) {
  std::map<std::string, std::string> vars = {{"user_input", "Q {x}"},
                                             {"assistant_response_a", "ra"},
                                             {"assistant_response_b", "rb"}};
  auto u = critique_user_content(Mode::kPairwise, Format::kJson, vars);
  ASSERT_TRUE(u.ok()) << u.message();
  EXPECT_NE(u->find("\"User_Input\": \"Q {x}\""), std::string::npos);
  EXPECT_NE(u->find("\"Data\": {\n"), std::string::npos);  // {{ became {
  auto missing = critique_user_content(Mode::kPairwise, Format::kOriginal, vars);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("rubric_objective"), std::string::npos);
}

TEST(Critique, PromptIsSingleUserTurnWithGenerationPrompt) {
  testing::ScriptedBackend be;
  CritiqueConfig cfg;
  auto p = critique_prompt("hello", cfg, be.info(), testing::trivial_renderer());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "<user>\nhello\n<assistant>\n");
}

TEST(Critique, VerdictRequestKeepsModelSeparator) {
  std::string gen = "**Reasoning:** ok\n**Result:** **4** done";
  auto v = parse_verdict(gen, Mode::kAbsolute, false);
  ASSERT_EQ(v.outcome, Outcome::kValid);
  auto r = verdict_request("PROMPT", gen, v, Mode::kAbsolute);
  EXPECT_EQ(r.prompt, "PROMPT**Reasoning:** ok\n**Result:**");
  EXPECT_EQ(r.candidates, (std::vector<std::string>{" **1", " **2", " **3", " **4", " **5"}));
  // Stopped right after the marker: assume the format's single space.
  std::string cut = "**Result:**";
  auto vc = parse_verdict(cut, Mode::kPairwise, false);
  auto rc = verdict_request("P", cut, vc, Mode::kPairwise);
  EXPECT_EQ(rc.candidates, (std::vector<std::string>{" A", " B"}));
}

TEST(Critique, VerdictDistributionNormalisesAndTakesExpectation) {
  ScoreResult r;
  std::vector<double> lps = {-5.0, -3.0, -1.5, -0.7, -2.0};
  for (size_t k = 0; k < lps.size(); ++k)
    r.candidates.push_back(CandidateScore{std::to_string(k + 1), {}, lps[k], lps[k]});
  auto v = read_verdict(r, Mode::kAbsolute);
  ASSERT_TRUE(v.ok());
  double z = 0, e = 0;
  for (double lp : lps) z += std::exp(lp);
  for (size_t k = 0; k < lps.size(); ++k) {
    EXPECT_NEAR(v->probs[k], std::exp(lps[k]) / z, 1e-12);
    e += (k + 1) * std::exp(lps[k]) / z;
  }
  EXPECT_NEAR(v->mass, z, 1e-12);
  ASSERT_TRUE(v->expected.has_value());
  EXPECT_NEAR(*v->expected, e, 1e-12);
  r.candidates.pop_back();
  EXPECT_FALSE(read_verdict(r, Mode::kAbsolute).ok());
}

TEST(Critique, VerdictDistributionSurvivesTinyMass) {
  ScoreResult r;
  r.candidates = {CandidateScore{"Yes", {}, -800.0, -800.0}, CandidateScore{"No", {}, -801.0, -801.0}};
  auto v = read_verdict(r, Mode::kClassify);
  ASSERT_TRUE(v.ok());
  EXPECT_NEAR(v->probs[0], 1.0 / (1.0 + std::exp(-1.0)), 1e-12);
  EXPECT_FALSE(v->expected.has_value());
}

}  // namespace
}  // namespace gavel::judge
