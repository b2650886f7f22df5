// What a statistics command prints: its figures as one JSON document and as tables, and how
// to print them (aligned text, markdown or JSON on stdout; the main table also as CSV).
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gavel/status.h"
#include "meta/table.h"

namespace gavel::meta {

struct Report {
  nlohmann::json json;
  std::vector<Table> tables;  // tables[0] is the main table, the one written as CSV
  std::string preface;        // text printed above the tables
};

struct ReportFormat {
  bool json = false;      // print the JSON document instead of the tables
  bool markdown = false;  // tables as GitHub markdown instead of aligned text
  std::string csv;        // also write tables[0] as CSV to this file ("" = no)
};

// Writes the CSV file first (when asked), then prints the report to `out`.
Status print_report(const Report& report, const ReportFormat& format, std::FILE* out);

// A number for a JSON document: null where it is not finite (JSON has no NaN).
nlohmann::json json_number(double v);

}  // namespace gavel::meta
