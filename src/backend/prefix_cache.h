// PrefixCache: evaluated prompts kept for reuse. A new prompt continues the cached sequence
// that shares its longest prefix, cut back to a point where the engine guarantees the same
// bits as evaluating the prompt whole (engine::SplitRule); recurrent models, whose states cannot
// be cut back, keep snapshots where prompts stop sharing tokens. When the cache is full, the
// entry evicted is the one the known upcoming prompts lose least by (a shorter prefix offered by
// another entry costs nothing), the least recently used among equals. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/engine.h"
#include "gavel/status.h"

namespace gavel::backend {

// Token accounting of the cache, cumulative since it was made.
struct PrefixStats {
  int64_t prompts = 0;              // prompts prefilled (score and generate requests)
  int64_t prompt_tokens = 0;        // their tokens
  int64_t reused_tokens = 0;        // prompt tokens taken from a cached sequence
  int64_t evaluated_tokens = 0;     // prompt tokens run through the model
  int64_t continuation_tokens = 0;  // candidate and generated tokens run through the model
  int64_t snapshots = 0;            // recurrent states kept at a shared prefix (see prefill)
  int64_t lent = 0;  // evicted sequences continued in place of a copy (prefill makes room first)
};

class PrefixCache {
 public:
  // A sequence holding exactly `seq->tokens()` plus the logits at its last position.
  // Immutable once cached; users clone `seq` before extending it.
  struct Entry {
    std::unique_ptr<engine::Sequence> seq;
    std::vector<float> last_logits;
    int64_t exact_len = 0;      // leading tokens computed as in a whole-prompt evaluation
    bool logits_exact = false;  // last_logits as a whole-prompt evaluation gives them
    uint64_t last_use = 0;
  };
  // Token lists of the prompts that will follow the current one (same batch of requests).
  using Upcoming = std::span<const std::vector<int32_t>>;

  // Keeps up to `max_entries` sequences (0: none, every prompt is evaluated in full), the one
  // being evaluated included: the memory budget is max_entries sequences.
  PrefixCache(engine::LoadedModel& model, int max_entries);

  // The evaluated prompt `ids`: from the cache when possible, else (partly) computed and
  // cached. `extended`: a later request will extend this prompt (a critique's verdict).
  Result<std::shared_ptr<const Entry>> prefill(const std::vector<int32_t>& ids, Upcoming upcoming,
                                               bool extended);
  // Caches a sequence made outside prefill (a prompt plus its generated text); `upcoming`
  // guides which entry makes room.
  void remember(std::shared_ptr<Entry> e, Upcoming upcoming = {});
  // Counts tokens evaluated to extend cached prompts (candidates, generation).
  void count_continuation(int64_t n) { stats_.continuation_tokens += n; }
  // Prompt tokens evaluated outside the cache (whole-prompt log-probabilities).
  void count_evaluated(int64_t n) { stats_.evaluated_tokens += n; }

  const PrefixStats& stats() const { return stats_; }
  size_t size() const { return cache_.size(); }

 private:
  // Recurrent models: where to snapshot a prompt whose tokens [0, from) are evaluated, in
  // ascending order: the longest exact splits within its common prefixes with cached sequences
  // and upcoming prompts, and near its end when `extended` (at most kMaxSnapshots).
  std::vector<int64_t> snapshot_points(const std::vector<int32_t>& ids, int64_t from,
                                       Upcoming upcoming, bool extended) const;
  // Whether tokens [r, n) of an n-token prompt can be evaluated after a cached state of r
  // tokens with the bits of a whole-prompt evaluation (engine::SplitRule::continuation).
  bool continues_exactly(int64_t r, int64_t n) const;
  // What an entry offers other prompts: its tokens and how far they are exact.
  struct Offer {
    const std::vector<int32_t>& tokens;
    int64_t exact_len;
    bool logits_exact;
  };
  static Offer offer_of(const Entry& e) { return {e.seq->tokens(), e.exact_len, e.logits_exact}; }
  // The prompt tokens `o` would spare the prompt `ids` (0 when it offers nothing).
  int64_t reusable(const Offer& o, const std::vector<int32_t>& ids) const;
  // The entry to evict so that `incoming` fits: the one whose loss to `upcoming` is least.
  size_t victim(const Offer& incoming, Upcoming upcoming) const;
  // Evicts until one more entry fits, before that entry is computed: the sequence being
  // evaluated is one of the max_entries sequences held (the memory budget). Returns the
  // evicted entries.
  std::vector<std::shared_ptr<Entry>> make_room(const Offer& incoming, Upcoming upcoming);

  engine::LoadedModel& model_;
  engine::SplitRule rule_;
  int max_entries_ = 0;
  bool can_rewind_ = true;  // false for recurrent models: reuse whole cached sequences only
  std::vector<std::shared_ptr<Entry>> cache_;
  uint64_t clock_ = 0;
  PrefixStats stats_;
};

}  // namespace gavel::backend
