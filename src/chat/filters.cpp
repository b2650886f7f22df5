// jinja2's built-in filters and tests (3.1 semantics), with HF's tojson override.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "chat/builtins.h"
#include "chat/strings.h"

namespace gavel::chat {

namespace {

bool is_intlike(const Value& v) { return v.kind == Kind::kInt || v.kind == Kind::kBool; }

Result<std::string> soft_str(const Value& v) { return to_str(v); }

// Attribute lookup used by map/sort/selectattr: dotted path, integer parts index lists.
Result<Value> attr_path(const Value& item, const std::string& path) {
  Value cur = item;
  size_t b = 0;
  while (b <= path.size()) {
    size_t e = path.find('.', b);
    if (e == std::string::npos) e = path.size();
    std::string part = path.substr(b, e - b);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    if (numeric) {
      GAVEL_ASSIGN(cur, get_item(cur, Value::integer(std::atoll(part.c_str()))));
    } else {
      // environment.getitem: item first, then attribute.
      GAVEL_ASSIGN(cur, get_item(cur, Value::string(part)));
    }
    b = e + 1;
  }
  return cur;
}

// Sort key normalisation: case-insensitive compares lowercase strings.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(py_lower(v.s));
  return v;
}

Status sort_values(std::vector<std::pair<Value, Value>>& keyed, bool reverse) {
  Status st;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    bool less = false;
    Status s = reverse ? less_than(y.first, x.first, &less) : less_than(x.first, y.first, &less);
    if (!s.ok() && st.ok()) st = s;
    return less;
  });
  return st;
}

Result<std::string> tojson(const Value& v, const CallArgs& a) {
  ArgReader r(a, "tojson");
  GAVEL_TRY(r.check(4, {"ensure_ascii", "indent", "separators", "sort_keys"}));
  JsonDumpOptions opt;
  GAVEL_ASSIGN(opt.ensure_ascii, r.get_bool(0, "ensure_ascii", false));
  if (const Value* ind = r.get(1, "indent"); ind && !ind->is_none()) {
    if (is_intlike(*ind)) {
      int64_t n = ind->kind == Kind::kBool ? ind->b : ind->i;
      if (n > 1000) return r.error("indent too large");
      opt.indent = std::string(n > 0 ? static_cast<size_t>(n) : 0, ' ');
    } else if (ind->is_string()) {
      opt.indent = ind->s;
    } else {
      return r.error("indent must be an int or a string");
    }
  }
  if (const Value* sep = r.get(2, "separators"); sep && !sep->is_none()) {
    if (!sep->is_list() || sep->list->size() != 2 || !(*sep->list)[0].is_string() ||
        !(*sep->list)[1].is_string()) {
      return r.error("separators must be a pair of strings");
    }
    opt.separators = std::make_pair((*sep->list)[0].s, (*sep->list)[1].s);
  }
  GAVEL_ASSIGN(opt.sort_keys, r.get_bool(3, "sort_keys", false));
  return json_dumps(v, opt);
}

Result<Value> do_indent(const Value& v, const CallArgs& a) {
  ArgReader r(a, "indent");
  GAVEL_TRY(r.check(3, {"width", "first", "blank"}));
  std::string ind = "    ";
  if (const Value* w = r.get(0, "width")) {
    if (w->is_string()) {
      ind = w->s;
    } else if (is_intlike(*w)) {
      int64_t n = w->kind == Kind::kBool ? w->b : w->i;
      if (n > 10000) return r.error("width too large");
      ind = std::string(n > 0 ? static_cast<size_t>(n) : 0, ' ');
    } else {
      return r.error("width must be an int or a string");
    }
  }
  GAVEL_ASSIGN(bool first, r.get_bool(1, "first", false));
  GAVEL_ASSIGN(bool blank, r.get_bool(2, "blank", false));
  GAVEL_ASSIGN(std::string s, soft_str(v));
  s += "\n";  // jinja2 appends a newline so splitlines keeps a trailing empty line
  auto lines = py_splitlines(s, false);
  std::string rv;
  if (blank) {
    for (size_t k = 0; k < lines.size(); ++k) {
      if (k) rv += "\n" + ind;
      rv += lines[k];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t k = 1; k < lines.size(); ++k) {
      rv += "\n";
      if (!lines[k].empty()) rv += ind;
      rv += lines[k];
    }
  }
  if (first) rv = ind + rv;
  return Value::string(std::move(rv), v.is_markup());
}

Result<Value> do_int(const Value& v, const CallArgs& a) {
  ArgReader r(a, "int");
  GAVEL_TRY(r.check(2, {"default", "base"}));
  Value def = r.get_or(0, "default", Value::integer(0));
  GAVEL_ASSIGN(int64_t base, r.get_int(1, "base", 10));
  if (is_intlike(v)) return Value::integer(v.kind == Kind::kBool ? v.b : v.i);
  if (v.kind == Kind::kFloat) {
    if (!std::isfinite(v.f) || std::fabs(v.f) > 9.2e18) return def;
    return Value::integer(static_cast<int64_t>(v.f));
  }
  if (v.is_string()) {
    std::string t = py_strip(v.s, nullptr, true, true);
    std::string digits;
    for (char c : t) {
      if (c != '_') digits.push_back(c);
    }
    int b = static_cast<int>(base);
    if (b == 16 && digits.size() > 2 && (digits.compare(0, 2, "0x") == 0 || digits.compare(0, 2, "0X") == 0)) {
      digits = digits.substr(2);
    }
    if (!digits.empty() && b >= 2 && b <= 36) {
      errno = 0;
      char* end = nullptr;
      long long n = std::strtoll(digits.c_str(), &end, b);
      if (!errno && end && *end == 0 && t.find(' ') == std::string::npos) return Value::integer(n);
    }
    // int(float(value)) fallback
    char* end = nullptr;
    double d = std::strtod(t.c_str(), &end);
    if (!t.empty() && end && *end == 0 && std::isfinite(d) && std::fabs(d) < 9.2e18 &&
        t.find_first_of("xXpP") == std::string::npos) {
      return Value::integer(static_cast<int64_t>(d));
    }
    return def;
  }
  return def;
}

Result<Value> do_float(const Value& v, const CallArgs& a) {
  ArgReader r(a, "float");
  GAVEL_TRY(r.check(1, {"default"}));
  Value def = r.get_or(0, "default", Value::floating(0.0));
  if (v.is_number()) {
    return Value::floating(v.kind == Kind::kFloat ? v.f
                                                  : static_cast<double>(v.kind == Kind::kBool ? v.b : v.i));
  }
  if (v.is_string()) {
    std::string t = py_strip(v.s, nullptr, true, true);
    char* end = nullptr;
    double d = std::strtod(t.c_str(), &end);
    if (!t.empty() && end && *end == 0 && t.find_first_of("xXpP") == std::string::npos) {
      return Value::floating(d);
    }
  }
  return def;
}

Result<Value> do_round(const Value& v, const CallArgs& a) {
  ArgReader r(a, "round");
  GAVEL_TRY(r.check(2, {"precision", "method"}));
  GAVEL_ASSIGN(int64_t prec, r.get_int(0, "precision", 0));
  GAVEL_ASSIGN(std::string method, r.get_str(1, "method", "common"));
  if (!v.is_number()) return r.error("must be a number, not " + type_name(v));
  if (method != "common" && method != "ceil" && method != "floor") {
    return r.error("method must be common, ceil or floor");
  }
  if (prec < -300 || prec > 300) return r.error("precision out of range");
  if (is_intlike(v) && method == "common") return Value::integer(v.kind == Kind::kBool ? v.b : v.i);
  double x = v.kind == Kind::kFloat ? v.f : static_cast<double>(v.kind == Kind::kBool ? v.b : v.i);
  double m = std::pow(10.0, static_cast<double>(prec));
  if (method == "ceil") return Value::floating(std::ceil(x * m) / m);
  if (method == "floor") return Value::floating(std::floor(x * m) / m);
  // Python round(): correctly rounded half-even via the shortest repr of the scaled value.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(prec < 0 ? 0 : prec), x);
  if (prec >= 0) return Value::floating(std::strtod(buf, nullptr));
  double y = std::nearbyint(x * m) / m;
  return Value::floating(y);
}

Result<bool> apply_test_by_name(const Value& item, const Value& test, const List& extra) {
  if (!test.is_string()) return Error{"test name must be a string"};
  CallArgs ta;
  ta.args = extra;
  return call_test(test.s, item, ta);
}

// select / reject / selectattr / rejectattr
Result<Value> select_like(const Value& v, const CallArgs& a, bool want, bool by_attr) {
  if (!truthy(v)) return Value::make_generator({});  // jinja2 checks `if seq:` first
  GAVEL_ASSIGN(List items, iterate(v));
  size_t off = 0;
  std::string attr;
  if (by_attr) {
    if (a.args.empty() || !a.args[0].is_string()) return Error{"selectattr: missing attribute"};
    attr = a.args[0].s;
    off = 1;
  }
  List out;
  for (const Value& item : items) {
    Value subject = item;
    if (by_attr) {
      GAVEL_ASSIGN(subject, attr_path(item, attr));
    }
    bool ok;
    if (a.args.size() > off) {
      List extra(a.args.begin() + static_cast<long>(off) + 1, a.args.end());
      GAVEL_ASSIGN(ok, apply_test_by_name(subject, a.args[off], extra));
    } else {
      ok = truthy(subject);
    }
    if (ok == want) out.push_back(item);
  }
  return Value::make_generator(std::move(out));
}

Result<Value> do_map(const Value& v, CallArgs& a) {
  if (!truthy(v)) return Value::make_generator({});  // jinja2 checks `if value:` first
  GAVEL_ASSIGN(List items, iterate(v));
  List out;
  if (const Value* attr = a.kwarg("attribute")) {
    if (!a.args.empty()) return Error{"map: unexpected positional arguments with attribute="};
    const Value* def = a.kwarg("default");
    for (const Value& item : items) {
      GAVEL_ASSIGN(Value x, attr_path(item, attr->is_string() ? attr->s : ""));
      if (x.is_undefined() && def) x = *def;
      out.push_back(x);
    }
    return Value::make_generator(std::move(out));
  }
  if (a.args.empty() || !a.args[0].is_string()) return Error{"map: missing filter name"};
  std::string fname = a.args[0].s;
  CallArgs fa;
  fa.args.assign(a.args.begin() + 1, a.args.end());
  fa.kwargs = a.kwargs;
  for (const Value& item : items) {
    CallArgs copy = fa;
    GAVEL_ASSIGN(Value x, call_filter(fname, item, copy));
    out.push_back(x);
  }
  return Value::make_generator(std::move(out));
}

Result<Value> do_join(const Value& v, const CallArgs& a) {
  ArgReader r(a, "join");
  GAVEL_TRY(r.check(2, {"d", "attribute"}));
  GAVEL_ASSIGN(std::string sep, r.get_str(0, "d", ""));
  GAVEL_ASSIGN(List items, iterate(v));
  const Value* attr = r.get(1, "attribute");
  std::string out;
  for (size_t k = 0; k < items.size(); ++k) {
    Value x = items[k];
    if (attr && attr->is_string()) {
      GAVEL_ASSIGN(x, attr_path(x, attr->s));
    }
    if (k) out += sep;
    GAVEL_ASSIGN(std::string s, to_str(x));
    out += s;
  }
  return Value::string(std::move(out));
}

Result<Value> do_sort(const Value& v, const CallArgs& a) {
  ArgReader r(a, "sort");
  GAVEL_TRY(r.check(3, {"reverse", "case_sensitive", "attribute"}));
  GAVEL_ASSIGN(bool reverse, r.get_bool(0, "reverse", false));
  GAVEL_ASSIGN(bool cs, r.get_bool(1, "case_sensitive", false));
  const Value* attr = r.get(2, "attribute");
  GAVEL_ASSIGN(List items, iterate(v));
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& x : items) {
    Value k = x;
    if (attr && attr->is_string()) {
      GAVEL_ASSIGN(k, attr_path(x, attr->s));
    }
    keyed.emplace_back(sort_key(k, cs), x);
  }
  GAVEL_TRY(sort_values(keyed, reverse));
  List out;
  for (auto& kv : keyed) out.push_back(kv.second);
  return Value::make_list(std::move(out));
}

Result<Value> do_dictsort(const Value& v, const CallArgs& a) {
  ArgReader r(a, "dictsort");
  GAVEL_TRY(r.check(3, {"case_sensitive", "by", "reverse"}));
  GAVEL_ASSIGN(bool cs, r.get_bool(0, "case_sensitive", false));
  GAVEL_ASSIGN(std::string by, r.get_str(1, "by", "key"));
  GAVEL_ASSIGN(bool reverse, r.get_bool(2, "reverse", false));
  if (!v.is_dict()) return r.error("can only sort a mapping, not " + type_name(v));
  if (by != "key" && by != "value") return r.error("You can only sort by either 'key' or 'value'");
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& [k, x] : v.dict->items) {
    keyed.emplace_back(sort_key(by == "key" ? k : x, cs), Value::make_list({k, x}, true));
  }
  GAVEL_TRY(sort_values(keyed, reverse));
  List out;
  for (auto& kv : keyed) out.push_back(kv.second);
  return Value::make_list(std::move(out));
}

Result<Value> do_unique(const Value& v, const CallArgs& a) {
  ArgReader r(a, "unique");
  GAVEL_TRY(r.check(2, {"case_sensitive", "attribute"}));
  GAVEL_ASSIGN(bool cs, r.get_bool(0, "case_sensitive", false));
  const Value* attr = r.get(1, "attribute");
  GAVEL_ASSIGN(List items, iterate(v));
  List out, seen;
  for (const Value& x : items) {
    Value k = x;
    if (attr && attr->is_string()) {
      GAVEL_ASSIGN(k, attr_path(x, attr->s));
    }
    k = sort_key(k, cs);
    bool dup = false;
    for (const Value& s : seen) {
      if (equals(s, k)) {
        dup = true;
        break;
      }
    }
    if (!dup) {
      seen.push_back(k);
      out.push_back(x);
    }
  }
  return Value::make_generator(std::move(out));
}

Result<Value> min_max(const Value& v, const CallArgs& a, bool want_max) {
  ArgReader r(a, want_max ? "max" : "min");
  GAVEL_TRY(r.check(2, {"case_sensitive", "attribute"}));
  GAVEL_ASSIGN(bool cs, r.get_bool(0, "case_sensitive", false));
  const Value* attr = r.get(1, "attribute");
  GAVEL_ASSIGN(List items, iterate(v));
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key;
  for (size_t k = 0; k < items.size(); ++k) {
    Value key = items[k];
    if (attr && attr->is_string()) {
      GAVEL_ASSIGN(key, attr_path(items[k], attr->s));
    }
    key = sort_key(key, cs);
    if (k == 0) {
      best_key = key;
      continue;
    }
    bool less = false;
    GAVEL_TRY(want_max ? less_than(best_key, key, &less) : less_than(key, best_key, &less));
    if (less) {
      best = k;
      best_key = key;
    }
  }
  return items[best];
}

Result<Value> do_truncate(const Value& v, const CallArgs& a) {
  ArgReader r(a, "truncate");
  GAVEL_TRY(r.check(4, {"length", "killwords", "end", "leeway"}));
  GAVEL_ASSIGN(int64_t length, r.get_int(0, "length", 255));
  GAVEL_ASSIGN(bool killwords, r.get_bool(1, "killwords", false));
  GAVEL_ASSIGN(std::string end, r.get_str(2, "end", "..."));
  GAVEL_ASSIGN(int64_t leeway, r.get_int(3, "leeway", 5));
  GAVEL_ASSIGN(std::string s, soft_str(v));
  auto cps = utf8_decode(s);
  int64_t end_len = static_cast<int64_t>(utf8_length(end));
  if (length < end_len) return r.error("expected length >= " + std::to_string(end_len));
  if (leeway < 0) return r.error("expected leeway >= 0");
  if (static_cast<int64_t>(cps.size()) <= length + leeway) return Value::string(s);
  std::vector<char32_t> head(cps.begin(), cps.begin() + (length - end_len));
  if (killwords) return Value::string(utf8_encode(head) + end);
  std::string h = utf8_encode(head);
  size_t sp = h.rfind(' ');
  if (sp != std::string::npos) h = h.substr(0, sp);
  return Value::string(h + end);
}

Result<Value> do_batch(const Value& v, const CallArgs& a) {
  ArgReader r(a, "batch");
  GAVEL_TRY(r.check(2, {"linecount", "fill_with"}));
  GAVEL_ASSIGN(int64_t n, r.get_int(0, "linecount", 0));
  if (n <= 0) return r.error("linecount must be positive");
  const Value* fill = r.get(1, "fill_with");
  GAVEL_ASSIGN(List items, iterate(v));
  List out, cur;
  for (const Value& x : items) {
    if (static_cast<int64_t>(cur.size()) == n) {
      out.push_back(Value::make_list(std::move(cur)));
      cur.clear();
    }
    cur.push_back(x);
  }
  if (!cur.empty()) {
    if (fill && !fill->is_none()) {
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*fill);
    }
    out.push_back(Value::make_list(std::move(cur)));
  }
  return Value::make_generator(std::move(out));
}

Result<Value> do_sum(const Value& v, const CallArgs& a) {
  ArgReader r(a, "sum");
  GAVEL_TRY(r.check(2, {"attribute", "start"}));
  const Value* attr = r.get(0, "attribute");
  Value total = r.get_or(1, "start", Value::integer(0));
  GAVEL_ASSIGN(List items, iterate(v));
  for (const Value& x : items) {
    Value y = x;
    if (attr && attr->is_string()) {
      GAVEL_ASSIGN(y, attr_path(x, attr->s));
    }
    GAVEL_ASSIGN(total, binary_op("+", total, y));
  }
  return total;
}

int64_t word_count(const std::string& s) {
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : utf8_decode(s)) {
    bool w = c == '_' || (c < 0x80 ? std::isalnum(static_cast<int>(c)) != 0 : !py_isspace(c));
    if (w && !in_word) ++n;
    in_word = w;
  }
  return n;
}

}  // namespace

Result<Value> call_filter(std::string_view name, const Value& v, CallArgs& a) {
  ArgReader r(a, name);
  if (name == "tojson") {
    GAVEL_ASSIGN(std::string s, tojson(v, a));
    return Value::string(std::move(s));
  }
  if (name == "trim") {
    GAVEL_TRY(r.check(1, {"chars"}));
    GAVEL_ASSIGN(std::string s, soft_str(v));
    const Value* chars = r.get(0, "chars");
    if (chars && !chars->is_string() && !chars->is_none()) return r.error("chars must be a str");
    return Value::string(py_strip(s, chars, true, true), v.is_markup());
  }
  if (name == "length" || name == "count") {
    GAVEL_TRY(r.check(0, {}));
    if (v.gen) return r.error("object of type 'generator' has no len()");
    switch (v.kind) {
      case Kind::kUndefined:
        return Value::integer(0);
      case Kind::kString:
        return Value::integer(static_cast<int64_t>(utf8_length(v.s)));
      case Kind::kList:
        return Value::integer(static_cast<int64_t>(v.list->size()));
      case Kind::kDict:
        return Value::integer(static_cast<int64_t>(v.dict->items.size()));
      default:
        return r.error("object of type '" + type_name(v) + "' has no len()");
    }
  }
  if (name == "upper" || name == "lower" || name == "capitalize" || name == "title") {
    GAVEL_TRY(r.check(0, {}));
    GAVEL_ASSIGN(std::string s, soft_str(v));
    if (name == "upper") return Value::string(py_upper(s), v.is_markup());
    if (name == "lower") return Value::string(py_lower(s), v.is_markup());
    if (name == "capitalize") return Value::string(py_capitalize(s), v.is_markup());
    // jinja2's title: capitalise after runs of '-', whitespace and opening brackets.
    std::string out;
    bool start = true;
    for (char32_t c : utf8_decode(s)) {
      bool boundary = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c);
      std::string one;
      append_utf8(one, c);
      if (boundary) {
        out += one;
        start = true;
      } else {
        out += start ? py_upper(one) : py_lower(one);
        start = false;
      }
    }
    return Value::string(std::move(out), v.is_markup());
  }
  if (name == "replace") {
    GAVEL_TRY(r.check(3, {"old", "new", "count"}));
    GAVEL_ASSIGN(std::string s, soft_str(v));
    const Value* old_v = r.get(0, "old");
    const Value* new_v = r.get(1, "new");
    if (!old_v || !new_v) return r.error("missing old/new arguments");
    GAVEL_ASSIGN(std::string o, to_str(*old_v));
    GAVEL_ASSIGN(std::string n, to_str(*new_v));
    const Value* cnt = r.get(2, "count");
    int64_t count = -1;
    if (cnt && !cnt->is_none()) {
      GAVEL_ASSIGN(count, r.get_int(2, "count", -1));
    }
    return Value::string(py_replace(s, o, n, count));
  }
  if (name == "join") return do_join(v, a);
  if (name == "map") return do_map(v, a);
  if (name == "select") return select_like(v, a, true, false);
  if (name == "reject") return select_like(v, a, false, false);
  if (name == "selectattr") return select_like(v, a, true, true);
  if (name == "rejectattr") return select_like(v, a, false, true);
  if (name == "items") {
    GAVEL_TRY(r.check(0, {}));
    if (v.is_undefined()) return Value::make_list({});
    if (!v.is_dict()) return r.error("Can only get item pairs from a mapping.");
    List out;
    for (const auto& [k, x] : v.dict->items) out.push_back(Value::make_list({k, x}, true));
    return Value::make_generator(std::move(out));
  }
  if (name == "list") {
    GAVEL_TRY(r.check(0, {}));
    GAVEL_ASSIGN(List items, iterate(v));
    return Value::make_list(std::move(items));
  }
  if (name == "default" || name == "d") {
    GAVEL_TRY(r.check(2, {"default_value", "boolean"}));
    Value def = r.get_or(0, "default_value", Value::string(""));
    GAVEL_ASSIGN(bool boolean, r.get_bool(1, "boolean", false));
    if (v.is_undefined() || (boolean && !truthy(v))) return def;
    return v;
  }
  if (name == "first" || name == "last") {
    GAVEL_TRY(r.check(0, {}));
    if (name == "last" && v.gen) return r.error("'generator' object is not reversible");
    GAVEL_ASSIGN(List items, iterate(v));
    if (items.empty()) return Value::undefined("No " + std::string(name) + " item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "string") {
    GAVEL_TRY(r.check(0, {}));
    return to_string_value(v);
  }
  if (name == "safe") {
    GAVEL_TRY(r.check(0, {}));
    GAVEL_ASSIGN(std::string s, to_str(v));
    return Value::string(std::move(s), true);
  }
  if (name == "escape" || name == "e" || name == "forceescape") {
    GAVEL_TRY(r.check(0, {}));
    if (v.is_markup() && name != "forceescape") return v;
    GAVEL_ASSIGN(std::string s, to_str(v));
    return Value::string(html_escape(s), true);
  }
  if (name == "int") return do_int(v, a);
  if (name == "float") return do_float(v, a);
  if (name == "round") return do_round(v, a);
  if (name == "abs") {
    GAVEL_TRY(r.check(0, {}));
    if (v.kind == Kind::kFloat) return Value::floating(std::fabs(v.f));
    if (is_intlike(v)) {
      int64_t x = v.kind == Kind::kBool ? v.b : v.i;
      if (x == INT64_MIN) return r.error("integer overflow");
      return Value::integer(x < 0 ? -x : x);
    }
    return r.error("bad operand type for abs(): '" + type_name(v) + "'");
  }
  if (name == "indent") return do_indent(v, a);
  if (name == "unique") return do_unique(v, a);
  if (name == "dictsort") return do_dictsort(v, a);
  if (name == "sort") return do_sort(v, a);
  if (name == "min") return min_max(v, a, false);
  if (name == "max") return min_max(v, a, true);
  if (name == "sum") return do_sum(v, a);
  if (name == "batch") return do_batch(v, a);
  if (name == "truncate") return do_truncate(v, a);
  if (name == "reverse") {
    GAVEL_TRY(r.check(0, {}));
    if (v.is_string()) {
      auto cps = utf8_decode(v.s);
      std::reverse(cps.begin(), cps.end());
      return Value::string(utf8_encode(cps));
    }
    GAVEL_ASSIGN(List items, iterate(v));
    std::reverse(items.begin(), items.end());
    return Value::make_generator(std::move(items));  // reversed() is an iterator
  }
  if (name == "wordcount") {
    GAVEL_TRY(r.check(0, {}));
    GAVEL_ASSIGN(std::string s, soft_str(v));
    return Value::integer(word_count(s));
  }
  if (name == "center") {
    GAVEL_TRY(r.check(1, {"width"}));
    GAVEL_ASSIGN(int64_t width, r.get_int(0, "width", 80));
    GAVEL_ASSIGN(std::string s, soft_str(v));
    CallArgs ca;
    ca.args.push_back(Value::integer(width));
    Value sv = Value::string(s);
    GAVEL_ASSIGN(Value method, get_attr(sv, "center"));
    return method.fn->fn(ca);
  }
  if (name == "format") {
    if (!a.kwargs.empty() && !a.args.empty()) {
      return r.error("can't handle positional and keyword arguments at the same time");
    }
    if (!a.kwargs.empty()) return r.error("keyword arguments are not supported by gavel");
    GAVEL_ASSIGN(std::string s, soft_str(v));
    return percent_format(Value::string(s, v.is_markup()), Value::make_list(a.args, true));
  }
  if (name == "attr") {
    GAVEL_TRY(r.check(1, {}));
    if (a.args.empty() || !a.args[0].is_string()) return r.error("expects an attribute name");
    return get_attr(v, a.args[0].s);
  }
  return Error{"filter '" + std::string(name) + "' is not supported by gavel"};
}

Result<bool> call_test(std::string_view name, const Value& v, CallArgs& a) {
  auto arg = [&]() -> Result<Value> {
    if (a.args.size() != 1 || !a.kwargs.empty()) {
      return Error{"test '" + std::string(name) + "' takes exactly one argument"};
    }
    return a.args[0];
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.kind == Kind::kBool;
  if (name == "true") return v.kind == Kind::kBool && v.b;
  if (name == "false") return v.kind == Kind::kBool && !v.b;
  if (name == "integer") return v.kind == Kind::kInt;
  if (name == "float") return v.kind == Kind::kFloat;
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "sequence") {
    return v.is_string() || (v.is_list() && !v.gen) || v.is_dict() || v.is_undefined();
  }
  if (name == "iterable") {
    return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
  }
  if (name == "callable") return v.kind == Kind::kCallable || v.is_undefined();
  if (name == "escaped") return v.is_markup();
  if (name == "lower" || name == "upper") {
    if (!v.is_string()) return false;
    CallArgs none;
    GAVEL_ASSIGN(Value m, get_attr(v, name == "lower" ? "islower" : "isupper"));
    GAVEL_ASSIGN(Value res, m.fn->fn(none));
    return res.b;
  }
  if (name == "odd" || name == "even") {
    if (!is_intlike(v)) return Error{"test '" + std::string(name) + "' needs an integer"};
    int64_t x = v.kind == Kind::kBool ? v.b : v.i;
    bool odd = (x % 2) != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "divisibleby") {
    GAVEL_ASSIGN(Value n, arg());
    GAVEL_ASSIGN(Value m, binary_op("%", v, n));
    return equals(m, Value::integer(0));
  }
  if (name == "sameas") {
    GAVEL_ASSIGN(Value o, arg());
    if (v.kind != o.kind) return false;
    switch (v.kind) {
      case Kind::kNone:
      case Kind::kUndefined:
        return v.kind == Kind::kNone;
      case Kind::kBool:
        return v.b == o.b;
      case Kind::kInt:  // CPython caches small ints; larger equal ints are distinct objects
        if (v.i == o.i && v.i >= -5 && v.i <= 256) return true;
        if (v.i != o.i) return false;
        return Error{"test 'sameas' on large int values is not supported by gavel"};
      case Kind::kList:
        return v.list == o.list;
      case Kind::kDict:
        return v.dict == o.dict;
      case Kind::kObject:
        return v.obj == o.obj;
      case Kind::kCallable:
        return v.fn == o.fn;
      default:
        return Error{"test 'sameas' on " + type_name(v) + " values is not supported by gavel"};
    }
  }
  if (name == "in") {
    GAVEL_ASSIGN(Value seq, arg());
    return contains(seq, v);
  }
  if (name == "==" || name == "eq" || name == "equalto") {
    GAVEL_ASSIGN(Value o, arg());
    return equals(v, o);
  }
  if (name == "!=" || name == "ne") {
    GAVEL_ASSIGN(Value o, arg());
    return !equals(v, o);
  }
  if (name == "<" || name == "lt" || name == "lessthan" || name == ">" || name == "gt" ||
      name == "greaterthan" || name == "<=" || name == "le" || name == ">=" || name == "ge") {
    GAVEL_ASSIGN(Value o, arg());
    bool less = false;
    bool lt = name == "<" || name == "lt" || name == "lessthan";
    bool gt = name == ">" || name == "gt" || name == "greaterthan";
    bool le = name == "<=" || name == "le";
    if (lt) {
      GAVEL_TRY(less_than(v, o, &less));
      return less;
    }
    if (gt) {
      GAVEL_TRY(less_than(o, v, &less));
      return less;
    }
    if (le) {
      GAVEL_TRY(less_than(o, v, &less));
      return !less;
    }
    GAVEL_TRY(less_than(v, o, &less));
    return !less;
  }
  return Error{"test '" + std::string(name) + "' is not supported by gavel"};
}

}  // namespace gavel::chat
