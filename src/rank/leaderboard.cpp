#include "rank/leaderboard.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "core/csv.h"
#include "core/io.h"

namespace gavel::rank {

Result<Leaderboard> read_leaderboard(const std::string& path, const std::string& name_column,
                                     const std::string& value_column) {
  GAVEL_ASSIGN(std::string text, read_file(path));
  GAVEL_ASSIGN(std::vector<CsvRow> rows, parse_csv(text, path));
  if (rows.empty()) return Error{path + ": empty leaderboard", StatusCode::kInvalidArgument};
  const std::vector<std::string>& header = rows[0].cells;
  auto column = [&](const std::string& name) -> int {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  const int ni = column(name_column), vi = column(value_column);
  if (ni < 0)
    return Error{fmt::format("{}: no column \"{}\"", path, name_column),
                 StatusCode::kInvalidArgument};
  if (vi < 0)
    return Error{fmt::format("{}: no column \"{}\"", path, value_column),
                 StatusCode::kInvalidArgument};
  Leaderboard board;
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    if (row.cells.size() <= static_cast<size_t>(std::max(ni, vi)))
      return Error{fmt::format("{}:{}: too few columns", path, row.line),
                   StatusCode::kInvalidArgument};
    std::string name = row.cells[ni];
    if (!name.empty() && name[0] == '*') name = name.substr(1);
    const std::string& cell = row.cells[vi];
    char* end = nullptr;
    const double v = std::strtod(cell.c_str(), &end);
    if (cell.empty() || *end)
      return Error{fmt::format("{}:{}: \"{}\" is not a number", path, row.line, cell),
                   StatusCode::kInvalidArgument};
    board.rating[name] = v;
  }
  return board;
}

Result<LeaderboardAgreement> leaderboard_agreement(const Leaderboard& board,
                                                   const std::vector<std::string>& names,
                                                   const std::vector<double>& ratings) {
  if (names.size() != ratings.size())
    return Error{
        fmt::format("leaderboard agreement: {} names but {} ratings", names.size(), ratings.size()),
        StatusCode::kInternal};
  LeaderboardAgreement out;
  std::vector<double> ours, theirs;
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = board.rating.find(names[i]);
    if (it == board.rating.end()) {
      out.not_on_leaderboard.push_back(names[i]);
      continue;
    }
    ours.push_back(ratings[i]);
    theirs.push_back(it->second);
  }
  GAVEL_ASSIGN(out.kendall, meta::kendall_tau_b(ours, theirs));
  GAVEL_ASSIGN(out.spearman, meta::spearman(ours, theirs));
  return out;
}

}  // namespace gavel::rank
