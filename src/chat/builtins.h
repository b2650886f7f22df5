// Python/jinja2 semantics of operators, attribute and item access (ImmutableSandboxedEnvironment
// rules), iteration, and the built-in filters, tests and str/dict/list methods.
// Errors carry no position; the interpreter prefixes the template line and column.
#pragma once

#include <string_view>

#include "chat/value.h"

namespace gavel::chat {

// The error jinja2's Undefined raises when misused (attribute, call, arithmetic).
Error undefined_error(const Value& v);

Result<Value> binary_op(std::string_view op, const Value& a, const Value& b);
Result<Value> negate(const Value& v, bool minus);
Result<bool> contains(const Value& container, const Value& item);  // `item in container`

// environment.getattr / getitem of jinja2's ImmutableSandboxedEnvironment.
Result<Value> get_attr(const Value& obj, std::string_view name);
Result<Value> get_item(const Value& obj, const Value& key);
Result<Value> slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

// Python iteration: list items, dict keys, string code points; Undefined is empty.
Result<List> iterate(const Value& v);

Result<Value> call_filter(std::string_view name, const Value& v, CallArgs& args);
Result<bool> call_test(std::string_view name, const Value& v, CallArgs& args);

// Python's str(x) as the `string` filter / `~` operator see it (Markup kept).
Result<Value> to_string_value(const Value& v);

}  // namespace gavel::chat
