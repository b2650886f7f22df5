// The dynamic value type of the chat-template interpreter, modelled on the Python objects a
// jinja2 template sees: Undefined, None, bool, int, float, str (with markupsafe's Markup flag),
// list/tuple, dict (insertion ordered), namespace/loop objects and callables. Formatting
// follows Python's str()/repr() and json.dumps exactly, since rendered bytes must match.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/utf8.h"
#include "gavel/status.h"

namespace gavel::chat {

enum class Kind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,  // Python list, or tuple when Value::tuple is set
  kDict,
  kObject,    // namespace() and loop objects: attribute bags
  kCallable,  // builtins, bound methods and macros
};

struct Value;
struct Dict;
struct Object;
struct Callable;
using List = std::vector<Value>;

struct Value {
  Kind kind = Kind::kUndefined;
  bool flag = false;  // kString: markupsafe.Markup; kList: tuple
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;  // kString text; kUndefined: the hint used when it is misused
  std::shared_ptr<const List> list;
  std::shared_ptr<Dict> dict;  // shared like Python references; never mutated after build
  std::shared_ptr<Object> obj;
  std::shared_ptr<Callable> fn;
  // Non-null for jinja2 filters that return Python generators (map, select, ...): single
  // use (*gen = consumed), always truthy, not printable, not JSON serializable.
  std::shared_ptr<bool> gen;

  static Value undefined(std::string hint = {}) {
    Value v;
    v.s = std::move(hint);
    return v;
  }
  static Value none() {
    Value v;
    v.kind = Kind::kNone;
    return v;
  }
  static Value boolean(bool x) {
    Value v;
    v.kind = Kind::kBool;
    v.b = x;
    return v;
  }
  static Value integer(int64_t x) {
    Value v;
    v.kind = Kind::kInt;
    v.i = x;
    return v;
  }
  static Value floating(double x) {
    Value v;
    v.kind = Kind::kFloat;
    v.f = x;
    return v;
  }
  static Value string(std::string x, bool markup = false) {
    Value v;
    v.kind = Kind::kString;
    v.s = std::move(x);
    v.flag = markup;
    return v;
  }
  static Value make_list(List items, bool tuple = false) {
    Value v;
    v.kind = Kind::kList;
    v.list = std::make_shared<const List>(std::move(items));
    v.flag = tuple;
    return v;
  }
  static Value make_generator(List items) {
    Value v = make_list(std::move(items));
    v.gen = std::make_shared<bool>(false);
    return v;
  }
  static Value make_dict(Dict d);
  static Value make_object(std::shared_ptr<Object> o) {
    Value v;
    v.kind = Kind::kObject;
    v.obj = std::move(o);
    return v;
  }
  static Value make_callable(std::shared_ptr<Callable> c) {
    Value v;
    v.kind = Kind::kCallable;
    v.fn = std::move(c);
    return v;
  }

  bool is_undefined() const { return kind == Kind::kUndefined; }
  bool is_none() const { return kind == Kind::kNone; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_list() const { return kind == Kind::kList; }
  bool is_dict() const { return kind == Kind::kDict; }
  bool is_number() const {
    return kind == Kind::kInt || kind == Kind::kFloat || kind == Kind::kBool;
  }
  bool is_markup() const { return kind == Kind::kString && flag; }
  bool is_tuple() const { return kind == Kind::kList && flag; }
};

// Insertion-ordered mapping with Python key equality (1 == 1.0 == True).
struct Dict {
  std::vector<std::pair<Value, Value>> items;
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);  // replaces in place or appends
};

// Attribute bag: jinja2's Namespace (mutable via {% set ns.x = ... %}) and loop objects.
struct Object {
  std::string type_name;  // "Namespace" or "LoopContext"
  Dict attrs;
};

struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
  const Value* kwarg(std::string_view name) const;
};

struct Callable {
  std::string name;
  std::function<Result<Value>(CallArgs&)> fn;
};

// Python truthiness.
bool truthy(const Value& v);
// Python ==, with jinja2's Undefined equal only to Undefined.
bool equals(const Value& a, const Value& b);
// Python <, or an error for unorderable types. Sets *less.
Status less_than(const Value& a, const Value& b, bool* less);

// Python str(x) (jinja2 prints Undefined as ""). Errors for values Python would print as
// an address (functions), which gavel cannot reproduce.
Result<std::string> to_str(const Value& v);
// Python repr(x).
Result<std::string> to_repr(const Value& v);
std::string py_repr_string(std::string_view s);
std::string py_float_repr(double d);
std::string type_name(const Value& v);  // Python type name for messages: 'str', 'dict', ...

// json.dumps(x, ensure_ascii, indent, separators, sort_keys) as HF's tojson filter calls it.
struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // None, or the indent string (int n -> n spaces)
  std::optional<std::pair<std::string, std::string>> separators;
  bool sort_keys = false;
};
Result<std::string> json_dumps(const Value& v, const JsonDumpOptions& opt);

// JSON -> Value. Use ordered_json to keep object key order, as Python's json.load does.
Value from_json(const nlohmann::json& j);
Value from_json(const nlohmann::ordered_json& j);

// markupsafe.escape of a plain string.
std::string html_escape(std::string_view s);

// UTF-8 helpers: strings index, slice and count by code point as Python does (encoding one
// code point: gavel::append_utf8, core/utf8.h).
std::vector<char32_t> utf8_decode(std::string_view s);
std::string utf8_encode(const std::vector<char32_t>& cps);
size_t utf8_length(std::string_view s);
bool py_isspace(char32_t c);

}  // namespace gavel::chat
