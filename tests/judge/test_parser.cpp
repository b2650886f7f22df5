#include <gtest/gtest.h>

#include "judge/critique.h"

namespace gavel::judge {
namespace {

ParsedVerdict parse(std::string_view s, Mode m = Mode::kAbsolute, bool trunc = false) {
  return parse_verdict(s, m, trunc);
}

TEST(Parser, CanonicalSelene) {
  std::string t = "**Reasoning:** Good answer.\n\n**Result:** 4";
  auto v = parse(t);
  EXPECT_EQ(v.outcome, Outcome::kValid);
  EXPECT_EQ(v.label, "4");
  EXPECT_EQ(v.separator, " ");
  EXPECT_EQ(t.substr(0, v.marker_end), "**Reasoning:** Good answer.\n\n**Result:**");
}

TEST(Parser, LastMarkerWins) {
  auto v = parse("**Result:** 2\nWait, reconsider.\n**Result:** 5\n");
  EXPECT_EQ(v.outcome, Outcome::kValid);
  EXPECT_EQ(v.label, "5");
  // A template echo followed by the real verdict.
  v = parse("**Result:** <an integer between 1 and 5>\n**Reasoning:** ok\n**Result:** 3");
  EXPECT_EQ(v.label, "3");
  // ...and the other way round: the last marker is authoritative even when it is invalid.
  v = parse("**Result:** 3\n**Result:** <an integer between 1 and 5>");
  EXPECT_EQ(v.outcome, Outcome::kInvalidLabel);
  EXPECT_TRUE(v.label.empty());
}

TEST(Parser, MarkdownVariants) {
  struct Case {
    const char* text;
    const char* label;
    const char* sep;
  } cases[] = {
      {"**Result**: 4", "4", " "},          {"Result: 4", "4", " "},
      {"**Result:** **4**", "4", " **"},    {"**result:** 4", "4", " "},
      {"RESULT: 4", "4", " "},              {"**Result:**4", "4", ""},
      {"**Result:** 4.", "4", " "},         {"**Result:** 4 (solid answer)", "4", " "},
      {"- **Result:** 4", "4", " "},        {"### Result: 4", "4", " "},
      {"**Result:** [4]", "4", " ["},       {"Reasoning text. **Result:** 4", "4", " "},
      {"**Result:**\n4", "4", "\n"},        {"**Result:** 4/5", "4", " "},
      {"**Result :** 4", "4", " "},         {"**Result:** Score 4", "4", " "},
  };
  for (const auto& c : cases) {
    auto v = parse(c.text);
    EXPECT_EQ(v.outcome, Outcome::kValid) << c.text;
    EXPECT_EQ(v.label, c.label) << c.text;
    EXPECT_EQ(v.separator, c.sep) << c.text;
  }
}

TEST(Parser, LabelsPerMode) {
  EXPECT_EQ(parse("**Result:** yes", Mode::kClassify).label, "Yes");
  EXPECT_EQ(parse("**Result:** NO", Mode::kClassifyRef).label, "No");
  EXPECT_EQ(parse("**Result:** b", Mode::kPairwise).label, "B");
  EXPECT_EQ(parse("**Result:** Response A", Mode::kPairwise).label, "A");
  EXPECT_EQ(parse("**Result:** Yes", Mode::kAbsolute).outcome, Outcome::kInvalidLabel);
  EXPECT_EQ(parse("**Result:** 6").outcome, Outcome::kInvalidLabel);
  EXPECT_EQ(parse("**Result:** 0").outcome, Outcome::kInvalidLabel);
  EXPECT_EQ(parse("**Result:** 4.5").outcome, Outcome::kValid);  // "4" then ".": first token
  EXPECT_EQ(parse("**Result:** 45").outcome, Outcome::kInvalidLabel);
  EXPECT_EQ(parse("**Result:** C", Mode::kPairwise).outcome, Outcome::kInvalidLabel);
  EXPECT_EQ(parse("**Result:** Both", Mode::kPairwise).outcome, Outcome::kInvalidLabel);
  EXPECT_EQ(parse("**Result:** Yesno", Mode::kClassify).outcome, Outcome::kInvalidLabel);
}

TEST(Parser, NoMarkerIsParseError) {
  for (const char* t : {"", "   ", "The answer is 4.", "As a result: 4", "results: 4",
                        "Resultant: 4", "**Reasoning:** fine"}) {
    auto v = parse(t);
    EXPECT_EQ(v.outcome, Outcome::kParseError) << t;
    EXPECT_FALSE(v.has_marker) << t;
    EXPECT_TRUE(v.label.empty());
  }
}

TEST(Parser, MarkerWithNothingAfterIsInvalidLabel) {
  auto v = parse("**Reasoning:** x\n**Result:**");
  EXPECT_EQ(v.outcome, Outcome::kInvalidLabel);
  EXPECT_TRUE(v.has_marker);
  EXPECT_EQ(v.raw_label, "");
}

TEST(Parser, TruncatedStaysTruncated) {
  // Hitting max tokens is its own outcome even when a label is visible.
  auto v = parse("**Reasoning:** long...\n**Result:** 4", Mode::kAbsolute, true);
  EXPECT_EQ(v.outcome, Outcome::kTruncated);
  EXPECT_TRUE(v.label.empty());
  EXPECT_EQ(v.raw_label, "4");
  EXPECT_EQ(parse("**Reasoning:** long and cut", Mode::kAbsolute, true).outcome, Outcome::kTruncated);
}

}  // namespace
}  // namespace gavel::judge
