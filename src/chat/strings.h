// Python str semantics used by filters and methods: whitespace, case mapping, split/strip,
// %-formatting and str.format, plus the bound methods of str/dict/list values.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "chat/value.h"

namespace gavel::chat {

// Reads builtin arguments by position or keyword, rejecting unexpected ones.
class ArgReader {
 public:
  ArgReader(const CallArgs& a, std::string_view fname) : a_(a), fname_(fname) {}  // copies fname
  Status check(size_t max_positional, std::initializer_list<std::string_view> names) const;
  // Positional pos or keyword name; null when absent.
  const Value* get(size_t pos, std::string_view name) const;
  Value get_or(size_t pos, std::string_view name, Value def) const;
  Result<int64_t> get_int(size_t pos, std::string_view name, int64_t def) const;
  Result<bool> get_bool(size_t pos, std::string_view name, bool def) const;
  Result<std::string> get_str(size_t pos, std::string_view name, std::string def) const;
  Error error(const std::string& msg) const;

 private:
  const CallArgs& a_;
  std::string fname_;  // owned: callers pass temporaries
};

std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_capitalize(std::string_view s);
std::string py_str_title(std::string_view s);  // str.title()
std::string py_strip(std::string_view s, const Value* chars, bool left, bool right);
std::vector<std::string> py_split(std::string_view s, const Value* sep, int64_t maxsplit,
                                  bool from_right, Status* st);
std::vector<std::string> py_splitlines(std::string_view s, bool keepends);
std::string py_replace(std::string_view s, std::string_view old, std::string_view neu,
                       int64_t count);

// `fmt % args` (printf-style: %s %r %d %i %f %x %%).
Result<Value> percent_format(const Value& fmt, const Value& args);

bool is_string_method(std::string_view name);
Value bind_method(const Value& obj, std::string_view name);

}  // namespace gavel::chat
