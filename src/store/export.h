// Exports the stored judgments: JSONL (one row per judgment, its record nested) or CSV (each
// record's nested objects flattened into dot-separated columns, arrays as JSON text; the
// columns are the union over all rows, in order of first appearance).
#pragma once

#include <string>
#include <string_view>

#include "gavel/status.h"

namespace gavel::store {

enum class ExportFormat { kJsonl, kCsv };
// "jsonl" or "csv".
Result<ExportFormat> parse_export_format(std::string_view name);

struct ExportConfig {
  std::string store;  // the SQLite store
  ExportFormat format = ExportFormat::kJsonl;
  std::string out;  // file to write; "" or "-" = stdout
};

Status export_judgments(const ExportConfig& cfg);

}  // namespace gavel::store
