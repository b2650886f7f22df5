#include "store/export.h"

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
  GAVEL_ASSIGN(auto store, Store::open(cfg.store, Access::kReadOnly));
  // Checked with the store open, when SQLite's companion files (WAL, ...) exist.
  GAVEL_TRY(check_not_an_input({"--out", cfg.out}, store_files(cfg.store)));
  GAVEL_ASSIGN(auto out, OutputFile::create(cfg.out.empty() ? "-" : cfg.out));
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
      return out->write(dump(row) + "\n");
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
    s = out->write(text);
  }
  Status closed = out->close();  // every write and the close are checked (a full disk, /dev/full)
  return s.ok() ? closed : s;
}

}  // namespace gavel::store
