// Codepoint-level helpers for the byte-level BPE tokenizer, with llama.cpp's exact semantics:
// lossy UTF-8 decoding (each invalid byte becomes U+FFFD), category flags as its pre-tokenizer
// sees them, and the GPT-2 byte <-> printable-codepoint mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/utf8.h"

namespace gavel::tok {

// Category bits (one per general-category major class) plus the White_Space property.
enum CptFlag : uint16_t {
  kUndefined = 0x0001,  // unassigned (Cn)
  kNumber = 0x0002,     // \p{N}
  kLetter = 0x0004,     // \p{L}
  kSeparator = 0x0008,  // \p{Z}
  kMark = 0x0010,       // \p{M}
  kPunct = 0x0020,      // \p{P}
  kSymbol = 0x0040,     // \p{S}
  kControl = 0x0080,    // \p{C} (assigned)
  kCategoryMask = 0x00FF,
  kWhitespace = 0x0100,  // \s
};

struct CptRange {
  uint32_t first;
  uint16_t flags;
};
extern const CptRange kCptRanges[];
extern const size_t kCptRangeCount;

constexpr uint32_t kMaxCodepoint = 0x110000;
constexpr uint32_t kReplacementChar = 0xFFFD;

// Flags of a codepoint; kUndefined for values >= 0x110000.
uint16_t cpt_flags(uint32_t cpt);

// Byte length of a UTF-8 sequence judged from its lead byte alone (continuation bytes count 1).
inline size_t utf8_seq_len(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// Decodes UTF-8 the way llama.cpp does: a malformed sequence yields U+FFFD and skips one byte.
// Overlong forms and surrogates are decoded, not rejected (llama.cpp does not check them).
std::vector<uint32_t> decode_utf8_lossy(std::string_view s);

// Encoding: gavel::append_utf8 (core/utf8.h).

// GPT-2 bytes_to_unicode: the UTF-8 text of the printable codepoint that stands for byte b.
std::string_view byte_to_unicode(uint8_t b);
// Inverse mapping: the byte a codepoint stands for, or -1 when it is not a byte symbol.
int unicode_to_byte(uint32_t cpt);

}  // namespace gavel::tok
