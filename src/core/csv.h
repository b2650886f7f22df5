// CSV as RFC 4180 writes it: fields separated by commas, quoted when they hold a comma, a
// quote or a line break ("" inside quotes is one "). Written by tables and the store export,
// read for leaderboards.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gavel/status.h"

namespace gavel {

// One field, quoted only when it must be.
std::string csv_field(std::string_view s);

// One record of a CSV file: its cells and the line it starts on (1-based).
struct CsvRow {
  int line = 0;
  std::vector<std::string> cells;
};

// Reads CSV: LF or CRLF line ends, quoted fields may hold commas and line breaks, blank lines
// are skipped. `name` (the file) and the line prefix errors (kInvalidArgument).
Result<std::vector<CsvRow>> parse_csv(std::string_view text, const std::string& name);

}  // namespace gavel
