// Loading tournament inputs from JSONL: pairwise judgments (for ratings) and scored items
// (for stand-in judges, Option A/B and separability). Field names come from flags.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gavel/status.h"
#include "rank/elo.h"

namespace gavel::rank {

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

struct PairwiseFields {
  std::string a = "model_a", b = "model_b";
  // outcome: a number in [0,1] (share of a's win) or "A"/"model_a"/"a", "B"/"model_b"/"b",
  // "tie"/"draw". prob (if set and present) overrides: P(a better) in [0,1].
  std::string outcome = "outcome", prob, weight, prompt;
};

struct PairwiseData {
  NameIndex players;
  std::vector<Outcome> outcomes;
  std::vector<std::string> prompt;  // per outcome ("" without a prompt field)
};

Result<PairwiseData> load_pairwise(const std::string& path, const PairwiseFields& f);

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

}  // namespace gavel::rank
