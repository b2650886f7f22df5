#include "store/export.h"

#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/csv.h"
#include "core/io.h"
#include "store/store.h"

namespace gavel::store {
namespace {

using nlohmann::ordered_json;

std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

void flatten(const ordered_json& j, const std::string& prefix, ordered_json& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else {
    out[prefix] = j;
  }
}

std::string csv_cell(const ordered_json& v) {
  if (v.is_null()) return "";
  return csv_field(v.is_string() ? v.get<std::string>() : dump(v));
}

}  // namespace

Result<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "jsonl") return ExportFormat::kJsonl;
  if (name == "csv") return ExportFormat::kCsv;
  return Error{"must be jsonl or csv", StatusCode::kInvalidArgument};
}

Status export_judgments(const ExportConfig& cfg) {
  GAVEL_ASSIGN(auto store, Store::open(cfg.store));
  const bool to_stdout = cfg.out.empty() || cfg.out == "-";
  std::FILE* out = to_stdout ? stdout : std::fopen(cfg.out.c_str(), "wb");
  if (!out) return os_error(cfg.out + ": cannot create", errno);
  std::vector<ordered_json> rows;
  std::vector<std::string> columns;
  std::map<std::string, bool> seen;
  Status s = store->for_each([&](const Judgment& j) -> Status {
    ordered_json rec = ordered_json::parse(j.record, nullptr, false);
    if (rec.is_discarded())
      return Error{"store row " + j.key + ": record is not JSON", StatusCode::kCorruption};
    ordered_json row = {{"key", j.key},
                        {"created_at", j.created_at},
                        {"protocol", j.protocol},
                        {"model", j.model},
                        {"item_id", j.item_id}};
    if (cfg.format == ExportFormat::kJsonl) {
      row["record"] = rec;
      std::string line = dump(row) + "\n";
      std::fwrite(line.data(), 1, line.size(), out);
      return Status::Ok();
    }
    flatten(rec, "", row);
    for (auto it = row.begin(); it != row.end(); ++it)
      if (!seen[it.key()]) seen[it.key()] = true, columns.push_back(it.key());
    rows.push_back(std::move(row));
    return Status::Ok();
  });
  if (s.ok() && cfg.format == ExportFormat::kCsv) {
    std::string text;
    for (size_t c = 0; c < columns.size(); ++c) text += (c ? "," : "") + csv_field(columns[c]);
    text += "\n";
    for (const auto& r : rows) {
      for (size_t c = 0; c < columns.size(); ++c)
        text += (c ? "," : "") + (r.contains(columns[c]) ? csv_cell(r[columns[c]]) : std::string());
      text += "\n";
    }
    std::fwrite(text.data(), 1, text.size(), out);
  }
  const bool write_failed = std::ferror(out) != 0;
  if (!to_stdout && std::fclose(out) != 0 && s.ok())
    return os_error(cfg.out + ": write error", errno);
  if (s.ok() && write_failed) return Error{cfg.out + ": write error", StatusCode::kIOError};
  return s;
}

}  // namespace gavel::store
