#include "core/csv.h"

#include <fmt/format.h>

namespace gavel {

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<std::vector<CsvRow>> parse_csv(std::string_view text, const std::string& name) {
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string cell;
  int line = 1;
  bool quoted = false, in_quotes = false, row_has_text = false;
  auto end_cell = [&] {
    row.cells.push_back(std::move(cell));
    cell.clear();
    quoted = false;
  };
  auto end_row = [&] {
    if (row_has_text) {
      end_cell();
      rows.push_back(std::move(row));
    }
    row = CsvRow{};
    cell.clear();
    quoted = row_has_text = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!row_has_text) row.line = line;
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    if (c == '\r' && (i + 1 == text.size() || text[i + 1] == '\n')) continue;  // CRLF
    if (c == '\n') {
      end_row();
      ++line;
      continue;
    }
    row_has_text = true;
    if (c == ',') {
      end_cell();
    } else if (c == '"' && cell.empty() && !quoted) {
      in_quotes = quoted = true;
    } else if (quoted) {
      return Error{fmt::format("{}:{}: text after a closing quote", name, line),
                   StatusCode::kInvalidArgument};
    } else {
      cell += c;
    }
  }
  if (in_quotes)
    return Error{fmt::format("{}:{}: quoted field not closed", name, row.line),
                 StatusCode::kInvalidArgument};
  end_row();
  return rows;
}

}  // namespace gavel
