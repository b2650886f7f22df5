// Python str.format for prompt templates: "{name}" substitutes a variable, "{{" and "}}" are
// literal braces. Positional fields, attribute/index access, conversions and format specs are
// not used by any template here and are rejected rather than guessed.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "gavel/status.h"

namespace gavel::judge {

Result<std::string> py_format(std::string_view tmpl,
                              const std::map<std::string, std::string>& vars);
// The variable names a template uses (for "missing field" errors before rendering).
Result<std::set<std::string>> py_format_fields(std::string_view tmpl);

}  // namespace gavel::judge
