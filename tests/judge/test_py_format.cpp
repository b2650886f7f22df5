#include "judge/py_format.h"

#include <gtest/gtest.h>

#include "judge/templates.h"

namespace gavel::judge {
namespace {

TEST(PyFormat, SubstitutesAndUnescapesBraces) {
  auto r = py_format("{{\"k\": \"{v}\"}} {v}{w}", {{"v", "x{y}"}, {"w", "}"}});
  ASSERT_TRUE(r.ok()) << r.message();
  // Substituted values are not re-scanned for braces.
  EXPECT_EQ(*r, "{\"k\": \"x{y}\"} x{y}}");
}

TEST(PyFormat, Errors) {
  EXPECT_NE(py_format("{missing}", {}).message().find("missing"), std::string::npos);
  EXPECT_FALSE(py_format("a } b", {}).ok());
  EXPECT_FALSE(py_format("a { b", {}).ok());
  EXPECT_FALSE(py_format("{}", {}).ok());
  EXPECT_FALSE(py_format("{x:>5}", {{"x", "1"}}).ok());
  EXPECT_FALSE(py_format("{x!r}", {{"x", "1"}}).ok());
}

TEST(PyFormat, FieldsOfEveryShippedTemplate) {
  for (const auto& t : embedded_templates()) {
    auto f = py_format_fields(t.text);
    ASSERT_TRUE(f.ok()) << t.name << ": " << f.message();
    if (t.name == "card_system") EXPECT_TRUE(f->empty());
    else EXPECT_TRUE(f->count("user_input")) << t.name;
  }
  auto abs = py_format_fields(*find_template("selene_absolute-ref"));
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->size(), 9u);  // input, response, objective, 5 descriptions, reference
}

TEST(Templates, AllShippedAndNonEmpty) {
  for (const char* n : {"card_system", "selene_absolute", "selene_absolute-ref", "selene_classify",
                        "selene_classify-ref", "selene_pairwise", "selene_pairwise-json",
                        "selene_pairwise-markdown", "selene_pairwise-prepair",
                        "selene_pairwise-simplified"}) {
    auto t = find_template(n);
    ASSERT_TRUE(t.has_value()) << n;
    EXPECT_GT(t->size(), 100u) << n;
    EXPECT_NE(t->back(), '\n') << n;  // YAML "|-" strips the final newline
  }
  EXPECT_FALSE(find_template("nope").has_value());
}

}  // namespace
}  // namespace gavel::judge
