// Reading a whole file as one JSON document: the one place that turns every way a document can
// be bad (syntax, a number too large for a double, ...) into an Error naming the path.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "gavel/status.h"

namespace gavel {

// The document in `path`, keys in file order. A missing or unreadable file, invalid JSON or a
// number out of range is an error naming the path (kInvalidArgument for the content).
Result<nlohmann::ordered_json> read_json_file(const std::string& path);

}  // namespace gavel
