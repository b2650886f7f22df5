#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tokenizer/unicode.h"

namespace gavel::tok {
namespace {

TEST(ByteMap, PrintableBytesMapToThemselvesOthersAbove255) {
  EXPECT_EQ(byte_to_unicode('A'), "A");
  EXPECT_EQ(byte_to_unicode('~'), "~");
  EXPECT_EQ(byte_to_unicode(0xE9), "\xC3\xA9");  // é stays é
  EXPECT_EQ(byte_to_unicode(' '), "\xC4\xA0");   // U+0120 'Ġ'
  EXPECT_EQ(byte_to_unicode('\n'), "\xC4\x8A");  // U+010A 'Ċ'
  EXPECT_EQ(byte_to_unicode(0x00), "\xC4\x80");  // U+0100, the first non-printable
  EXPECT_EQ(byte_to_unicode(0xAD), "\xC5\x83");  // soft hyphen: U+0143, the last one
}

TEST(ByteMap, IsABijectionOnBytes) {
  std::set<std::string> seen;
  for (int b = 0; b < 256; ++b) {
    const std::string s(byte_to_unicode(static_cast<uint8_t>(b)));
    EXPECT_TRUE(seen.insert(s).second) << b;
    const auto cpts = decode_utf8_lossy(s);
    ASSERT_EQ(cpts.size(), 1u);
    EXPECT_EQ(unicode_to_byte(cpts[0]), b);
  }
  EXPECT_EQ(unicode_to_byte(0x20), -1);  // a raw space is no byte symbol
  EXPECT_EQ(unicode_to_byte(0x4E00), -1);
}

TEST(Utf8, DecodesValidSequences) {
  EXPECT_EQ(decode_utf8_lossy("a\xC3\xA9\xE4\xB8\x80\xF0\x9F\x98\x80"),
            (std::vector<uint32_t>{'a', 0xE9, 0x4E00, 0x1F600}));
}

TEST(Utf8, EachMalformedByteBecomesOneReplacementChar) {
  EXPECT_EQ(decode_utf8_lossy("a\x80"
                              "b"),
            (std::vector<uint32_t>{'a', 0xFFFD, 'b'}));
  // A truncated 3-byte sequence: the lead byte alone is replaced, the continuation byte too.
  EXPECT_EQ(decode_utf8_lossy("\xE2\x82x"), (std::vector<uint32_t>{0xFFFD, 0xFFFD, 'x'}));
  EXPECT_EQ(decode_utf8_lossy("\xFF\xFE"), (std::vector<uint32_t>{0xFFFD, 0xFFFD}));
  EXPECT_EQ(decode_utf8_lossy("\xF0\x9F\x98"), (std::vector<uint32_t>{0xFFFD, 0xFFFD, 0xFFFD}));
}

TEST(Utf8, OverlongAndSurrogatesAreDecodedNotRejected) {
  // llama.cpp does not validate these; neither do we (same tokens as the reference).
  EXPECT_EQ(decode_utf8_lossy("\xC0\xAF"), (std::vector<uint32_t>{0x2F}));
  EXPECT_EQ(decode_utf8_lossy("\xED\xA0\x80"), (std::vector<uint32_t>{0xD800}));
}

TEST(Utf8, AppendRoundTrips) {
  for (uint32_t c : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    append_utf8(s, c);
    EXPECT_EQ(decode_utf8_lossy(s), std::vector<uint32_t>{c}) << c;
  }
}

TEST(Flags, Categories) {
  EXPECT_EQ(cpt_flags('a') & kCategoryMask, kLetter);
  EXPECT_EQ(cpt_flags(0x4E00) & kCategoryMask, kLetter);
  EXPECT_EQ(cpt_flags('7') & kCategoryMask, kNumber);
  EXPECT_EQ(cpt_flags(0x00BD) & kCategoryMask, kNumber);  // ½ is No
  EXPECT_EQ(cpt_flags(0x0301) & kCategoryMask, kMark);
  EXPECT_EQ(cpt_flags('!') & kCategoryMask, kPunct);
  EXPECT_EQ(cpt_flags('~') & kCategoryMask, kSymbol);
  EXPECT_EQ(cpt_flags(0x1F600) & kCategoryMask, kSymbol);
  EXPECT_EQ(cpt_flags(0x0378) & kCategoryMask, kUndefined);  // unassigned
  EXPECT_EQ(cpt_flags(0x0000) & kCategoryMask, kControl);
  EXPECT_EQ(cpt_flags(0x110000), kUndefined);
}

TEST(Flags, WhitespaceIsTheWhiteSpaceProperty) {
  for (uint32_t c : {0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u,
                     0x200Au, 0x2028u, 0x2029u, 0x202Fu, 0x205Fu, 0x3000u}) {
    EXPECT_TRUE(cpt_flags(c) & kWhitespace) << std::hex << c;
  }
  for (uint32_t c : {0x1Cu, 0x1Fu, 0x200Bu, 0xFEFFu, 0x61u}) {
    EXPECT_FALSE(cpt_flags(c) & kWhitespace) << std::hex << c;
  }
}

}  // namespace
}  // namespace gavel::tok
