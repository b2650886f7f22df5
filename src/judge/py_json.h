// Python's json.dumps, byte for byte, for what the judge protocols serialize: strings and flat
// objects of strings (the model card builds its user prompt with json.dumps). Default
// separators ", " and ": "; ensure_ascii=True escapes every character outside ' '..'~' as
// \uXXXX (lowercase hex, UTF-16 surrogate pairs above the BMP), ensure_ascii=False escapes only
// '"', '\\' and C0 controls. Input must be valid UTF-8: a Python str cannot hold invalid bytes
// (json.loads would have rejected the line), so such input is an error naming the byte offset.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gavel/status.h"

namespace gavel::judge {

Result<std::string> py_json_string(std::string_view utf8, bool ensure_ascii = true);

using StringPairs = std::vector<std::pair<std::string, std::string>>;
// json.dumps({k1: v1, k2: v2, ...}) with keys in the given order (Python dicts keep insertion
// order and json.dumps does not sort by default).
Result<std::string> py_json_dumps(const StringPairs& object, bool ensure_ascii = true);

}  // namespace gavel::judge
