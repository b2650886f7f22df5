#include "judge/py_json.h"

#include <fmt/format.h>

namespace gavel::judge {
namespace {

// Decodes one UTF-8 scalar at s[i]; returns its length, or 0 if the bytes are not valid
// UTF-8 (overlong forms, surrogates U+D800..DFFF and values above U+10FFFF are invalid).
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  uint8_t c = b(0);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF && cont(1)) {
    cp = ((c & 0x1Fu) << 6) | (b(1) & 0x3Fu);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    cp = ((c & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    cp = ((c & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
    return 4;
  }
  return 0;
}

void append_u(std::string& out, uint32_t u) { out += fmt::format("\\u{:04x}", u); }

}  // namespace

Result<std::string> py_json_string(std::string_view s, bool ensure_ascii) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = decode_utf8(s, i, cp);
    if (n == 0)
      return Error{
          fmt::format("invalid UTF-8 at byte offset {} (0x{:02x})", i, static_cast<uint8_t>(s[i])),
          StatusCode::kInvalidArgument};
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (cp < 0x20) {
          append_u(out, cp);
        } else if (!ensure_ascii || (cp >= 0x20 && cp <= 0x7E)) {
          out.append(s.substr(i, n));
        } else if (cp < 0x10000) {
          append_u(out, cp);  // includes DEL (0x7F): Python escapes everything outside ' '..'~'
        } else {
          uint32_t v = cp - 0x10000;
          append_u(out, 0xD800 | (v >> 10));
          append_u(out, 0xDC00 | (v & 0x3FF));
        }
    }
    i += n;
  }
  out += '"';
  return out;
}

Result<std::string> py_json_dumps(const StringPairs& object, bool ensure_ascii) {
  std::string out = "{";
  for (size_t i = 0; i < object.size(); ++i) {
    if (i > 0) out += ", ";
    auto k = py_json_string(object[i].first, ensure_ascii);
    if (!k.ok()) return Error{fmt::format("key {}: {}", object[i].first, k.message())};
    auto v = py_json_string(object[i].second, ensure_ascii);
    if (!v.ok()) return Error{fmt::format("field \"{}\": {}", object[i].first, v.message())};
    out += *k;
    out += ": ";
    out += *v;
  }
  out += "}";
  return out;
}

}  // namespace gavel::judge
