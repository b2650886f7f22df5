// Plain-text tables for terminal output and the same rows as CSV (core/csv.h).
#pragma once

#include <string>
#include <vector>

namespace gavel::meta {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Columns padded to their widest cell; numbers (cells starting with a digit, '-' or '+')
  // right-aligned.
  std::string text() const;
  // RFC 4180 CSV (quotes doubled, fields with , " or newline quoted).
  std::string csv() const;
  // GitHub markdown table.
  std::string markdown() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Fixed-point formatting helper ("nan" for non-finite values).
std::string fixed(double v, int digits);

}  // namespace gavel::meta
