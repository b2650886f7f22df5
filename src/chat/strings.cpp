#include "chat/strings.h"

#include <cstdio>

#include <utf8proc.h>

#include "chat/builtins.h"

namespace gavel::chat {

// ---------------------------------------------------------------- ArgReader

Error ArgReader::error(const std::string& msg) const {
  return Error{std::string(fname_) + ": " + msg};
}

Status ArgReader::check(size_t max_positional,
                        std::initializer_list<std::string_view> names) const {
  if (a_.args.size() > max_positional) {
    return error("takes at most " + std::to_string(max_positional) + " positional argument(s), " +
                 std::to_string(a_.args.size()) + " given");
  }
  for (const auto& [k, v] : a_.kwargs) {
    bool ok = false;
    size_t idx = 0;
    for (auto n : names) {
      if (n == k) {
        ok = true;
        if (idx < a_.args.size()) return error("got multiple values for argument '" + k + "'");
      }
      ++idx;
    }
    if (!ok) return error("unexpected keyword argument '" + k + "'");
  }
  return Status::Ok();
}

const Value* ArgReader::get(size_t pos, std::string_view name) const {
  if (pos < a_.args.size()) return &a_.args[pos];
  if (!name.empty()) return a_.kwarg(name);
  return nullptr;
}

Value ArgReader::get_or(size_t pos, std::string_view name, Value def) const {
  const Value* v = get(pos, name);
  return v ? *v : def;
}

Result<int64_t> ArgReader::get_int(size_t pos, std::string_view name, int64_t def) const {
  const Value* v = get(pos, name);
  if (!v) return def;
  if (v->kind == Kind::kInt) return v->i;
  if (v->kind == Kind::kBool) return static_cast<int64_t>(v->b);
  return error("argument '" + std::string(name) + "' must be an integer, not " + type_name(*v));
}

Result<bool> ArgReader::get_bool(size_t pos, std::string_view name, bool def) const {
  const Value* v = get(pos, name);
  return v ? truthy(*v) : def;
}

Result<std::string> ArgReader::get_str(size_t pos, std::string_view name, std::string def) const {
  const Value* v = get(pos, name);
  if (!v) return def;
  if (!v->is_string()) {
    return error("argument '" + std::string(name) + "' must be a string, not " + type_name(*v));
  }
  return v->s;
}

// ---------------------------------------------------------------- case mapping

static bool is_cased(char32_t c) {
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
         cat == UTF8PROC_CATEGORY_LT;
}

static void append_upper(std::string& out, char32_t c) {
  if (c == 0xDF) {  // German sharp s: Python's full case mapping
    out += "SS";
    return;
  }
  append_utf8(out, static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c))));
}
static void append_lower(std::string& out, char32_t c) {
  append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}
static void append_title(std::string& out, char32_t c) {
  if (c == 0xDF) {
    out += "Ss";
    return;
  }
  append_utf8(out, static_cast<char32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(c))));
}

std::string py_upper(std::string_view s) {
  std::string out;
  for (char32_t c : utf8_decode(s)) append_upper(out, c);
  return out;
}

std::string py_lower(std::string_view s) {
  std::string out;
  for (char32_t c : utf8_decode(s)) append_lower(out, c);
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string out;
  bool first = true;
  for (char32_t c : utf8_decode(s)) {
    if (first) {
      append_title(out, c);
    } else {
      append_lower(out, c);
    }
    first = false;
  }
  return out;
}

std::string py_str_title(std::string_view s) {
  std::string out;
  bool prev_cased = false;
  for (char32_t c : utf8_decode(s)) {
    if (prev_cased) {
      append_lower(out, c);
    } else {
      append_title(out, c);
    }
    prev_cased = is_cased(c);
  }
  return out;
}

// ---------------------------------------------------------------- split / strip

std::string py_strip(std::string_view s, const Value* chars, bool left, bool right) {
  auto cps = utf8_decode(s);
  std::vector<char32_t> set;
  bool ws = !chars || chars->is_none() || chars->is_undefined();
  if (!ws) set = utf8_decode(chars->s);
  auto strip_me = [&](char32_t c) {
    if (ws) return py_isspace(c);
    for (char32_t x : set) {
      if (x == c) return true;
    }
    return false;
  };
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strip_me(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strip_me(cps[e - 1])) --e;
  }
  return utf8_encode(std::vector<char32_t>(cps.begin() + b, cps.begin() + e));
}

std::vector<std::string> py_split(std::string_view s, const Value* sep, int64_t maxsplit,
                                  bool from_right, Status* st) {
  std::vector<std::string> out;
  if (!sep || sep->is_none()) {
    auto cps = utf8_decode(s);
    std::vector<std::pair<size_t, size_t>> words;  // [b, e) in code points
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && py_isspace(cps[i])) ++i;
      if (i >= cps.size()) break;
      size_t b = i;
      while (i < cps.size() && !py_isspace(cps[i])) ++i;
      words.emplace_back(b, i);
    }
    if (maxsplit < 0 || static_cast<size_t>(maxsplit) + 1 >= words.size()) {
      for (auto [b, e] : words) {
        out.push_back(utf8_encode(std::vector<char32_t>(cps.begin() + b, cps.begin() + e)));
      }
      return out;
    }
    if (maxsplit == 0 && !words.empty()) {
      out.push_back(utf8_encode(std::vector<char32_t>(
          cps.begin() + (from_right ? 0 : words.front().first),
          cps.begin() + (from_right ? words.back().second : cps.size()))));
      if (from_right) {
        // rsplit(None, 0) strips trailing whitespace only
        out.back() = py_strip(utf8_encode(std::vector<char32_t>(
                                  cps.begin(), cps.begin() + words.back().second)),
                              nullptr, true, false);
      } else {
        out.back() = py_strip(out.back(), nullptr, false, true);
      }
      return out;
    }
    size_t k = static_cast<size_t>(maxsplit);
    if (!from_right) {
      for (size_t w = 0; w < k; ++w) {
        out.push_back(utf8_encode(std::vector<char32_t>(cps.begin() + words[w].first,
                                                        cps.begin() + words[w].second)));
      }
      std::string rest = utf8_encode(
          std::vector<char32_t>(cps.begin() + words[k].first, cps.end()));
      out.push_back(py_strip(rest, nullptr, false, true));
    } else {
      size_t n = words.size();
      std::string rest = utf8_encode(
          std::vector<char32_t>(cps.begin(), cps.begin() + words[n - k - 1].second));
      out.push_back(py_strip(rest, nullptr, true, false));
      for (size_t w = n - k; w < n; ++w) {
        out.push_back(utf8_encode(std::vector<char32_t>(cps.begin() + words[w].first,
                                                        cps.begin() + words[w].second)));
      }
    }
    return out;
  }
  if (!sep->is_string()) {
    *st = Error{"must be str or None, not " + type_name(*sep)};
    return out;
  }
  const std::string& d = sep->s;
  if (d.empty()) {
    *st = Error{"empty separator"};
    return out;
  }
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t f = std::string_view(s).find(d, pos);
    if (f == std::string_view::npos) break;
    parts.emplace_back(s.substr(pos, f - pos));
    pos = f + d.size();
  }
  parts.emplace_back(s.substr(pos));
  if (maxsplit < 0 || static_cast<size_t>(maxsplit) + 1 >= parts.size()) return parts;
  size_t k = static_cast<size_t>(maxsplit);
  if (!from_right) {
    out.assign(parts.begin(), parts.begin() + k);
    std::string rest;
    for (size_t w = k; w < parts.size(); ++w) rest += (w > k ? d : "") + parts[w];
    out.push_back(rest);
  } else {
    size_t n = parts.size();
    std::string rest;
    for (size_t w = 0; w < n - k; ++w) rest += (w > 0 ? d : "") + parts[w];
    out.push_back(rest);
    out.insert(out.end(), parts.begin() + (n - k), parts.end());
  }
  return out;
}

static bool is_line_break(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D ||
         c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
}

std::vector<std::string> py_splitlines(std::string_view s, bool keepends) {
  std::vector<std::string> out;
  auto cps = utf8_decode(s);
  size_t i = 0, b = 0;
  while (i < cps.size()) {
    if (is_line_break(cps[i])) {
      size_t eol = i + 1;
      if (cps[i] == '\r' && eol < cps.size() && cps[eol] == '\n') ++eol;
      out.push_back(utf8_encode(
          std::vector<char32_t>(cps.begin() + b, cps.begin() + (keepends ? eol : i))));
      b = i = eol;
    } else {
      ++i;
    }
  }
  if (b < cps.size()) out.push_back(utf8_encode(std::vector<char32_t>(cps.begin() + b, cps.end())));
  return out;
}

std::string py_replace(std::string_view s, std::string_view old, std::string_view neu,
                       int64_t count) {
  std::string out;
  if (old.empty()) {
    auto cps = utf8_decode(s);
    int64_t done = 0;
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (count < 0 || done < count) {
        out += neu;
        ++done;
      }
      if (k < cps.size()) append_utf8(out, cps[k]);
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t f = s.find(old, pos);
    if (f == std::string_view::npos) break;
    out += s.substr(pos, f - pos);
    out += neu;
    pos = f + old.size();
    ++done;
  }
  out += s.substr(pos);
  return out;
}

// ---------------------------------------------------------------- formatting

static Result<std::string> format_one(char conv, const std::string& flags, int width, int prec,
                                      const Value& v) {
  std::string body;
  if (conv == 's' || conv == 'r') {
    GAVEL_ASSIGN(body, conv == 's' ? to_str(v) : to_repr(v));
    if (prec >= 0) {
      auto cps = utf8_decode(body);
      if (static_cast<size_t>(prec) < cps.size()) {
        cps.resize(static_cast<size_t>(prec));
        body = utf8_encode(cps);
      }
    }
    int pad = width - static_cast<int>(utf8_length(body));
    if (pad > 0) {
      if (flags.find('-') != std::string::npos) {
        body += std::string(pad, ' ');
      } else {
        body = std::string(pad, ' ') + body;
      }
    }
    return body;
  }
  if (!v.is_number()) {
    return Error{std::string("%") + conv + " format: a real number is required, not " +
                 type_name(v)};
  }
  std::string spec = "%" + flags;
  if (width > 0) spec += std::to_string(width);
  if (prec >= 0) spec += "." + std::to_string(prec);
  char buf[512];
  double d = v.kind == Kind::kFloat ? v.f : static_cast<double>(v.kind == Kind::kBool ? v.b : v.i);
  if (conv == 'd' || conv == 'i' || conv == 'x' || conv == 'X' || conv == 'o') {
    long long n = v.kind == Kind::kFloat ? static_cast<long long>(v.f)
                                         : static_cast<long long>(v.kind == Kind::kBool ? v.b : v.i);
    if ((conv == 'x' || conv == 'X' || conv == 'o') && v.kind == Kind::kFloat) {
      return Error{std::string("%") + conv + " format: an integer is required, not float"};
    }
    spec += "ll";
    spec.push_back(conv == 'i' ? 'd' : conv);
    std::snprintf(buf, sizeof buf, spec.c_str(), n);
  } else if (conv == 'f' || conv == 'F' || conv == 'e' || conv == 'E' || conv == 'g' ||
             conv == 'G') {
    spec.push_back(conv);
    std::snprintf(buf, sizeof buf, spec.c_str(), d);
  } else {
    return Error{std::string("unsupported format character '") + conv + "'"};
  }
  return std::string(buf);
}

Result<Value> percent_format(const Value& fmt, const Value& args) {
  List list;
  if (args.is_tuple()) {
    list = *args.list;
  } else {
    list.push_back(args);
  }
  if (args.is_dict()) return Error{"%-formatting with a mapping is not supported"};
  std::string out;
  size_t next = 0;
  const std::string& f = fmt.s;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out.push_back(f[i]);
      continue;
    }
    ++i;
    if (i >= f.size()) return Error{"incomplete format"};
    if (f[i] == '%') {
      out.push_back('%');
      continue;
    }
    std::string flags;
    while (i < f.size() && std::string_view("-+ 0#").find(f[i]) != std::string_view::npos) {
      flags.push_back(f[i++]);
    }
    int width = 0, prec = -1;
    while (i < f.size() && f[i] >= '0' && f[i] <= '9') width = width * 10 + (f[i++] - '0');
    if (i < f.size() && f[i] == '.') {
      ++i;
      prec = 0;
      while (i < f.size() && f[i] >= '0' && f[i] <= '9') prec = prec * 10 + (f[i++] - '0');
    }
    if (width > 1000 || prec > 1000) return Error{"format width too large"};
    if (i >= f.size()) return Error{"incomplete format"};
    if (next >= list.size()) return Error{"not enough arguments for format string"};
    GAVEL_ASSIGN(std::string piece, format_one(f[i], flags, width, prec, list[next++]));
    out += fmt.flag ? html_escape(piece) : piece;
  }
  if (next < list.size()) return Error{"not all arguments converted during string formatting"};
  return Value::string(std::move(out), fmt.flag);
}

// str.format with {} / {0} / {name} fields, !r / !s and simple [[fill]align][width][.prec][type].
static Result<std::string> str_format(const std::string& f, const CallArgs& a) {
  std::string out;
  size_t auto_idx = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      return Error{"Single '}' encountered in format string"};
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    size_t close = f.find('}', i);
    if (close == std::string::npos) return Error{"Single '{' encountered in format string"};
    std::string field = f.substr(i + 1, close - i - 1);
    i = close;
    std::string spec, conv;
    if (auto p = field.find(':'); p != std::string::npos) {
      spec = field.substr(p + 1);
      field = field.substr(0, p);
    }
    if (auto p = field.find('!'); p != std::string::npos) {
      conv = field.substr(p + 1);
      field = field.substr(0, p);
    }
    const Value* v = nullptr;
    if (field.empty()) {
      if (auto_idx >= a.args.size()) return Error{"Replacement index out of range"};
      v = &a.args[auto_idx++];
    } else if (std::isdigit(static_cast<unsigned char>(field[0]))) {
      size_t idx = std::stoul(field);
      if (idx >= a.args.size()) return Error{"Replacement index out of range"};
      v = &a.args[idx];
    } else {
      v = a.kwarg(field);
      if (!v) return Error{"KeyError: '" + field + "'"};
    }
    std::string text;
    if (conv == "r") {
      GAVEL_ASSIGN(text, to_repr(*v));
    } else if (conv.empty() || conv == "s") {
      GAVEL_ASSIGN(text, to_str(*v));
    } else {
      return Error{"unknown conversion specifier " + conv};
    }
    if (!spec.empty()) {
      // [[fill]align][width][.precision][type]
      char fill = ' ', align = 0;
      size_t k = 0;
      if (spec.size() >= 2 && std::string_view("<>^").find(spec[1]) != std::string_view::npos) {
        fill = spec[0];
        align = spec[1];
        k = 2;
      } else if (!spec.empty() && std::string_view("<>^").find(spec[0]) != std::string_view::npos) {
        align = spec[0];
        k = 1;
      }
      int width = 0, prec = -1;
      while (k < spec.size() && std::isdigit(static_cast<unsigned char>(spec[k]))) {
        width = width * 10 + (spec[k++] - '0');
      }
      if (k < spec.size() && spec[k] == '.') {
        ++k;
        prec = 0;
        while (k < spec.size() && std::isdigit(static_cast<unsigned char>(spec[k]))) {
          prec = prec * 10 + (spec[k++] - '0');
        }
      }
      std::string type = spec.substr(k);
      if (width > 1000 || prec > 1000) return Error{"format width too large"};
      if (type == "f" && v->is_number()) {
        char buf[512];
        double d = v->kind == Kind::kFloat ? v->f : static_cast<double>(v->i);
        std::snprintf(buf, sizeof buf, "%.*f", prec < 0 ? 6 : prec, d);
        text = buf;
        if (!align) align = '>';
      } else if (type == "d" && v->kind == Kind::kInt) {
        if (!align) align = '>';
      } else if (!type.empty() && type != "s") {
        return Error{"unsupported format spec '" + spec + "'"};
      } else if (prec >= 0 && v->is_string()) {
        auto cps = utf8_decode(text);
        if (static_cast<size_t>(prec) < cps.size()) cps.resize(static_cast<size_t>(prec));
        text = utf8_encode(cps);
      }
      if (!align) align = v->is_number() ? '>' : '<';
      int pad = width - static_cast<int>(utf8_length(text));
      if (pad > 0) {
        int l = align == '<' ? 0 : align == '>' ? pad : pad / 2;
        text = std::string(l, fill) + text + std::string(pad - l, fill);
      }
    }
    out += text;
  }
  return out;
}

// ---------------------------------------------------------------- bound methods

bool is_string_method(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "startswith", "endswith",   "split",      "rsplit",   "strip",      "lstrip",
      "rstrip",     "upper",      "lower",      "title",    "capitalize", "replace",
      "format",     "find",       "rfind",      "index",    "rindex",     "count",
      "join",       "splitlines", "isdigit",    "isalpha",  "isalnum",    "isspace",
      "isupper",    "islower",    "isnumeric",  "isdecimal", "removeprefix", "removesuffix",
      "ljust",      "rjust",      "center",     "zfill",    "partition",  "rpartition",
      "swapcase",   "casefold",   "encode",     "expandtabs", "istitle",  "isidentifier",
      "isprintable", "isascii",   "translate",  "maketrans", "format_map"};
  for (auto n : kNames) {
    if (n == name) return true;
  }
  return false;
}

static Value str_list(const std::vector<std::string>& parts) {
  List l;
  l.reserve(parts.size());
  for (const auto& p : parts) l.push_back(Value::string(p));
  return Value::make_list(std::move(l));
}

static Result<bool> affix_match(const std::string& s, const Value& affix, bool prefix,
                                const ArgReader& r) {
  std::vector<std::string> options;
  if (affix.is_string()) {
    options.push_back(affix.s);
  } else if (affix.is_tuple()) {
    for (const Value& x : *affix.list) {
      if (!x.is_string()) return r.error("tuple for startswith/endswith must only contain str");
      options.push_back(x.s);
    }
  } else {
    return r.error("first arg must be str or a tuple of str, not " + type_name(affix));
  }
  if (r.get(1, "") || r.get(2, "")) {
    return r.error("start/end arguments are not supported");
  }
  for (const auto& o : options) {
    if (o.size() > s.size()) continue;
    if (prefix ? s.compare(0, o.size(), o) == 0 : s.compare(s.size() - o.size(), o.size(), o) == 0) {
      return true;
    }
  }
  return false;
}

static bool all_cps(const std::string& s, bool (*pred)(char32_t)) {
  auto cps = utf8_decode(s);
  if (cps.empty()) return false;
  for (char32_t c : cps) {
    if (!pred(c)) return false;
  }
  return true;
}

static bool cp_is_digit(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_ND;
}
static bool cp_is_alpha(char32_t c) {
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}
static bool cp_is_alnum(char32_t c) {
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cp_is_alpha(c) || cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL ||
         cat == UTF8PROC_CATEGORY_NO;
}

static Result<Value> call_str_method(const Value& self, const std::string& name, CallArgs& a) {
  const std::string& s = self.s;
  ArgReader r(a, "str." + name);
  auto keep = [&](std::string x) { return Value::string(std::move(x), self.flag); };
  if (name == "startswith" || name == "endswith") {
    GAVEL_TRY(r.check(3, {}));
    if (a.args.empty()) return r.error("takes at least 1 argument");
    GAVEL_ASSIGN(bool m, affix_match(s, a.args[0], name == "startswith", r));
    return Value::boolean(m);
  }
  if (name == "split" || name == "rsplit") {
    GAVEL_TRY(r.check(2, {"sep", "maxsplit"}));
    GAVEL_ASSIGN(int64_t maxsplit, r.get_int(1, "maxsplit", -1));
    Status st;
    auto parts = py_split(s, r.get(0, "sep"), maxsplit, name == "rsplit", &st);
    if (!st.ok()) return r.error(st.message());
    return str_list(parts);
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    GAVEL_TRY(r.check(1, {}));
    const Value* chars = r.get(0, "");
    if (chars && !chars->is_string() && !chars->is_none()) {
      return r.error("arg must be None or str");
    }
    return keep(py_strip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" ||
      name == "casefold" || name == "swapcase") {
    GAVEL_TRY(r.check(0, {}));
    if (name == "upper") return keep(py_upper(s));
    if (name == "lower" || name == "casefold") return keep(py_lower(s));
    if (name == "title") return keep(py_str_title(s));
    if (name == "capitalize") return keep(py_capitalize(s));
    std::string out;
    for (char32_t c : utf8_decode(s)) {
      std::string one;
      append_utf8(one, c);
      out += is_cased(c) && py_upper(one) == one ? py_lower(one) : py_upper(one);
    }
    return keep(out);
  }
  if (name == "replace") {
    GAVEL_TRY(r.check(3, {"count"}));
    if (a.args.size() < 2 || !a.args[0].is_string() || !a.args[1].is_string()) {
      return r.error("takes two str arguments");
    }
    GAVEL_ASSIGN(int64_t count, r.get_int(2, "count", -1));
    return keep(py_replace(s, a.args[0].s, a.args[1].s, count));
  }
  if (name == "format") {
    GAVEL_ASSIGN(std::string out, str_format(s, a));
    return Value::string(std::move(out));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" ||
      name == "count") {
    GAVEL_TRY(r.check(1, {}));
    if (a.args.empty() || !a.args[0].is_string()) return r.error("takes one str argument");
    const std::string& sub = a.args[0].s;
    if (name == "count") {
      if (sub.empty()) return Value::integer(static_cast<int64_t>(utf8_length(s) + 1));
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value::integer(n);
    }
    size_t p = (name == "find" || name == "index") ? s.find(sub) : s.rfind(sub);
    if (p == std::string::npos) {
      if (name == "index" || name == "rindex") return r.error("substring not found");
      return Value::integer(-1);
    }
    return Value::integer(static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, p))));
  }
  if (name == "join") {
    GAVEL_TRY(r.check(1, {}));
    if (a.args.empty()) return r.error("takes exactly one argument");
    GAVEL_ASSIGN(List items, iterate(a.args[0]));
    std::string out;
    for (size_t k = 0; k < items.size(); ++k) {
      if (!items[k].is_string()) {
        return r.error("sequence item " + std::to_string(k) + ": expected str instance, " +
                       type_name(items[k]) + " found");
      }
      if (k) out += s;
      out += items[k].s;
    }
    return Value::string(std::move(out));
  }
  if (name == "splitlines") {
    GAVEL_TRY(r.check(1, {"keepends"}));
    GAVEL_ASSIGN(bool keepends, r.get_bool(0, "keepends", false));
    return str_list(py_splitlines(s, keepends));
  }
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric") {
    return Value::boolean(all_cps(s, cp_is_digit));
  }
  if (name == "isalpha") return Value::boolean(all_cps(s, cp_is_alpha));
  if (name == "isalnum") return Value::boolean(all_cps(s, cp_is_alnum));
  if (name == "isspace") return Value::boolean(all_cps(s, py_isspace));
  if (name == "isascii") {
    for (char c : s) {
      if (static_cast<unsigned char>(c) >= 0x80) return Value::boolean(false);
    }
    return Value::boolean(true);
  }
  if (name == "isupper" || name == "islower") {
    bool any_cased = false;
    for (char32_t c : utf8_decode(s)) {
      if (!is_cased(c)) continue;
      any_cased = true;
      std::string one;
      append_utf8(one, c);
      if (name == "isupper" ? py_upper(one) != one : py_lower(one) != one) {
        return Value::boolean(false);
      }
    }
    return Value::boolean(any_cased);
  }
  if (name == "removeprefix" || name == "removesuffix") {
    if (a.args.size() != 1 || !a.args[0].is_string()) return r.error("takes one str argument");
    const std::string& x = a.args[0].s;
    if (name == "removeprefix" && s.compare(0, x.size(), x) == 0) return keep(s.substr(x.size()));
    if (name == "removesuffix" && !x.empty() && s.size() >= x.size() &&
        s.compare(s.size() - x.size(), x.size(), x) == 0) {
      return keep(s.substr(0, s.size() - x.size()));
    }
    return self;
  }
  if (name == "ljust" || name == "rjust" || name == "center" || name == "zfill") {
    GAVEL_TRY(r.check(name == "zfill" ? 1 : 2, {}));
    GAVEL_ASSIGN(int64_t width, r.get_int(0, "width", 0));
    if (width > (1 << 20)) return r.error("width too large");
    std::string fill = name == "zfill" ? "0" : " ";
    if (const Value* f = r.get(1, ""); f && f->is_string() && utf8_length(f->s) == 1) fill = f->s;
    int64_t pad = width - static_cast<int64_t>(utf8_length(s));
    if (pad <= 0) return self;
    auto rep = [&](int64_t n) {
      std::string o;
      for (int64_t k = 0; k < n; ++k) o += fill;
      return o;
    };
    if (name == "ljust") return Value::string(s + rep(pad));
    if (name == "rjust") return Value::string(rep(pad) + s);
    if (name == "zfill") {
      if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        return Value::string(s.substr(0, 1) + rep(pad) + s.substr(1));
      }
      return Value::string(rep(pad) + s);
    }
    int64_t left = pad / 2 + (pad & width & 1);
    return Value::string(rep(left) + s + rep(pad - left));
  }
  if (name == "partition" || name == "rpartition") {
    if (a.args.size() != 1 || !a.args[0].is_string() || a.args[0].s.empty()) {
      return r.error("takes one non-empty str argument");
    }
    const std::string& sep = a.args[0].s;
    size_t p = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (p == std::string::npos) {
      List t = name == "partition"
                   ? List{Value::string(s), Value::string(""), Value::string("")}
                   : List{Value::string(""), Value::string(""), Value::string(s)};
      return Value::make_list(std::move(t), true);
    }
    return Value::make_list({Value::string(s.substr(0, p)), Value::string(sep),
                             Value::string(s.substr(p + sep.size()))},
                            true);
  }
  return r.error("this str method is not supported by gavel");
}

static Result<Value> call_dict_method(const Value& self, const std::string& name, CallArgs& a) {
  ArgReader r(a, "dict." + name);
  if (name == "get") {
    GAVEL_TRY(r.check(2, {}));
    if (a.args.empty()) return r.error("expected at least 1 argument");
    if (const Value* v = self.dict->find(a.args[0])) return *v;
    return a.args.size() > 1 ? a.args[1] : Value::none();
  }
  GAVEL_TRY(r.check(0, {}));
  if (name == "copy") return self;
  List out;
  for (const auto& [k, v] : self.dict->items) {
    if (name == "items") {
      out.push_back(Value::make_list({k, v}, true));
    } else if (name == "keys") {
      out.push_back(k);
    } else if (name == "values") {
      out.push_back(v);
    } else {
      return r.error("this dict method is not supported by gavel");
    }
  }
  return Value::make_list(std::move(out));
}

static Result<Value> call_list_method(const Value& self, const std::string& name, CallArgs& a) {
  ArgReader r(a, type_name(self) + "." + name);
  if (name == "copy") {
    GAVEL_TRY(r.check(0, {}));
    return self;
  }
  GAVEL_TRY(r.check(1, {}));
  if (a.args.size() != 1) return r.error("takes exactly one argument");
  int64_t idx = 0, count = 0;
  bool found = false;
  for (const Value& x : *self.list) {
    if (equals(x, a.args[0])) {
      if (!found) {
        found = true;
        count = 0;
      }
      ++count;
    }
    if (!found) ++idx;
  }
  if (name == "count") return Value::integer(found ? count : 0);
  if (!found) return r.error("value is not in list");
  return Value::integer(idx);
}

Value bind_method(const Value& obj, std::string_view name) {
  auto c = std::make_shared<Callable>();
  c->name = type_name(obj) + "." + std::string(name);
  std::string n(name);
  Value self = obj;
  c->fn = [self, n](CallArgs& a) -> Result<Value> {
    if (self.is_string()) return call_str_method(self, n, a);
    if (self.is_dict()) return call_dict_method(self, n, a);
    return call_list_method(self, n, a);
  };
  return Value::make_callable(std::move(c));
}

}  // namespace gavel::chat
