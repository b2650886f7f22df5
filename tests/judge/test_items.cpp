#include <gtest/gtest.h>

#include "judge/items.h"

namespace gavel::judge {
namespace {

const char* kRubric =
    "[Is it helpful?]\nScore 1: Not at all.\nScore 2: Barely.\nScore 3: Somewhat.\n"
    "Score 4: Mostly.\nScore 5: Fully,\nincluding details.";

TEST(Items, ParseAndFieldMapping) {
  FieldMap f = FieldMap::defaults();
  ASSERT_TRUE(f.apply({"instruction=question", "A=ans1"}, {"rubric_objective=Helpfulness"}).ok());
  auto it = parse_item(R"({"question": "q?", "ans1": "x", "response_b": "y", "label": "A", "id": 7})", 3, f);
  ASSERT_TRUE(it.ok()) << it.message();
  EXPECT_EQ(it->id, "7");
  EXPECT_EQ(it->line, 3);
  EXPECT_EQ(*item_text(*it, f, "instruction"), "q?");
  EXPECT_EQ(*item_text(*it, f, "A"), "x");
  EXPECT_EQ(*item_text(*it, f, "rubric_objective"), "Helpfulness");
  auto missing = item_text(*it, f, "reference");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("line 3"), std::string::npos);
  EXPECT_NE(missing.message().find("'reference'"), std::string::npos);
  EXPECT_FALSE(f.apply({"noequals"}, {}).ok());
}

TEST(Items, UnknownLogicalFieldIsRefused) {
  FieldMap f = FieldMap::defaults();
  Status s = f.apply({"foo=bar"}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown logical field 'foo'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("instruction"), std::string::npos) << s.message();  // lists them
  EXPECT_TRUE(f.apply({"response=answer", "id=uid"}, {}).ok());
}

TEST(Items, BadLines) {
  FieldMap f = FieldMap::defaults();
  auto bad = parse_item("{not json", 12, f);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("line 12"), std::string::npos);
  EXPECT_FALSE(parse_item("[1,2]", 1, f).ok());
  auto num = parse_item(R"({"instruction": 5})", 2, f);
  ASSERT_TRUE(num.ok());
  auto t = item_text(*num, f, "instruction");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find("must be a string"), std::string::npos);
  EXPECT_EQ(parse_item("{}", 9, f)->id, "line-9");
}

TEST(Items, SplitPrometheusRubric) {
  auto r = split_rubric(kRubric, Mode::kAbsolute);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)["rubric_objective"], "Is it helpful?");
  EXPECT_EQ((*r)["rubric_score_1_description"], "Not at all.");
  EXPECT_EQ((*r)["rubric_score_5_description"], "Fully,\nincluding details.");
  auto yn = split_rubric("Correct?\nYes: right\nNo: wrong", Mode::kClassify);
  ASSERT_TRUE(yn.ok()) << yn.message();
  EXPECT_EQ((*yn)["rubric_objective"], "Correct?");
  EXPECT_EQ((*yn)["rubric_no_description"], "wrong");
  EXPECT_FALSE(split_rubric("[x]\nScore 1: a\nScore 2: b", Mode::kAbsolute).ok());
}

TEST(Items, SeleneVarsWithSwap) {
  FieldMap f = FieldMap::defaults();
  ASSERT_TRUE(f.apply({}, {"rubric_objective=Which is better?"}).ok());
  auto it = parse_item(R"({"instruction": "i", "response_a": "a", "response_b": "b"})", 1, f);
  ASSERT_TRUE(it.ok());
  auto v = selene_vars(*it, f, Mode::kPairwise, Format::kOriginal, false);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ((*v)["assistant_response_a"], "a");
  EXPECT_EQ((*v)["rubric_objective"], "Which is better?");
  auto s = selene_vars(*it, f, Mode::kPairwise, Format::kOriginal, true);
  EXPECT_EQ((*s)["assistant_response_a"], "b");
  EXPECT_EQ((*s)["assistant_response_b"], "a");
  // Absolute with a combined rubric field.
  nlohmann::json rec = {{"instruction", "i"}, {"response", "r"}, {"rubric", kRubric}, {"reference", "ref"}};
  auto it2 = parse_item(rec.dump(), 4, f);
  auto av = selene_vars(*it2, f, Mode::kAbsoluteRef, Format::kOriginal, false);
  ASSERT_TRUE(av.ok()) << av.message();
  EXPECT_EQ((*av)["reference_response"], "ref");
  EXPECT_EQ((*av)["rubric_score_3_description"], "Somewhat.");
  auto noref = parse_item(R"({"instruction": "i", "response": "r", "rubric": "x"})", 5, f);
  auto e = selene_vars(*noref, f, Mode::kAbsolute, Format::kOriginal, false);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("line 5"), std::string::npos);
}

}  // namespace
}  // namespace gavel::judge
