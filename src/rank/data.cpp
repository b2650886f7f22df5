#include "rank/data.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "meta/jsonl.h"

namespace gavel::rank {

int NameIndex::id(const std::string& name) {
  auto [it, fresh] = ids_.emplace(name, static_cast<int>(names_.size()));
  if (fresh) names_.push_back(name);
  return it->second;
}

int NameIndex::find(const std::string& name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? -1 : it->second;
}

namespace {

Result<double> parse_outcome(const meta::Jsonl& js, const meta::JsonlRow& row,
                             const std::string& field) {
  if (!js.has(row, field))
    return Error{fmt::format("{}:{}: missing field \"{}\"", js.path, row.line, field)};
  GAVEL_ASSIGN(std::string s, js.text(row, field));
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "a" || l == "model_a" || l == "win") return 1.0;
  if (l == "b" || l == "model_b" || l == "loss") return 0.0;
  if (l == "tie" || l == "draw" || l == "tie (bothbad)") return 0.5;
  GAVEL_ASSIGN(double v, js.number(row, field));
  if (!(v >= 0 && v <= 1))
    return Error{
        fmt::format("{}:{}: field \"{}\" = {} is outside [0,1]", js.path, row.line, field, v)};
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
                               row.line, f.a, f.b, a)};
    double s;
    if (!f.prob.empty() && js.has(row, f.prob)) {
      GAVEL_ASSIGN(s, js.number(row, f.prob));
      if (!(s >= 0 && s <= 1))
        return Error{
            fmt::format("{}:{}: field \"{}\" = {} is outside [0,1]", path, row.line, f.prob, s)};
    } else {
      GAVEL_ASSIGN(s, parse_outcome(js, row, f.outcome));
    }
    double w = 1.0;
    if (!f.weight.empty()) {
      GAVEL_ASSIGN(w, js.number(row, f.weight));
      if (w < 0)
        return Error{fmt::format("{}:{}: field \"{}\" is negative", path, row.line, f.weight)};
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

Result<ItemData> load_items(const std::string& path, const ItemFields& f) {
  GAVEL_ASSIGN(meta::Jsonl js, meta::read_jsonl(path));
  ItemData d;
  for (const auto& row : js.rows) {
    GAVEL_ASSIGN(std::string g, js.text(row, f.group));
    GAVEL_ASSIGN(std::string p, js.text(row, f.prompt));
    if (f.skip_missing && !js.has(row, f.value)) {
      ++d.skipped;
      continue;
    }
    GAVEL_ASSIGN(double v, js.number(row, f.value));
    double len = 0;
    if (!f.length.empty()) {
      const auto* field = &row.value;
      if (js.has(row, f.length) && row.value.contains(f.length) && (*field)[f.length].is_string()) {
        len = static_cast<double>((*field)[f.length].get_ref<const std::string&>().size());
      } else {
        GAVEL_ASSIGN(len, js.number(row, f.length));
      }
    }
    d.rows.push_back({d.groups.id(g), d.prompts.id(p), v, len});
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const int ng = d.groups.size(), np = d.prompts.size();
  std::vector<std::vector<double>> sum(ng, std::vector<double>(np, 0.0)), lsum = sum;
  std::vector<std::vector<int>> cnt(ng, std::vector<int>(np, 0));
  for (const auto& r : d.rows) {
    sum[r.group][r.prompt] += r.value;
    lsum[r.group][r.prompt] += r.length;
    ++cnt[r.group][r.prompt];
  }
  d.mean_value.assign(ng, std::vector<double>(np, nan));
  d.mean_length = d.mean_value;
  for (int g = 0; g < ng; ++g)
    for (int p = 0; p < np; ++p)
      if (cnt[g][p]) {
        d.mean_value[g][p] = sum[g][p] / cnt[g][p];
        d.mean_length[g][p] = lsum[g][p] / cnt[g][p];
      }
  return d;
}

}  // namespace gavel::rank
