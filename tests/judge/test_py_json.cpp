// Python json.dumps compatibility. The authoritative comparison against CPython runs in
// tests/python/test_judge_json.py; these pin the escaping rules stated in the json module docs.
#include "judge/py_json.h"

#include <gtest/gtest.h>

namespace gavel::judge {
namespace {

std::string ok(Result<std::string> r) {
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? *r : "";
}

TEST(PyJson, AsciiEscapes) {
  EXPECT_EQ(ok(py_json_string("plain")), "\"plain\"");
  EXPECT_EQ(ok(py_json_string("q\"b\\s/")), "\"q\\\"b\\\\s/\"");
  EXPECT_EQ(ok(py_json_string("\n\r\t\b\f")), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(ok(py_json_string(std::string("\x00\x01\x1f\x7f", 4))), "\"\\u0000\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(ok(py_json_string("caf\xc3\xa9")), "\"caf\\u00e9\"");
  EXPECT_EQ(ok(py_json_string("\xe2\x82\xac")), "\"\\u20ac\"");
  // U+1F600 -> UTF-16 surrogate pair, lowercase hex.
  EXPECT_EQ(ok(py_json_string("\xf0\x9f\x98\x80")), "\"\\ud83d\\ude00\"");
}

TEST(PyJson, NonAsciiKeptWithEnsureAsciiFalse) {
  EXPECT_EQ(ok(py_json_string("caf\xc3\xa9 \xf0\x9f\x98\x80\x7f", false)), "\"caf\xc3\xa9 \xf0\x9f\x98\x80\x7f\"");
  EXPECT_EQ(ok(py_json_string("\x01\"", false)), "\"\\u0001\\\"\"");
}

TEST(PyJson, InvalidUtf8IsAnErrorWithOffset) {
  for (std::string bad : {std::string("ab\xff"), std::string("\xc3"), std::string("\xc0\xaf"),
                          std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80")}) {
    auto r = py_json_string(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.message().find("invalid UTF-8 at byte offset"), std::string::npos);
  }
  EXPECT_NE(py_json_string("ab\xff").message().find("offset 2"), std::string::npos);
}

TEST(PyJson, ObjectSeparatorsAndOrder) {
  EXPECT_EQ(ok(py_json_dumps({{"instruction", "i"}, {"A", "x"}, {"B", "y"}})),
            "{\"instruction\": \"i\", \"A\": \"x\", \"B\": \"y\"}");
  EXPECT_EQ(ok(py_json_dumps({})), "{}");
  auto bad = py_json_dumps({{"A", "\xff"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("\"A\""), std::string::npos);
}

}  // namespace
}  // namespace gavel::judge
