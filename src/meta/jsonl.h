// JSONL input for `gavel meta` / `gavel rank`: every line one JSON object, fields picked by
// name (a dotted name walks into nested objects). Errors name the file, line and field and
// carry kInvalidArgument (kNotFound for a missing file).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gavel/status.h"

namespace gavel::meta {

struct JsonlRow {
  int line = 0;  // 1-based line in the file
  nlohmann::json value;
};

struct Jsonl {
  std::string path;
  std::vector<JsonlRow> rows;  // blank lines skipped

  Result<double> number(const JsonlRow& row, const std::string& field) const;
  // A string field's length in bytes, or else a numeric field (a text or its length).
  Result<double> length(const JsonlRow& row, const std::string& field) const;
  // Strings as-is; numbers and booleans are converted to their JSON text (ids may be numeric).
  Result<std::string> text(const JsonlRow& row, const std::string& field) const;
  bool has(const JsonlRow& row, const std::string& field) const;       // present and not null
  bool has_null(const JsonlRow& row, const std::string& field) const;  // present as null
};

Result<Jsonl> read_jsonl(const std::string& path);

}  // namespace gavel::meta
