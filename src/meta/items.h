// Scored items from JSONL: one numeric score per item, grouped by the system that wrote it
// and the prompt it answers (separability, stand-in judges, Option A/B). Field names are the
// caller's (flags); errors name the file, line and field.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gavel/status.h"

namespace gavel::meta {

// Assigns dense indices to names in order of first appearance.
class NameIndex {
 public:
  int id(const std::string& name);
  int find(const std::string& name) const;  // -1 when unknown
  const std::vector<std::string>& names() const { return names_; }
  int size() const { return static_cast<int>(names_.size()); }

 private:
  std::map<std::string, int> ids_;
  std::vector<std::string> names_;
};

struct ItemFields {
  std::string group = "writer_model", prompt = "prompt_id", value = "clean_score_0_100";
  std::string length;         // optional: a string field (its length in bytes) or a number
  bool skip_missing = false;  // skip rows whose value is missing/null instead of failing
};

struct ItemData {
  NameIndex groups, prompts;
  struct Row {
    int group, prompt;
    double value, length;
  };
  std::vector<Row> rows;
  // Mean value / length per [group][prompt]; NaN where a group has no item on a prompt.
  std::vector<std::vector<double>> mean_value, mean_length;
  int skipped = 0;  // rows skipped for a missing value (skip_missing)
};

Result<ItemData> load_items(const std::string& path, const ItemFields& f);

// Fills each NaN of mean_value / mean_length with that group's mean over the prompts it has,
// so every pair of groups can be compared on every prompt. A group with no finite value keeps
// its NaNs.
void fill_missing_with_group_means(ItemData& d);

}  // namespace gavel::meta
