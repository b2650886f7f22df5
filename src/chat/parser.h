// Jinja2 parser: tokens -> Program. Follows jinja2's grammar and operator precedence, and its
// compile-time checks (unknown tags, filters and tests outside if-branches are errors).
#pragma once

#include <string_view>

#include "chat/ast.h"
#include "gavel/status.h"

namespace gavel::chat {

inline constexpr int kMaxParseDepth = 200;

Result<Program> parse_template(std::string_view source);

// jinja2's built-in filter and test names (whether or not gavel implements each).
bool is_jinja_filter(std::string_view name);
bool is_jinja_test(std::string_view name);

}  // namespace gavel::chat
