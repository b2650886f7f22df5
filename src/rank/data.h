// Loading pairwise judgments from JSONL (for ratings). Field names come from flags. Scored
// items (stand-in judges, Option A/B, separability) are read by meta/items.h.
#pragma once

#include <string>
#include <vector>

#include "gavel/status.h"
#include "meta/items.h"
#include "rank/elo.h"

namespace gavel::rank {

struct PairwiseFields {
  std::string a = "model_a", b = "model_b";
  // outcome: a number in [0,1] (share of a's win) or "A"/"model_a"/"a", "B"/"model_b"/"b",
  // "tie"/"draw". prob (if set and present) overrides: P(a better) in [0,1].
  std::string outcome = "outcome", prob, weight, prompt;
};

struct PairwiseData {
  meta::NameIndex players;
  std::vector<Outcome> outcomes;
  std::vector<std::string> prompt;  // per outcome ("" without a prompt field)
};

Result<PairwiseData> load_pairwise(const std::string& path, const PairwiseFields& f);

}  // namespace gavel::rank
