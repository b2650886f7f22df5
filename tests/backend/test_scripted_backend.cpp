// The scripted fake backend: scripted per test, or deterministic from the prompt for the
// CLI's end-to-end tests, and reachable from the CLI only through the test switch.
#include <gtest/gtest.h>

#include <cstdlib>

#include "backend/scripted_backend.h"

namespace {

using gavel::GenerateRequest;
using gavel::ScoreRequest;
using gavel::StatusCode;
using gavel::backend::deterministic_backend;
using gavel::backend::open_test_backend;
using gavel::backend::ScriptedBackend;

TEST(ScriptedBackend, AnswersFromTheScriptAndRecordsRequests) {
  ScriptedBackend be;
  be.logprob = [](const std::string&, const std::string& c) { return c == "A" ? -0.5 : -2.0; };
  be.completions.push_back({});
  be.completions.back().text = "first";
  ScoreRequest req{"prompt", {"A", "B", "C"}, 0};
  auto s = be.score(std::span(&req, 1));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ((*s)[0].candidates[0].logprob, -0.5);
  EXPECT_EQ((*s)[0].candidates[1].tokens[0], 33);
  EXPECT_EQ((*s)[0].candidates[2].tokens[0], 7);
  EXPECT_EQ((*s)[0].prompt_tokens, 6);
  EXPECT_TRUE((*s)[0].top.empty());
  EXPECT_EQ(be.score_log.size(), 1u);
  GenerateRequest g{"p", {}};
  EXPECT_EQ((*be.generate(std::span(&g, 1)))[0].text, "first");
  auto none = be.generate(std::span(&g, 1));
  ASSERT_FALSE(none.ok());  // no completion left and no complete() script
  be.fail_if = [](const std::string& p) { return p == "prompt"; };
  auto failed = be.score(std::span(&req, 1));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed.message(), "scripted score failure");
}

TEST(ScriptedBackend, DeterministicScriptIsAFunctionOfThePrompt) {
  auto a = deterministic_backend("");
  auto b = deterministic_backend("");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->info().fingerprint, "fake-v1");
  EXPECT_NE((*a)->info().chat_template.find("<|im_start|>"), std::string::npos);
  std::vector<ScoreRequest> reqs = {{"one", {"A", "B"}, 5}, {"two", {"A", "B"}, 0}};
  auto ra = (*a)->score(reqs), rb = (*b)->score(reqs);
  ASSERT_TRUE(ra.ok() && rb.ok());
  for (int i = 0; i < 2; ++i)
    for (int c = 0; c < 2; ++c) {
      EXPECT_EQ((*ra)[i].candidates[c].logprob, (*rb)[i].candidates[c].logprob);
      EXPECT_LT((*ra)[i].candidates[c].logprob, 0);
    }
  EXPECT_NE((*ra)[0].candidates[0].logprob, (*ra)[1].candidates[0].logprob);
  ASSERT_EQ((*ra)[0].top.size(), 5u);  // A, B and three fillers, best first
  for (size_t k = 1; k < 5; ++k) EXPECT_GE((*ra)[0].top[k - 1].logprob, (*ra)[0].top[k].logprob);
  GenerateRequest g{"Answer <A or B>", {}};
  auto ga = (*a)->generate(std::span(&g, 1)), gb = (*b)->generate(std::span(&g, 1));
  EXPECT_EQ((*ga)[0].text, (*gb)[0].text);
  EXPECT_TRUE((*ga)[0].text.ends_with("**Result:** A") || (*ga)[0].text.ends_with("**Result:** B"))
      << (*ga)[0].text;
  g.params.max_tokens = 10;
  auto cut = (*a)->generate(std::span(&g, 1));
  EXPECT_EQ((*cut)[0].text.size(), 10u);
  EXPECT_EQ((*cut)[0].finish, gavel::GenerateResult::Finish::kLength);
}

TEST(ScriptedBackend, DeterministicOptions) {
  auto be = deterministic_backend("ctx=10,fail=boom,fp=other");
  ASSERT_TRUE(be.ok()) << be.message();
  EXPECT_EQ((*be)->info().fingerprint, "other");
  ScoreRequest longer{"more than ten bytes", {"A"}, 0};
  auto r = (*be)->score(std::span(&longer, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), StatusCode::kOutOfRange);
  ScoreRequest boom{"boom", {"A"}, 0};
  EXPECT_EQ((*be)->score(std::span(&boom, 1)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(deterministic_backend("nope=1").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(deterministic_backend("ctx=many").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(deterministic_backend("ctx").code(), StatusCode::kInvalidArgument);
  // drop=1 leaves both candidates out of every top list.
  auto dropped = deterministic_backend("drop=1");
  ScoreRequest top{"p", {"A", "B"}, 3};
  auto t = (*dropped)->score(std::span(&top, 1));
  ASSERT_TRUE(t.ok());
  for (const auto& tok : (*t)[0].top) EXPECT_EQ(tok.token.rfind("<filler", 0), 0u) << tok.token;
}

TEST(ScriptedBackend, CliReachesItOnlyThroughTheTestSwitch) {
  ::unsetenv("GAVEL_TEST_BACKEND");
  auto off = open_test_backend("");
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.code(), StatusCode::kUnavailable);
  EXPECT_NE(off.message().find("GAVEL_TEST_BACKEND=1"), std::string::npos) << off.message();
  ::setenv("GAVEL_TEST_BACKEND", "yes", 1);
  EXPECT_FALSE(open_test_backend("").ok());
  ::setenv("GAVEL_TEST_BACKEND", "1", 1);
  auto on = open_test_backend("fp=x");
  ASSERT_TRUE(on.ok()) << on.message();
  EXPECT_EQ((*on)->info().fingerprint, "x");
  ::unsetenv("GAVEL_TEST_BACKEND");
}

}  // namespace
