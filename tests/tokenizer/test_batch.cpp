// tokenize_batch: well-formed requests are answered line by line; a field of the wrong type, an
// id outside the vocabulary or a line that is not an object is an error naming file, line and
// field (never an exception).
#include <gtest/gtest.h>

#include "tokenizer/batch.h"
#include "tokenizer/tokenizer.h"

namespace gavel {
namespace {

Tokenizer toy() {
  TokenizerSpec s;
  s.tokens = {"a", "b", "ab", "<s>"};
  s.token_types = {1, 1, 1, int32_t(TokenType::kControl)};
  s.merges = {"a b"};
  s.pre = "gpt-2";
  s.bos = 3;
  s.eos = 3;
  s.add_bos = true;
  auto t = Tokenizer::create(std::move(s));
  EXPECT_TRUE(t.ok()) << t.message();
  return std::move(t).value();
}

TEST(TokenizeBatch, AnswersEachRequest) {
  const Tokenizer t = toy();
  auto out = tokenize_batch(t,
                            "{\"text\": \"ab\"}\n\n"
                            "{\"text\": \"ab\", \"add_special\": false}\n"
                            "{\"hex\": \"6162\", \"add_special\": false}\n"
                            "{\"ids\": [3, 2], \"special\": true}\n"
                            "{\"ids\": [3, 2]}\n",
                            "in.jsonl");
  ASSERT_TRUE(out.ok()) << out.message();
  EXPECT_EQ(*out, "[3,2]\n[2]\n[2]\n{\"hex\":\"3c733e6162\"}\n{\"hex\":\"6162\"}\n");
}

TEST(TokenizeBatch, WrongTypesAreErrorsNamingLineAndField) {
  const Tokenizer t = toy();
  const std::pair<const char*, const char*> cases[] = {
      {"{\"text\": \"a\", \"add_special\": \"yes\"}",
       "in.jsonl:2: field add_special: expected "
       "true or false, got \"yes\""},
      {"{\"text\": \"a\", \"parse_special\": 1}", "in.jsonl:2: field parse_special"},
      {"{\"ids\": [1], \"special\": null}", "in.jsonl:2: field special"},
      {"{\"info\": \"yes\"}", "in.jsonl:2: field info"},
      {"{\"ids\": \"1 2\"}", "in.jsonl:2: field ids: expected an array"},
      {"{\"ids\": [1.5]}", "in.jsonl:2: field ids: expected an array of integers"},
      {"{\"ids\": [4]}", "in.jsonl:2: field ids: 4 is outside the vocabulary (0..3)"},
      {"{\"ids\": [-1]}", "in.jsonl:2: field ids: -1 is outside"},
      {"{\"ids\": [18446744073709551615]}", "in.jsonl:2: field ids: 18446744073709551615 is"},
      {"{\"ids\": [4294967298]}", "in.jsonl:2: field ids: 4294967298 is outside"},
      {"{\"hex\": \"6\"}", "in.jsonl:2: field hex: odd number"},
      {"{\"text\": 5}", "in.jsonl:2: needs a string field"},
      {"[1, 2]", "in.jsonl:2: not a JSON object"},
      {"{\"text\": \"a\"", "in.jsonl:2: not a JSON object"},
  };
  for (const auto& [line, want] : cases) {
    auto out = tokenize_batch(t, std::string("{\"text\": \"a\"}\n") + line + "\n", "in.jsonl");
    ASSERT_FALSE(out.ok()) << line;
    EXPECT_NE(out.message().find(want), std::string::npos) << line << " -> " << out.message();
  }
}

}  // namespace
}  // namespace gavel
