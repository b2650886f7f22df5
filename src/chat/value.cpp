#include "chat/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include <utf8proc.h>

namespace gavel::chat {

Value Value::make_dict(Dict d) {
  Value v;
  v.kind = Kind::kDict;
  v.dict = std::make_shared<Dict>(std::move(d));
  return v;
}

// Python hashes 1, 1.0 and True alike, so they are the same dict key.
const Value* Dict::find(const Value& key) const {
  for (const auto& [k, v] : items) {
    if (equals(k, key)) return &v;
  }
  return nullptr;
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k.kind == Kind::kString && k.s == key) return &v;
  }
  return nullptr;
}

void Dict::set(Value key, Value value) {
  for (auto& [k, v] : items) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(key), std::move(value));
}

const Value* CallArgs::kwarg(std::string_view name) const {
  for (const auto& [k, v] : kwargs) {
    if (k == name) return &v;
  }
  return nullptr;
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return v.b;
    case Kind::kInt:
      return v.i != 0;
    case Kind::kFloat:
      return v.f != 0.0;
    case Kind::kString:
      return !v.s.empty();
    case Kind::kList:
      return v.gen || !v.list->empty();
    case Kind::kDict:
      return !v.dict->items.empty();
    case Kind::kObject:
    case Kind::kCallable:
      return true;
  }
  return false;
}

static double as_double(const Value& v) {
  if (v.kind == Kind::kFloat) return v.f;
  if (v.kind == Kind::kBool) return v.b ? 1.0 : 0.0;
  return static_cast<double>(v.i);
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind != Kind::kFloat && b.kind != Kind::kFloat) {
      int64_t x = a.kind == Kind::kBool ? a.b : a.i;
      int64_t y = b.kind == Kind::kBool ? b.b : b.i;
      return x == y;
    }
    return as_double(a) == as_double(b);
  }
  if (a.kind != b.kind) return false;
  if (a.gen || b.gen) return a.gen == b.gen;
  switch (a.kind) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.s == b.s;
    case Kind::kList: {
      if (a.flag != b.flag || a.list->size() != b.list->size()) return false;
      for (size_t i = 0; i < a.list->size(); ++i) {
        if (!equals((*a.list)[i], (*b.list)[i])) return false;
      }
      return true;
    }
    case Kind::kDict: {
      if (a.dict->items.size() != b.dict->items.size()) return false;
      for (const auto& [k, v] : a.dict->items) {
        const Value* other = b.dict->find(k);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    case Kind::kObject:
      return a.obj == b.obj;
    case Kind::kCallable:
      return a.fn == b.fn;
    default:
      return false;
  }
}

Status less_than(const Value& a, const Value& b, bool* less) {
  if (a.is_number() && b.is_number()) {
    if (a.kind != Kind::kFloat && b.kind != Kind::kFloat) {
      int64_t x = a.kind == Kind::kBool ? a.b : a.i;
      int64_t y = b.kind == Kind::kBool ? b.b : b.i;
      *less = x < y;
    } else {
      *less = as_double(a) < as_double(b);
    }
    return Status::Ok();
  }
  if (a.kind == Kind::kString && b.kind == Kind::kString) {
    *less = a.s < b.s;  // UTF-8 byte order is code point order
    return Status::Ok();
  }
  if (a.kind == Kind::kList && b.kind == Kind::kList && a.flag == b.flag) {
    const List& x = *a.list;
    const List& y = *b.list;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equals(x[i], y[i])) continue;
      return less_than(x[i], y[i], less);
    }
    *less = x.size() < y.size();
    return Status::Ok();
  }
  return Error{"'<' not supported between instances of '" + type_name(a) + "' and '" +
               type_name(b) + "'"};
}

std::string type_name(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return v.flag ? "Markup" : "str";
    case Kind::kList:
      return v.gen ? "generator" : v.flag ? "tuple" : "list";
    case Kind::kDict:
      return "dict";
    case Kind::kObject:
      return v.obj->type_name;
    case Kind::kCallable:
      return "function";
  }
  return "object";
}

// ---------------------------------------------------------------- UTF-8

// Invalid bytes decode as themselves (U+0080..U+00FF) so nothing is lost or crashes;
// templates are validated as UTF-8 before they get here.
std::vector<char32_t> utf8_decode(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    // ASCII, a stray byte, or a sequence truncated by the end of the string.
    if (n <= 0 || i + static_cast<size_t>(n) >= s.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    char32_t cp = c & (0x3F >> n);
    bool ok = true;
    for (int k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(c);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += n + 1;
  }
  return out;
}

std::string utf8_encode(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) append_utf8(out, c);
  return out;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// str.isspace(): the characters Python treats as whitespace.
bool py_isspace(char32_t c) {
  if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) return true;
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

// ---------------------------------------------------------------- formatting

std::string py_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0.0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci looks like "-1.2345e+17": split into sign, digits and exponent.
  std::string out;
  size_t pos = 0;
  if (sci[0] == '-') {
    out.push_back('-');
    pos = 1;
  }
  size_t e = sci.find('e');
  std::string digits;
  for (size_t k = pos; k < e; ++k) {
    if (sci[k] != '.') digits.push_back(sci[k]);
  }
  int exp10 = std::stoi(sci.substr(e + 1));
  int decpt = exp10 + 1;
  int nd = static_cast<int>(digits.size());
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0." + std::string(-decpt, '0') + digits;
    } else if (decpt >= nd) {
      out += digits + std::string(decpt - nd, '0') + ".0";
    } else {
      out += digits.substr(0, decpt) + "." + digits.substr(decpt);
    }
  } else {
    out += digits.substr(0, 1);
    if (nd > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    out += eb;
  }
  return out;
}

static bool py_isprintable(char32_t c) {
  if (c == ' ') return true;
  if (c < 0x20 || c == 0x7F) return false;
  if (c < 0x7F) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

std::string py_repr_string(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : utf8_decode(s)) {
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (!py_isprintable(c)) {
      char buf[16];
      if (c < 0x100) {
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      } else if (c < 0x10000) {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      } else {
        std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(c));
      }
      out += buf;
    } else {
      append_utf8(out, c);
    }
  }
  out.push_back(quote);
  return out;
}

static Status repr_into(const Value& v, std::string& out, int depth);

static Status str_into(const Value& v, std::string& out, int depth) {
  switch (v.kind) {
    case Kind::kUndefined:
      return Status::Ok();
    case Kind::kString:
      out += v.s;
      return Status::Ok();
    default:
      return repr_into(v, out, depth);
  }
}

static Status repr_into(const Value& v, std::string& out, int depth) {
  if (depth > 200) return Error{"value nested too deeply to print"};
  switch (v.kind) {
    case Kind::kUndefined:
      return Status::Ok();
    case Kind::kNone:
      out += "None";
      return Status::Ok();
    case Kind::kBool:
      out += v.b ? "True" : "False";
      return Status::Ok();
    case Kind::kInt:
      out += std::to_string(v.i);
      return Status::Ok();
    case Kind::kFloat:
      out += py_float_repr(v.f);
      return Status::Ok();
    case Kind::kString:
      if (v.flag) out += "Markup(";
      out += py_repr_string(v.s);
      if (v.flag) out += ")";
      return Status::Ok();
    case Kind::kList: {
      if (v.gen) return Error{"printing a generator object is not supported"};
      out += v.flag ? '(' : '[';
      for (size_t k = 0; k < v.list->size(); ++k) {
        if (k) out += ", ";
        GAVEL_TRY(repr_into((*v.list)[k], out, depth + 1));
      }
      if (v.flag && v.list->size() == 1) out += ',';
      out += v.flag ? ')' : ']';
      return Status::Ok();
    }
    case Kind::kDict: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.dict->items) {
        if (!first) out += ", ";
        first = false;
        GAVEL_TRY(repr_into(k, out, depth + 1));
        out += ": ";
        GAVEL_TRY(repr_into(x, out, depth + 1));
      }
      out += '}';
      return Status::Ok();
    }
    case Kind::kObject:
      if (v.obj->type_name == "Namespace") {
        out += "<Namespace ";
        GAVEL_TRY(repr_into(Value::make_dict(v.obj->attrs), out, depth + 1));
        out += ">";
        return Status::Ok();
      }
      return Error{"printing a " + v.obj->type_name + " object is not supported"};
    case Kind::kCallable:
      return Error{"printing a function ('" + v.fn->name + "') is not supported"};
  }
  return Status::Ok();
}

Result<std::string> to_str(const Value& v) {
  if (v.kind == Kind::kString) return v.s;
  std::string out;
  GAVEL_TRY(str_into(v, out, 0));
  return out;
}

Result<std::string> to_repr(const Value& v) {
  std::string out;
  GAVEL_TRY(repr_into(v, out, 0));
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&#34;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// ---------------------------------------------------------------- JSON

static void json_string(std::string_view s, bool ensure_ascii, std::string& out) {
  out.push_back('"');
  for (char32_t c : utf8_decode(s)) {
    char buf[16];
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (c < 0x20 || (ensure_ascii && c >= 0x7F)) {
      if (c >= 0x10000) {
        char32_t v = c - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + static_cast<unsigned>(v >> 10),
                      0xDC00 + static_cast<unsigned>(v & 0x3FF));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      }
      out += buf;
    } else {
      append_utf8(out, c);
    }
  }
  out.push_back('"');
}

static std::string json_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return py_float_repr(d);
}

static Status json_into(const Value& v, const JsonDumpOptions& opt, int level, std::string& out) {
  if (level > 200) return Error{"tojson: value nested too deeply"};
  const std::string item_sep =
      opt.separators ? opt.separators->first : (opt.indent ? "," : ", ");
  const std::string key_sep = opt.separators ? opt.separators->second : ": ";
  auto newline = [&](int lvl) {
    if (!opt.indent) return;
    out.push_back('\n');
    for (int k = 0; k < lvl; ++k) out += *opt.indent;
  };
  switch (v.kind) {
    case Kind::kNone:
      out += "null";
      return Status::Ok();
    case Kind::kBool:
      out += v.b ? "true" : "false";
      return Status::Ok();
    case Kind::kInt:
      out += std::to_string(v.i);
      return Status::Ok();
    case Kind::kFloat:
      out += json_float(v.f);
      return Status::Ok();
    case Kind::kString:
      json_string(v.s, opt.ensure_ascii, out);
      return Status::Ok();
    case Kind::kList: {
      if (v.gen) return Error{"tojson: Object of type generator is not JSON serializable"};
      if (v.list->empty()) {
        out += "[]";
        return Status::Ok();
      }
      out.push_back('[');
      bool first = true;
      for (const Value& x : *v.list) {
        if (!first) out += item_sep;
        first = false;
        newline(level + 1);
        GAVEL_TRY(json_into(x, opt, level + 1, out));
      }
      newline(level);
      out.push_back(']');
      return Status::Ok();
    }
    case Kind::kDict: {
      if (v.dict->items.empty()) {
        out += "{}";
        return Status::Ok();
      }
      std::vector<const std::pair<Value, Value>*> items;
      for (const auto& kv : v.dict->items) items.push_back(&kv);
      if (opt.sort_keys) {
        Status st;
        std::stable_sort(items.begin(), items.end(), [&](auto* a, auto* b) {
          bool less = false;
          Status s = less_than(a->first, b->first, &less);
          if (!s.ok() && st.ok()) st = s;
          return less;
        });
        GAVEL_TRY(st);
      }
      out.push_back('{');
      bool first = true;
      for (const auto* kv : items) {
        if (!first) out += item_sep;
        first = false;
        newline(level + 1);
        const Value& k = kv->first;
        switch (k.kind) {
          case Kind::kString:
            json_string(k.s, opt.ensure_ascii, out);
            break;
          case Kind::kInt:
            out += "\"" + std::to_string(k.i) + "\"";
            break;
          case Kind::kFloat:
            out += "\"" + json_float(k.f) + "\"";
            break;
          case Kind::kBool:
            out += k.b ? "\"true\"" : "\"false\"";
            break;
          case Kind::kNone:
            out += "\"null\"";
            break;
          default:
            return Error{"tojson: keys must be str, int, float, bool or None, not " +
                         type_name(k)};
        }
        out += key_sep;
        GAVEL_TRY(json_into(kv->second, opt, level + 1, out));
      }
      newline(level);
      out.push_back('}');
      return Status::Ok();
    }
    default:
      return Error{"tojson: Object of type " + type_name(v) + " is not JSON serializable"};
  }
}

Result<std::string> json_dumps(const Value& v, const JsonDumpOptions& opt) {
  std::string out;
  GAVEL_TRY(json_into(v, opt, 0, out));
  return out;
}

template <class Json>
static Value from_json_impl(const Json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value::boolean(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value::integer(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::integer(static_cast<int64_t>(u));
      return Value::floating(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value::floating(j.template get<double>());
    case nlohmann::json::value_t::string:
      return Value::string(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      List items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(from_json_impl(x));
      return Value::make_list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Dict d;
      d.items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) {
        d.items.emplace_back(Value::string(it.key()), from_json_impl(it.value()));
      }
      return Value::make_dict(std::move(d));
    }
    default:
      return Value::none();
  }
}

Value from_json(const nlohmann::json& j) { return from_json_impl(j); }
Value from_json(const nlohmann::ordered_json& j) { return from_json_impl(j); }

}  // namespace gavel::chat
