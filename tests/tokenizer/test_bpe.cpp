// BPE, special-token partitioning and BOS handling on small hand-made vocabularies.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace gavel {
namespace {

using Ids = std::vector<int32_t>;
const std::string kSpace = "\xC4\xA0";  // byte-level stand-in for ' '

// Vocabulary: single chars first, then merge results and specials; ids are their indices.
TokenizerSpec toy_spec(std::string pre) {
  TokenizerSpec s;
  s.tokens = {"a", "b", "c", kSpace, "ab",  "abc", "bc", kSpace + "a", "aa", "ca", "<",
              ">", "s", "u", "<s>",  "<u>", "A",   "B",  "C",          "D",  "AB", "BCD"};
  s.token_types.assign(s.tokens.size(), int32_t(TokenType::kNormal));
  s.token_types[14] = int32_t(TokenType::kControl);      // <s>
  s.token_types[15] = int32_t(TokenType::kUserDefined);  // <u>
  s.token_types[20] = int32_t(TokenType::kControl);      // AB
  s.token_types[21] = int32_t(TokenType::kControl);      // BCD
  s.merges = {"a b", "ab c", "b c", kSpace + " a", "a a", "c c", kSpace + " " + kSpace};
  s.pre = std::move(pre);
  s.bos = 14;
  s.eos = 14;
  return s;
}

Tokenizer make(TokenizerSpec s) {
  auto t = Tokenizer::create(std::move(s));
  EXPECT_TRUE(t.ok()) << t.message();
  return std::move(t).value();
}

TEST(Bpe, MergesLowestRankFirst) {
  const Tokenizer t = make(toy_spec("gpt-2"));
  EXPECT_EQ(t.encode("abc", false, false), (Ids{5}));  // a+b (rank 0), then ab+c
  EXPECT_EQ(t.encode("bc", false, false), (Ids{6}));
  EXPECT_EQ(t.encode("cab", false, false), (Ids{2, 4}));
  EXPECT_EQ(t.encode("ab a", false, false), (Ids{4, 7}));  // " a" merges with its space
}

TEST(Bpe, EqualRanksMergeLeftmostFirst) {
  const Tokenizer t = make(toy_spec("gpt-2"));
  EXPECT_EQ(t.encode("aaa", false, false), (Ids{8, 0}));
}

TEST(Bpe, IgnoreMergesEmitsWholeVocabWordsForLlama3) {
  // "ca" is a vocab entry that no merge produces.
  EXPECT_EQ(make(toy_spec("qwen2")).encode("ca", false, false), (Ids{2, 0}));
  auto spec = toy_spec("llama-bpe");
  spec.add_bos = false;
  EXPECT_EQ(make(spec).encode("ca", false, false), (Ids{9}));
}

TEST(Bpe, UnknownMergeResultFallsBackToSingleBytesOfItsText) {
  const Tokenizer t = make(toy_spec("gpt-2"));
  // "c c" merges into "cc", which is no token: llama.cpp emits each byte that is a token.
  EXPECT_EQ(t.encode("cc", false, false), (Ids{2, 2}));
  // Two trailing spaces merge into a non-token whose bytes (0xC4 0xA0 twice) are no tokens
  // either, so nothing is emitted (llama.cpp drops them too).
  EXPECT_EQ(t.encode("a  ", false, false), (Ids{0}));
}

TEST(Special, ControlTokensOnlyWithParseSpecialUserDefinedAlways) {
  const Tokenizer t = make(toy_spec("gpt-2"));
  EXPECT_EQ(t.encode("a<s>b<u>c", false, true), (Ids{0, 14, 1, 15, 2}));
  EXPECT_EQ(t.encode("a<s>b<u>c", false, false), (Ids{0, 10, 12, 11, 1, 15, 2}));
}

TEST(Special, LongerTokensAreCutFirstAcrossTheWholeText) {
  const Tokenizer t = make(toy_spec("gpt-2"));
  // "BCD" (3 chars) is searched before "AB" (2 chars) even though "AB" starts earlier.
  EXPECT_EQ(t.encode("ABCD", false, true), (Ids{16, 21}));
  EXPECT_EQ(t.encode("ABAB", false, true), (Ids{20, 20}));
}

TEST(Special, TextRangesKeepControlTokenTextAsPlainText) {
  const Tokenizer t = make(toy_spec("gpt-2"));
  // "a<s>b<s>c": the first <s> (bytes 1..4) is the template's, the second (5..8) came from data.
  const std::string text = "a<s>b<s>c";
  const std::vector<TextSpan> data = {{5, 8}};
  EXPECT_EQ(t.encode(text, false, data), (Ids{0, 14, 1, 10, 12, 11, 2}));
  // The data's text joins its neighbours in one fragment, tokenized as parse_special=false does.
  const Ids tail = t.encode("b<s>c", false, false);
  Ids expected = {0, 14};
  expected.insert(expected.end(), tail.begin(), tail.end());
  EXPECT_EQ(t.encode(text, false, data), expected);
  // No ranges: exactly parse_special=true; ranges over the whole text: parse_special=false,
  // except that user-defined tokens are matched in both, as in llama.cpp.
  EXPECT_EQ(t.encode(text, false, std::vector<TextSpan>{}), t.encode(text, false, true));
  const std::string with_u = "a<s>b<u>c";
  EXPECT_EQ(t.encode(with_u, false, std::vector<TextSpan>{{0, with_u.size()}}),
            t.encode(with_u, false, false));
  // A token is kept as text when the range covers any of its bytes.
  EXPECT_EQ(t.encode("<s>", false, std::vector<TextSpan>{{2, 3}}), (Ids{10, 12, 11}));
  EXPECT_EQ(t.encode("<s>", false, std::vector<TextSpan>{{3, 3}}), (Ids{14}));
  // A longer token found first does not hide a later shorter one outside the ranges.
  EXPECT_EQ(t.encode("ABCD", false, std::vector<TextSpan>{{1, 4}}), (Ids{16, 17, 18, 19}));
  EXPECT_EQ(t.encode("ABAB", false, std::vector<TextSpan>{{0, 2}}), (Ids{16, 17, 20}));
  // BOS is added as without ranges.
  EXPECT_EQ(t.encode("a", true, std::vector<TextSpan>{{0, 1}}), t.encode("a", true, true));
}

TEST(Special, ParsedSpecialTextsAreTheControlTokensLongestFirst) {
  const Tokenizer t = make(toy_spec("gpt-2"));
  EXPECT_EQ(t.parsed_special_texts(), (std::vector<std::string>{"<s>", "BCD", "AB"}));
}

TEST(Special, BosFollowsTheVocabFlagAndPreTypeDefault) {
  EXPECT_EQ(make(toy_spec("gpt-2")).encode("a", true, false), (Ids{0}));  // add_bos default off
  EXPECT_EQ(make(toy_spec("llama-bpe")).encode("a", true, false), (Ids{14, 0}));
  EXPECT_EQ(make(toy_spec("llama-bpe")).encode("a", false, false), (Ids{0}));
  auto spec = toy_spec("llama-bpe");
  spec.add_bos = false;
  EXPECT_EQ(make(spec).encode("a", true, false), (Ids{0}));
  spec = toy_spec("gpt-2");
  spec.add_eos = true;
  EXPECT_EQ(make(spec).encode("a", true, false), (Ids{0, 14}));
  EXPECT_EQ(make(toy_spec("llama-bpe")).encode("", true, false), (Ids{14}));
}

TEST(Decode, PiecesReverseTheByteMapAndHideControlTokens) {
  const Tokenizer t = make(toy_spec("gpt-2"));
  const Ids ids = {4, 7, 14, 15};
  EXPECT_EQ(t.decode(ids), "ab a<u>");
  EXPECT_EQ(t.decode(ids, true), "ab a<s><u>");
  EXPECT_EQ(t.token_text(7), " a");
  EXPECT_EQ(t.token_text(14), "<s>");
  EXPECT_EQ(t.token_text(999), "");
  EXPECT_EQ(t.find_token("abc"), 5);
  EXPECT_EQ(t.find_token("zzz"), kNoToken);
}

TEST(Create, Errors) {
  auto spec = toy_spec("gpt-2");
  spec.tokens.push_back("ab");
  spec.token_types.push_back(1);
  auto dup = Tokenizer::create(spec);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.message().find("duplicate token"), std::string::npos);

  spec = toy_spec("llama-bpe");
  spec.bos = std::nullopt;  // llama.cpp's default BOS id 11 is a valid id here
  EXPECT_EQ(make(spec).bos(), 11);
  spec.tokens.resize(11);
  spec.token_types.resize(11);
  auto no_bos = Tokenizer::create(spec);  // default id 11 out of range, yet add_bos is on
  ASSERT_FALSE(no_bos.ok());
  EXPECT_NE(no_bos.message().find("BOS"), std::string::npos);

  spec = toy_spec("sentencepiece");
  auto bad_pre = Tokenizer::create(spec);
  ASSERT_FALSE(bad_pre.ok());
  EXPECT_NE(bad_pre.message().find("sentencepiece"), std::string::npos);
}

TEST(Eog, EndTokensAreRecognisedByText) {
  auto spec = toy_spec("gpt-2");
  spec.tokens.push_back("<|im_end|>");
  spec.token_types.push_back(int32_t(TokenType::kUserDefined));
  const Tokenizer t = make(spec);
  const int32_t im_end = static_cast<int32_t>(spec.tokens.size()) - 1;
  EXPECT_TRUE(t.is_eog(im_end));
  EXPECT_TRUE(t.is_eog(14));  // the EOS
  EXPECT_FALSE(t.is_eog(0));
  EXPECT_EQ(t.eot(), im_end);
  EXPECT_TRUE(t.is_control(im_end));  // promoted like llama.cpp does
}

}  // namespace
}  // namespace gavel
