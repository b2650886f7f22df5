// The flags shared by the statistics commands (`gavel rank`, `gavel meta`): the fields of
// scored items, and the output flags with how they print a meta::Report (a terminal table by
// default, --markdown, --json, --csv FILE).
#pragma once

#include <cstdio>
#include <memory>

#include "command.h"
#include "meta/items.h"
#include "meta/report.h"

namespace gavel::cli {

inline void add_report_flags(CLI::App* sub, const std::shared_ptr<meta::ReportFormat>& f) {
  sub->add_flag("--json", f->json, "print JSON instead of a table");
  sub->add_flag("--markdown", f->markdown, "print the tables as markdown");
  sub->add_option("--csv", f->csv, "also write the main table as CSV to this file");
  refuse_output_over_inputs(sub, "--csv");
}

inline void add_item_fields(CLI::App* sub, meta::ItemFields& f) {
  sub->add_option("--group", f.group, "field naming the system (writer)");
  sub->add_option("--prompt", f.prompt, "field naming the prompt (resampling unit)");
  sub->add_option("--value", f.value, "numeric item score");
  sub->add_flag("--skip-missing", f.skip_missing, "skip items whose score is missing or null");
}

// Prints the report (or fails with its error); the command's exit code.
inline int print_report(const Result<meta::Report>& report, const meta::ReportFormat& f) {
  if (!report.ok()) return fail(report.message());
  Status st = meta::print_report(*report, f, stdout);
  return st.ok() ? 0 : fail(st.message());
}

}  // namespace gavel::cli
