#include "tokenizer/unicode.h"

#include <array>
#include <memory>

namespace gavel::tok {
namespace {

// Flat per-codepoint table expanded once from the generated ranges (2.2 MB, O(1) lookups in
// the hot path).
const std::vector<uint16_t>& flags_table() {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(kMaxCodepoint, 0);
    for (size_t i = 0; i < kCptRangeCount; ++i) {
      const uint32_t begin = kCptRanges[i].first;
      const uint32_t end = i + 1 < kCptRangeCount ? kCptRanges[i + 1].first : kMaxCodepoint;
      for (uint32_t c = begin; c < end && c < kMaxCodepoint; ++c) t[c] = kCptRanges[i].flags;
    }
    return t;
  }();
  return table;
}

struct ByteMap {
  std::array<std::string, 256> to_unicode;
  std::array<int16_t, 512> from_unicode;  // every mapped codepoint is < 512
};

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
// 256, 257, ... in byte order, so that every byte has a visible, non-space stand-in.
const ByteMap& byte_map() {
  static const ByteMap map = [] {
    ByteMap m;
    m.from_unicode.fill(-1);
    auto printable = [](int b) {
      return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cpt = printable(b) ? b : next++;
      std::string s;
      append_utf8(s, cpt);
      m.to_unicode[b] = s;
      m.from_unicode[cpt] = static_cast<int16_t>(b);
    }
    return m;
  }();
  return map;
}

}  // namespace

uint16_t cpt_flags(uint32_t cpt) {
  return cpt < kMaxCodepoint ? flags_table()[cpt] : uint16_t{kUndefined};
}

std::vector<uint32_t> decode_utf8_lossy(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  const size_t n = s.size();
  auto cont = [&](size_t i) { return i < n && (static_cast<uint8_t>(s[i]) & 0xC0) == 0x80; };
  size_t i = 0;
  while (i < n) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      out.push_back(c);
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && cont(i + 1)) {
      out.push_back(((c & 0x1Fu) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3Fu));
      i += 2;
    } else if ((c & 0xF0) == 0xE0 && cont(i + 1) && cont(i + 2)) {
      out.push_back(((c & 0x0Fu) << 12) | ((static_cast<uint8_t>(s[i + 1]) & 0x3Fu) << 6) |
                    (static_cast<uint8_t>(s[i + 2]) & 0x3Fu));
      i += 3;
    } else if ((c & 0xF8) == 0xF0 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      out.push_back(((c & 0x07u) << 18) | ((static_cast<uint8_t>(s[i + 1]) & 0x3Fu) << 12) |
                    ((static_cast<uint8_t>(s[i + 2]) & 0x3Fu) << 6) |
                    (static_cast<uint8_t>(s[i + 3]) & 0x3Fu));
      i += 4;
    } else {
      out.push_back(kReplacementChar);
      i += 1;
    }
  }
  return out;
}

std::string_view byte_to_unicode(uint8_t b) { return byte_map().to_unicode[b]; }

int unicode_to_byte(uint32_t cpt) { return cpt < 512 ? byte_map().from_unicode[cpt] : -1; }

}  // namespace gavel::tok
