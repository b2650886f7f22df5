#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/pretokenizer.h"

namespace gavel::tok {
namespace {

using Words = std::vector<std::string>;

Words split(std::string_view pre, std::string_view text) {
  auto spec = pre_tokenizer_spec(pre);
  EXPECT_TRUE(spec.ok()) << spec.message();
  auto splitter = RegexSplitter::create(spec->regexes);
  EXPECT_TRUE(splitter.ok()) << splitter.message();
  return splitter->split_raw(text);
}

TEST(PreTokenizer, WhitespaceRunGivesItsLastCharToTheNextWord) {
  // \s+(?!\S): the run stops one short of a non-space so " b" stays a word.
  EXPECT_EQ(split("qwen2", "a   b"), (Words{"a", "  ", " b"}));
  EXPECT_EQ(split("llama-bpe", "a   b"), (Words{"a", "  ", " b"}));
  EXPECT_EQ(split("gpt-2", "a   b"), (Words{"a", "  ", " b"}));
  // At the end of the text the whole run is one word.
  EXPECT_EQ(split("qwen2", "a   "), (Words{"a", "   "}));
  // A single space before a letter joins it.
  EXPECT_EQ(split("qwen2", "a b"), (Words{"a", " b"}));
}

TEST(PreTokenizer, NewlinesAndMixedWhitespace) {
  // \s*[\r\n]+ takes spaces up to the last newline of the run.
  EXPECT_EQ(split("qwen2", "a \n\n  b"), (Words{"a", " \n\n", " ", " b"}));
  EXPECT_EQ(split("llama-bpe", "x\r\n\r\ny"), (Words{"x", "\r\n\r\n", "y"}));
  // gpt-2 has no \s*[\r\n]+ alternative: a lone newline before a letter stays its own word.
  EXPECT_EQ(split("gpt-2", "a\n\nb"), (Words{"a", "\n", "\n", "b"}));
}

TEST(PreTokenizer, Digits) {
  EXPECT_EQ(split("llama-bpe", "1234567"), (Words{"123", "456", "7"}));
  EXPECT_EQ(split("qwen2", "1234"), (Words{"1", "2", "3", "4"}));
  EXPECT_EQ(split("gpt-2", "x 1234"), (Words{"x", " 1234"}));
  EXPECT_EQ(split("starcoder", "x 1234"), (Words{"x", " ", "1", "2", "3", "4"}));
}

TEST(PreTokenizer, Contractions) {
  EXPECT_EQ(split("qwen2", "I'M you're"), (Words{"I", "'M", " you", "'re"}));
  EXPECT_EQ(split("gpt-2", "I'M you're"), (Words{"I", "'", "M", " you", "'re"}));
}

TEST(PreTokenizer, PunctuationAndLetterPrefix) {
  // [^\r\n\p{L}\p{N}]?\p{L}+ lets one punctuation char lead a word.
  EXPECT_EQ(split("qwen2", "(hello) world!!\n"), (Words{"(hello", ")", " world", "!!\n"}));
}

TEST(PreTokenizer, NonAsciiCategories) {
  EXPECT_EQ(split("qwen2", "héllo wörld"), (Words{"héllo", " wörld"}));
  EXPECT_EQ(split("qwen2", "中文 测试"), (Words{"中文", " 测试"}));
  // Non-ASCII whitespace counts as \s: NBSP before a letter joins it like a space.
  EXPECT_EQ(split("qwen2", "a\u00a0b"), (Words{"a", "\u00a0b"}));
}

TEST(PreTokenizer, Qwen35TreatsCombiningMarksAsLetters) {
  const std::string nfd = "cafe\u0301 x";
  EXPECT_EQ(split("qwen35", nfd), (Words{"cafe\u0301", " x"}));
  EXPECT_EQ(split("qwen2", nfd), (Words{"cafe", "\u0301", " x"}));
}

TEST(PreTokenizer, DeepseekCoderSplitsCjkRunsAndNewlines) {
  EXPECT_EQ(split("deepseek-coder", "ab\n你好"), (Words{"ab", "\n", "你好"}));
}

TEST(PreTokenizer, InvalidUtf8BecomesReplacementCharacters) {
  // U+FFFD is a symbol, so like any punctuation it may lead the following letters.
  EXPECT_EQ(split("qwen2",
                  "a\xff"
                  "b"),
            (Words{"a",
                   "\xEF\xBF\xBD"
                   "b"}));
  EXPECT_EQ(split("qwen2",
                  "a\xff"
                  "1"),
            (Words{"a", "\xEF\xBF\xBD", "1"}));
}

TEST(PreTokenizer, UnknownPreTypeIsAnErrorNamingIt) {
  auto spec = pre_tokenizer_spec("no-such-pre");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.message().find("no-such-pre"), std::string::npos);
  EXPECT_NE(spec.message().find("qwen35"), std::string::npos);  // lists the supported ones
}

TEST(PreTokenizer, CollapseRegex) {
  // Outside a class a category becomes a class of its byte plus its ASCII members; inside a
  // class only the members are inserted.
  auto r = collapse_regex(R"(\p{L}+|[^\s\p{N}])");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r,
            "[\xD2"
            "A-Za-z]+|[^\\s\xD1"
            "0-9]");
  EXPECT_FALSE(collapse_regex("\\p{L}é").ok());
}

TEST(PreTokenizer, SplitWordsAreByteEncoded) {
  auto spec = pre_tokenizer_spec("qwen2");
  auto splitter = RegexSplitter::create(spec->regexes);
  std::vector<std::string> words;
  splitter->split("a b\n", words);
  EXPECT_EQ(words, (Words{"a",
                          "\xC4\xA0"
                          "b",
                          "\xC4\x8A"}));
}

}  // namespace
}  // namespace gavel::tok
