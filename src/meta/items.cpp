#include "meta/items.h"

#include <cmath>
#include <limits>

#include "meta/jsonl.h"

namespace gavel::meta {

int NameIndex::id(const std::string& name) {
  auto [it, fresh] = ids_.emplace(name, static_cast<int>(names_.size()));
  if (fresh) names_.push_back(name);
  return it->second;
}

int NameIndex::find(const std::string& name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? -1 : it->second;
}

Result<ItemData> load_items(const std::string& path, const ItemFields& f) {
  GAVEL_ASSIGN(Jsonl js, read_jsonl(path));
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
      GAVEL_ASSIGN(len, js.length(row, f.length));
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

void fill_missing_with_group_means(ItemData& d) {
  for (auto* means : {&d.mean_value, &d.mean_length})
    for (auto& row : *means) {
      double sum = 0;
      int n = 0;
      for (double v : row)
        if (std::isfinite(v)) sum += v, ++n;
      for (double& v : row)
        if (!std::isfinite(v) && n) v = sum / n;
    }
}

}  // namespace gavel::meta
