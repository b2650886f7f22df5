#include "rank/data.h"

#include <fmt/format.h>

#include <cmath>

#include "meta/jsonl.h"

namespace gavel::rank {

namespace {

Result<double> parse_outcome(const meta::Jsonl& js, const meta::JsonlRow& row,
                             const std::string& field) {
  if (!js.has(row, field))
    return Error{fmt::format("{}:{}: missing field \"{}\"", js.path, row.line, field),
                 StatusCode::kInvalidArgument};
  GAVEL_ASSIGN(std::string s, js.text(row, field));
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "a" || l == "model_a" || l == "win") return 1.0;
  if (l == "b" || l == "model_b" || l == "loss") return 0.0;
  if (l == "tie" || l == "draw" || l == "tie (bothbad)") return 0.5;
  GAVEL_ASSIGN(double v, js.number(row, field));
  if (!(v >= 0 && v <= 1))
    return Error{
        fmt::format("{}:{}: field \"{}\" = {} is outside [0,1]", js.path, row.line, field, v),
        StatusCode::kInvalidArgument};
  return v;
}

}  // namespace

Result<PairwiseData> load_pairwise(const std::string& path, const PairwiseFields& f) {
  GAVEL_ASSIGN(meta::Jsonl js, meta::read_jsonl(path));
  PairwiseData d;
  for (const auto& row : js.rows) {
    GAVEL_ASSIGN(std::string a, js.text(row, f.a));
    GAVEL_ASSIGN(std::string b, js.text(row, f.b));
    if (a == b)
      return Error{fmt::format("{}:{}: \"{}\" and \"{}\" are the same player \"{}\"", path,
                               row.line, f.a, f.b, a),
                   StatusCode::kInvalidArgument};
    double s;
    const bool null_prob = !f.prob.empty() && js.has_null(row, f.prob);
    if (null_prob && !js.has(row, f.outcome)) {
      ++d.no_verdict;
      continue;
    }
    if (!f.prob.empty() && js.has(row, f.prob)) {
      GAVEL_ASSIGN(s, js.number(row, f.prob));
      if (!(s >= 0 && s <= 1))
        return Error{
            fmt::format("{}:{}: field \"{}\" = {} is outside [0,1]", path, row.line, f.prob, s),
            StatusCode::kInvalidArgument};
    } else {
      GAVEL_ASSIGN(s, parse_outcome(js, row, f.outcome));
    }
    double w = 1.0;
    if (!f.weight.empty()) {
      GAVEL_ASSIGN(w, js.number(row, f.weight));
      if (w < 0)
        return Error{fmt::format("{}:{}: field \"{}\" is negative", path, row.line, f.weight),
                     StatusCode::kInvalidArgument};
    }
    std::string prompt;
    if (!f.prompt.empty()) {
      GAVEL_ASSIGN(prompt, js.text(row, f.prompt));
    }
    d.outcomes.push_back({d.players.id(a), d.players.id(b), s, w});
    d.prompt.push_back(prompt);
  }
  return d;
}

}  // namespace gavel::rank
