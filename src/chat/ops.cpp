// Operators, iteration, attribute/item access and slicing with Python/jinja2 semantics.
#include <cmath>
#include <limits>

#include "chat/builtins.h"
#include "chat/strings.h"

namespace gavel::chat {

Error undefined_error(const Value& v) {
  return Error{v.s.empty() ? "undefined value used" : v.s};
}

static bool is_intlike(const Value& v) { return v.kind == Kind::kInt || v.kind == Kind::kBool; }
static int64_t as_int(const Value& v) { return v.kind == Kind::kBool ? (v.b ? 1 : 0) : v.i; }
static double as_float(const Value& v) {
  return v.kind == Kind::kFloat ? v.f : static_cast<double>(as_int(v));
}

static Error unsupported(std::string_view op, const Value& a, const Value& b) {
  return Error{"unsupported operand type(s) for " + std::string(op) + ": '" + type_name(a) +
               "' and '" + type_name(b) + "'"};
}

// Python float floor division and modulo (Objects/floatobject.c semantics).
static void float_divmod(double vx, double wx, double* floordiv, double* mod) {
  double m = std::fmod(vx, wx);
  double div = (vx - m) / wx;
  if (m != 0.0) {
    if ((wx < 0) != (m < 0)) {
      m += wx;
      div -= 1.0;
    }
  } else {
    m = std::copysign(0.0, wx);
  }
  double fd;
  if (div != 0.0) {
    fd = std::floor(div);
    if (div - fd > 0.5) fd += 1.0;
  } else {
    fd = std::copysign(0.0, vx / wx);
  }
  *floordiv = fd;
  *mod = m;
}

static Result<Value> repeat(const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  if (seq.kind == Kind::kString) {
    if (n > 0 && seq.s.size() * static_cast<uint64_t>(n) > (64u << 20)) {
      return Error{"string repetition too large"};
    }
    std::string out;
    for (int64_t k = 0; k < n; ++k) out += seq.s;
    return Value::string(std::move(out), seq.flag);
  }
  if (n > 0 && seq.list->size() * static_cast<uint64_t>(n) > (1u << 22)) {
    return Error{"list repetition too large"};
  }
  List out;
  for (int64_t k = 0; k < n; ++k) out.insert(out.end(), seq.list->begin(), seq.list->end());
  return Value::make_list(std::move(out), seq.flag);
}

Result<Value> binary_op(std::string_view op, const Value& a, const Value& b) {
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (a.gen || b.gen) return unsupported(op, a, b);
  bool nums = a.is_number() && b.is_number();
  bool ints = is_intlike(a) && is_intlike(b);
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(as_int(a), as_int(b), &r)) return Error{"integer overflow"};
      return Value::integer(r);
    }
    if (nums) return Value::floating(as_float(a) + as_float(b));
    if (a.is_string() && b.is_string()) {
      if (a.flag || b.flag) {  // markupsafe escapes the plain operand
        return Value::string((a.flag ? a.s : html_escape(a.s)) + (b.flag ? b.s : html_escape(b.s)),
                             true);
      }
      return Value::string(a.s + b.s);
    }
    if (a.is_list() && b.is_list() && a.flag == b.flag) {
      List out(*a.list);
      out.insert(out.end(), b.list->begin(), b.list->end());
      return Value::make_list(std::move(out), a.flag);
    }
    if (a.is_list() && b.is_list()) {
      return Error{"can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " +
                   type_name(a)};
    }
    if (a.is_string()) {
      return Error{"can only concatenate str (not \"" + type_name(b) + "\") to str"};
    }
    return unsupported("+", a, b);
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(as_int(a), as_int(b), &r)) return Error{"integer overflow"};
      return Value::integer(r);
    }
    if (nums) return Value::floating(as_float(a) - as_float(b));
    return unsupported("-", a, b);
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (__builtin_mul_overflow(as_int(a), as_int(b), &r)) return Error{"integer overflow"};
      return Value::integer(r);
    }
    if (nums) return Value::floating(as_float(a) * as_float(b));
    if ((a.is_string() || a.is_list()) && is_intlike(b)) return repeat(a, as_int(b));
    if ((b.is_string() || b.is_list()) && is_intlike(a)) return repeat(b, as_int(a));
    return unsupported("*", a, b);
  }
  if (op == "/") {
    if (!nums) return unsupported("/", a, b);
    if (as_float(b) == 0.0) return Error{"division by zero"};
    if (ints) {
      return Value::floating(static_cast<double>(as_int(a)) / static_cast<double>(as_int(b)));
    }
    return Value::floating(as_float(a) / as_float(b));
  }
  if (op == "//" || op == "%") {
    if (a.is_string() && op == "%") return percent_format(a, b);
    if (!nums) return unsupported(op, a, b);
    if (ints) {
      int64_t x = as_int(a), y = as_int(b);
      if (y == 0) return Error{"integer division or modulo by zero"};
      if (x == std::numeric_limits<int64_t>::min() && y == -1) return Error{"integer overflow"};
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        q -= 1;
        r += y;
      }
      return Value::integer(op == "//" ? q : r);
    }
    if (as_float(b) == 0.0) return Error{"float division or modulo by zero"};
    double fd, m;
    float_divmod(as_float(a), as_float(b), &fd, &m);
    return Value::floating(op == "//" ? fd : m);
  }
  if (op == "**") {
    if (ints && as_int(b) >= 0) {
      int64_t base = as_int(a), e = as_int(b), r = 1;
      while (e > 0) {
        if (e & 1) {
          if (__builtin_mul_overflow(r, base, &r)) return Error{"integer overflow"};
        }
        e >>= 1;
        if (e > 0 && __builtin_mul_overflow(base, base, &base)) return Error{"integer overflow"};
      }
      return Value::integer(r);
    }
    if (nums) {
      if (as_float(a) == 0.0 && as_float(b) < 0) {
        return Error{"0.0 cannot be raised to a negative power"};
      }
      return Value::floating(std::pow(as_float(a), as_float(b)));
    }
    return unsupported("** or pow()", a, b);
  }
  return Error{"unknown operator " + std::string(op)};
}

Result<Value> negate(const Value& v, bool minus) {
  if (v.is_undefined()) return undefined_error(v);
  if (is_intlike(v)) {
    if (!minus) return Value::integer(as_int(v));
    if (as_int(v) == std::numeric_limits<int64_t>::min()) return Error{"integer overflow"};
    return Value::integer(-as_int(v));
  }
  if (v.kind == Kind::kFloat) return Value::floating(minus ? -v.f : v.f);
  return Error{std::string("bad operand type for unary ") + (minus ? "-" : "+") + ": '" +
               type_name(v) + "'"};
}

Result<bool> contains(const Value& c, const Value& item) {
  switch (c.kind) {
    case Kind::kUndefined:
      return false;
    case Kind::kString:
      if (!item.is_string()) {
        return Error{"'in <string>' requires string as left operand, not " + type_name(item)};
      }
      return c.s.find(item.s) != std::string::npos;
    case Kind::kList:
      if (c.gen) {
        if (*c.gen) return false;
        *c.gen = true;
      }
      for (const Value& x : *c.list) {
        if (equals(x, item)) return true;
      }
      return false;
    case Kind::kDict:
      return c.dict->find(item) != nullptr;
    default:
      return Error{"argument of type '" + type_name(c) + "' is not iterable"};
  }
}

Result<List> iterate(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
      return List{};
    case Kind::kList:
      if (v.gen) {
        if (*v.gen) return List{};  // a generator iterates once
        *v.gen = true;
      }
      return *v.list;
    case Kind::kDict: {
      List keys;
      keys.reserve(v.dict->items.size());
      for (const auto& kv : v.dict->items) keys.push_back(kv.first);
      return keys;
    }
    case Kind::kString: {
      List chars;
      for (char32_t c : utf8_decode(v.s)) {
        std::string one;
        append_utf8(one, c);
        chars.push_back(Value::string(std::move(one)));
      }
      return chars;
    }
    default:
      return Error{"'" + type_name(v) + "' object is not iterable"};
  }
}

// ---------------------------------------------------------------- attribute access

static Value unsafe(const Value& obj, std::string_view name) {
  return Value::undefined("access to attribute '" + std::string(name) + "' of '" +
                          type_name(obj) + "' object is unsafe.");
}

static Value no_attr(const Value& obj, std::string_view name) {
  return Value::undefined("'" + type_name(obj) + " object' has no attribute '" +
                          std::string(name) + "'");
}

static bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (n == name) return true;
  }
  return false;
}

// Python attributes (methods) of dict/list/str; nullopt when the type has no such attribute.
static std::optional<Value> python_attr(const Value& obj, std::string_view name) {
  if (obj.gen) return std::nullopt;
  if (obj.is_dict()) {
    if (is_one_of(name, {"clear", "pop", "popitem", "setdefault", "update"})) {
      return unsafe(obj, name);
    }
    if (is_one_of(name, {"items", "keys", "values", "get", "copy", "fromkeys"})) {
      return bind_method(obj, name);
    }
    return std::nullopt;
  }
  if (obj.is_list()) {
    if (!obj.flag &&
        is_one_of(name, {"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"})) {
      return unsafe(obj, name);
    }
    if (is_one_of(name, {"index", "count"}) || (!obj.flag && name == "copy")) {
      return bind_method(obj, name);
    }
    return std::nullopt;
  }
  if (obj.is_string()) {
    if (is_string_method(name)) return bind_method(obj, name);
    return std::nullopt;
  }
  return std::nullopt;
}

Result<Value> get_attr(const Value& obj, std::string_view name) {
  if (obj.is_undefined()) return undefined_error(obj);
  if (!name.empty() && name[0] == '_') {
    // Sandbox: existing underscore attributes are unsafe; missing ones fall back to items.
    if (obj.is_dict()) {
      if (const Value* v = obj.dict->find(name)) return *v;
    }
    return no_attr(obj, name);
  }
  if (auto attr = python_attr(obj, name)) return *attr;
  if (obj.is_dict()) {
    if (const Value* v = obj.dict->find(name)) return *v;
    return no_attr(obj, name);
  }
  if (obj.kind == Kind::kObject) {
    if (const Value* v = obj.obj->attrs.find(name)) return *v;
    return no_attr(obj, name);
  }
  if (obj.is_number()) {  // numeric data attributes; methods are not supported
    bool is_float = obj.kind == Kind::kFloat;
    Value self = is_float ? obj : Value::integer(obj.kind == Kind::kBool ? obj.b : obj.i);
    if (name == "real" || (!is_float && name == "numerator")) return self;
    if (name == "imag") return is_float ? Value::floating(0.0) : Value::integer(0);
    if (!is_float && name == "denominator") return Value::integer(1);
  }
  return no_attr(obj, name);
}

static Result<Value> index_sequence(const Value& obj, int64_t idx) {
  if (obj.is_list()) {
    int64_t n = static_cast<int64_t>(obj.list->size());
    if (idx < 0) idx += n;
    if (idx < 0 || idx >= n) return Value::undefined(type_name(obj) + " index out of range");
    return (*obj.list)[static_cast<size_t>(idx)];
  }
  auto cps = utf8_decode(obj.s);
  int64_t n = static_cast<int64_t>(cps.size());
  if (idx < 0) idx += n;
  if (idx < 0 || idx >= n) return Value::undefined("string index out of range");
  std::string one;
  append_utf8(one, cps[static_cast<size_t>(idx)]);
  return Value::string(std::move(one));
}

Result<Value> get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) return undefined_error(obj);
  if (obj.is_dict()) {
    if (const Value* v = obj.dict->find(key)) return *v;
  } else if (obj.gen) {
    return Value::undefined("'generator' object is not subscriptable");
  } else if ((obj.is_list() || obj.is_string()) && is_intlike(key)) {
    return index_sequence(obj, as_int(key));
  } else if (obj.kind == Kind::kObject && key.is_string()) {
    if (const Value* v = obj.obj->attrs.find(key.s)) return *v;
  }
  if (key.is_string() && !(key.s.size() > 0 && key.s[0] == '_')) {
    if (auto attr = python_attr(obj, key.s)) return *attr;
    return no_attr(obj, key.s);
  }
  std::string k = to_repr(key).ok() ? to_repr(key).value() : "?";
  return Value::undefined("'" + type_name(obj) + " object' has no attribute " + k);
}

// Python slice.indices(): clamp start/stop for the given length and step.
static Status slice_indices(const Value& start, const Value& stop, const Value& step, int64_t n,
                            int64_t* s0, int64_t* s1, int64_t* st) {
  auto get = [](const Value& v, int64_t* out) -> Status {
    if (v.is_none() || v.is_undefined()) return Status::Ok();
    if (!is_intlike(v)) {
      return Error{"slice indices must be integers or None, not " + type_name(v)};
    }
    *out = as_int(v);
    return Status::Ok();
  };
  int64_t step_v = 1;
  GAVEL_TRY(get(step, &step_v));
  if (step_v == 0) return Error{"slice step cannot be zero"};
  bool has_start = !(start.is_none() || start.is_undefined());
  bool has_stop = !(stop.is_none() || stop.is_undefined());
  int64_t a = 0, b = 0;
  GAVEL_TRY(get(start, &a));
  GAVEL_TRY(get(stop, &b));
  auto clamp = [&](int64_t v, bool neg_step) {
    if (v < 0) {
      v += n;
      if (v < 0) v = neg_step ? -1 : 0;
    } else if (v >= n) {
      v = neg_step ? n - 1 : n;
    }
    return v;
  };
  bool neg = step_v < 0;
  *s0 = has_start ? clamp(a, neg) : (neg ? n - 1 : 0);
  *s1 = has_stop ? clamp(b, neg) : (neg ? -1 : n);
  *st = step_v;
  return Status::Ok();
}

Result<Value> slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) return undefined_error(obj);
  if ((!obj.is_list() && !obj.is_string()) || obj.gen) {
    return Value::undefined("'" + type_name(obj) + "' object is not subscriptable");
  }
  std::vector<char32_t> cps;
  int64_t n;
  if (obj.is_string()) {
    cps = utf8_decode(obj.s);
    n = static_cast<int64_t>(cps.size());
  } else {
    n = static_cast<int64_t>(obj.list->size());
  }
  int64_t a = 0, b = 0, st = 1;
  GAVEL_TRY(slice_indices(start, stop, step, n, &a, &b, &st));
  std::vector<size_t> picks;
  if (st > 0) {
    for (int64_t k = a; k < b; k += st) picks.push_back(static_cast<size_t>(k));
  } else {
    for (int64_t k = a; k > b; k += st) picks.push_back(static_cast<size_t>(k));
  }
  if (obj.is_string()) {
    std::string out;
    for (size_t k : picks) append_utf8(out, cps[k]);
    return Value::string(std::move(out));
  }
  List out;
  out.reserve(picks.size());
  for (size_t k : picks) out.push_back((*obj.list)[k]);
  return Value::make_list(std::move(out), obj.flag);
}

Result<Value> to_string_value(const Value& v) {
  if (v.is_string()) return v;
  GAVEL_ASSIGN(std::string s, to_str(v));
  return Value::string(std::move(s));
}

}  // namespace gavel::chat
