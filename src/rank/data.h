// Loading pairwise judgments from JSONL (for ratings). Field names come from flags. Scored
// items (stand-in judges, Option A/B, separability) are read by meta/items.h.
#pragma once

#include <string>
#include <vector>

#include "gavel/status.h"
#include "meta/items.h"
#include "meta/judgment_record.h"
#include "rank/elo.h"

namespace gavel::rank {

// The defaults read the judgment records of `gavel judge` and a tournament's matches.jsonl
// (meta/judgment_record.h) as they are.
struct PairwiseFields {
  std::string a = meta::record::kSystemA, b = meta::record::kSystemB;
  // outcome: a number in [0,1] (share of a's win) or "A"/"model_a"/"a", "B"/"model_b"/"b",
  // "tie"/"draw". prob (if set and present) overrides: P(a better) in [0,1]. A row whose prob
  // is null (a judgment without a verdict) and that has no outcome is left out and counted.
  std::string outcome = "outcome", prob = meta::record::kPText1, weight, prompt;
};

struct PairwiseData {
  meta::NameIndex players;
  std::vector<Outcome> outcomes;
  std::vector<std::string> prompt;  // per outcome ("" without a prompt field)
  int no_verdict = 0;               // rows left out: prob null and no outcome
};

Result<PairwiseData> load_pairwise(const std::string& path, const PairwiseFields& f);

}  // namespace gavel::rank
