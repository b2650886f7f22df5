#include "rank/leaderboard.h"

#include <fmt/format.h>

#include <cstdlib>

#include "core/io.h"

namespace gavel::rank {

Result<std::map<std::string, double>> read_leaderboard_csv(const std::string& path,
                                                           const std::string& name_col,
                                                           const std::string& value_col) {
  GAVEL_ASSIGN(std::string text, read_file(path));
  std::vector<std::vector<std::string>> rows;
  std::vector<int> line_of;
  size_t pos = 0;
  for (int line = 1; pos < text.size(); ++line) {
    size_t nl = text.find('\n', pos);
    std::string l = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (l.empty()) continue;
    std::vector<std::string> cells;
    for (size_t s = 0;;) {
      size_t c = l.find(',', s);
      cells.push_back(l.substr(s, c == std::string::npos ? std::string::npos : c - s));
      if (c == std::string::npos) break;
      s = c + 1;
    }
    rows.push_back(std::move(cells));
    line_of.push_back(line);
  }
  if (rows.empty()) return Error{path + ": empty leaderboard"};
  auto col = [&](const std::string& n) -> int {
    for (size_t i = 0; i < rows[0].size(); ++i)
      if (rows[0][i] == n) return static_cast<int>(i);
    return -1;
  };
  int ni = col(name_col), vi = col(value_col);
  if (ni < 0) return Error{fmt::format("{}: no column \"{}\"", path, name_col)};
  if (vi < 0) return Error{fmt::format("{}: no column \"{}\"", path, value_col)};
  std::map<std::string, double> board;
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() <= static_cast<size_t>(std::max(ni, vi)))
      return Error{fmt::format("{}:{}: too few columns", path, line_of[r])};
    std::string n = rows[r][ni];
    if (!n.empty() && n[0] == '*') n = n.substr(1);
    const std::string& cell = rows[r][vi];
    char* end = nullptr;
    double v = std::strtod(cell.c_str(), &end);
    if (cell.empty() || *end)
      return Error{fmt::format("{}:{}: column \"{}\": \"{}\" is not a number", path, line_of[r],
                               value_col, cell)};
    board[n] = v;
  }
  return board;
}

Result<LeaderboardAgreement> leaderboard_agreement(const std::map<std::string, double>& board,
                                                   const std::vector<std::string>& names,
                                                   const std::vector<double>& ratings) {
  if (names.size() != ratings.size()) return Error{"leaderboard agreement: names != ratings"};
  LeaderboardAgreement a;
  std::vector<double> x, y;
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = board.find(names[i]);
    if (it == board.end()) {
      a.missing.push_back(names[i]);
      continue;
    }
    x.push_back(ratings[i]);
    y.push_back(it->second);
  }
  if (x.size() < 2)
    return Error{fmt::format("leaderboard agreement: only {} of our names are on the leaderboard",
                             x.size())};
  GAVEL_ASSIGN(a.kendall, meta::kendall_tau_b(x, y));
  GAVEL_ASSIGN(a.spearman, meta::spearman(x, y));
  return a;
}

}  // namespace gavel::rank
