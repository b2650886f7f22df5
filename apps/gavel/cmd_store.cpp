// `gavel store export --store F.sqlite --format jsonl|csv [--out F]`: the stored judgments.
// CSV flattens each record's nested objects into dot-separated columns (arrays as JSON text).
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "command.h"
#include "core/io.h"
#include "store/store.h"

namespace {

using nlohmann::ordered_json;

void flatten(const ordered_json& j, const std::string& prefix, ordered_json& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  } else {
    out[prefix] = j;
  }
}

std::string csv_cell(const ordered_json& v) {
  std::string s;
  if (v.is_null()) return "";
  if (v.is_string()) s = v.get<std::string>();
  else s = v.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

struct Options {
  std::string store, format = "jsonl", out;
};

int run_export(const Options& o) {
  using gavel::cli::fail;
  if (o.format != "jsonl" && o.format != "csv") return fail("--format must be jsonl or csv");
  auto st = gavel::store::Store::open(o.store, gavel::store::Access::kReadOnly);
  if (!st.ok()) return fail(st.message());
  // Checked with the store open, when SQLite's companion files exist.
  gavel::Status same =
      gavel::check_not_an_input({"--out", o.out}, gavel::store::store_files(o.store));
  if (!same.ok()) return fail(same.message());
  auto out = gavel::OutputFile::create(o.out.empty() ? "-" : o.out);
  if (!out.ok()) return fail(out.message());
  std::vector<ordered_json> rows;
  std::vector<std::string> columns;
  std::map<std::string, bool> seen;
  gavel::Status s = (*st)->for_each([&](const gavel::store::Judgment& j) -> gavel::Status {
    ordered_json rec = ordered_json::parse(j.record, nullptr, false);
    if (rec.is_discarded()) return gavel::Error{"store row " + j.key + ": record is not JSON"};
    ordered_json row = {{"key", j.key}, {"created_at", j.created_at}, {"protocol", j.protocol},
                        {"model", j.model}, {"item_id", j.item_id}};
    if (o.format == "jsonl") {
      row["record"] = rec;
      return (*out)->write(row.dump(-1, ' ', false, ordered_json::error_handler_t::replace) + "\n");
    }
    flatten(rec, "", row);
    for (auto it = row.begin(); it != row.end(); ++it)
      if (!seen[it.key()]) seen[it.key()] = true, columns.push_back(it.key());
    rows.push_back(std::move(row));
    return gavel::Status::Ok();
  });
  if (s.ok() && o.format == "csv") {
    std::string text;
    for (size_t c = 0; c < columns.size(); ++c) text += (c ? "," : "") + csv_cell(columns[c]);
    text += "\n";
    for (const auto& r : rows) {
      for (size_t c = 0; c < columns.size(); ++c)
        text += (c ? "," : "") + (r.contains(columns[c]) ? csv_cell(r[columns[c]]) : std::string());
      text += "\n";
    }
    s = (*out)->write(text);
  }
  gavel::Status closed = (*out)->close();
  if (!s.ok()) return fail(s.message());
  if (!closed.ok()) return fail(closed.message());
  return 0;
}

gavel::cli::Register reg{{"store", "Inspect the judgment store (export as JSONL or CSV)",
  [](CLI::App& app) -> gavel::cli::Runner {
    auto o = std::make_shared<Options>();
    app.require_subcommand(1);
    CLI::App* ex = app.add_subcommand("export", "Write every stored judgment");
    ex->add_option("--store", o->store, "SQLite store")->required();
    ex->add_option("--format", o->format, "jsonl | csv");
    ex->add_option("--out,-o", o->out, "output file (default stdout)");
    CLI::App* count = app.add_subcommand("count", "Number of stored judgments");
    count->add_option("--store", o->store, "SQLite store")->required();
    return [o, ex, count]() -> int {
      if (ex->parsed()) return run_export(*o);
      auto st = gavel::store::Store::open(o->store, gavel::store::Access::kReadOnly);
      if (!st.ok()) return gavel::cli::fail(st.message());
      auto n = (*st)->count();
      if (!n.ok()) return gavel::cli::fail(n.message());
      std::printf("%lld\n", static_cast<long long>(*n));
      (void)count;
      return 0;
    };
  }}};

}  // namespace
