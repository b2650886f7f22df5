#include "backend/prefix_cache.h"

#include <fmt/format.h>

#include <algorithm>

namespace gavel::backend {

namespace {

// Snapshots per prompt on recurrent models: the system prompt's, the instruction's and, before
// a critique, the prompt's own.
constexpr int kMaxSnapshots = 3;
// Upcoming prompts an eviction looks at (the cost is entries x prompts x their length).
constexpr size_t kMaxLookahead = 64;

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

PrefixCache::PrefixCache(engine::LoadedModel& model, int max_entries)
    : model_(model),
      rule_(engine::split_rule()),
      max_entries_(std::max(0, max_entries)),
      can_rewind_(model.can_rewind()) {}

int64_t PrefixCache::reusable(const Offer& o, const std::vector<int32_t>& ids) const {
  const int64_t n = int64_t(ids.size());
  const int64_t m = int64_t(o.tokens.size());
  const int64_t lcp = int64_t(common_prefix(o.tokens, ids));
  if (lcp == n && m == n && o.logits_exact) return n;  // the same prompt: nothing to evaluate
  int64_t r = std::min({lcp, o.exact_len, n - 1});
  r -= r % rule_.group;
  while (r > 0 && !continues_exactly(r, n)) r -= rule_.group;
  return r > 0 && (can_rewind_ || r == m) ? r : 0;  // recurrent: whole only
}

bool PrefixCache::continues_exactly(int64_t r, int64_t n) const {
  // Recurrent states continue in one call only (their snapshots are placed for that).
  return can_rewind_ ? !rule_.continuation(r, n).empty() : rule_.exact_split(r, n);
}

size_t PrefixCache::victim(const Offer& incoming, Upcoming upcoming) const {
  const size_t n = cache_.size();
  std::vector<int64_t> loss(n, 0);
  for (const auto& u : upcoming.first(std::min(upcoming.size(), kMaxLookahead))) {
    // What each entry offers u; u loses by an eviction only when the evicted entry alone
    // offered the most (then it gets the second best).
    std::vector<int64_t> r(n);
    int64_t best = reusable(incoming, u), second = 0;
    int at_best = 1;
    for (size_t i = 0; i < n; ++i) {
      r[i] = reusable(offer_of(*cache_[i]), u);
      if (r[i] > best)
        second = best, best = r[i], at_best = 1;
      else if (r[i] == best)
        ++at_best;
      else
        second = std::max(second, r[i]);
    }
    for (size_t i = 0; i < n; ++i)
      if (r[i] == best && at_best == 1) loss[i] += best - second;
  }
  size_t v = 0;
  for (size_t i = 1; i < n; ++i)
    if (loss[i] < loss[v] || (loss[i] == loss[v] && cache_[i]->last_use < cache_[v]->last_use))
      v = i;
  return v;
}

std::vector<std::shared_ptr<PrefixCache::Entry>> PrefixCache::make_room(const Offer& incoming,
                                                                        Upcoming upcoming) {
  std::vector<std::shared_ptr<Entry>> evicted;
  while (max_entries_ > 0 && int(cache_.size()) >= max_entries_) {
    const auto at = cache_.begin() + std::ptrdiff_t(victim(incoming, upcoming));
    evicted.push_back(std::move(*at));
    cache_.erase(at);
  }
  return evicted;
}

void PrefixCache::remember(std::shared_ptr<Entry> e, Upcoming upcoming) {
  if (max_entries_ == 0) return;
  e->last_use = ++clock_;
  (void)make_room(offer_of(*e), upcoming);
  cache_.push_back(std::move(e));
}

std::vector<int64_t> PrefixCache::snapshot_points(const std::vector<int32_t>& ids, int64_t from,
                                                  Upcoming upcoming, bool extended) const {
  if (max_entries_ == 0) return {};
  const int64_t n = int64_t(ids.size());
  std::vector<int64_t> shared;
  if (extended) shared.push_back(n);
  for (const auto& e : cache_) shared.push_back(int64_t(common_prefix(e->seq->tokens(), ids)));
  for (const auto& u : upcoming) shared.push_back(int64_t(common_prefix(u, ids)));
  std::sort(shared.begin(), shared.end());
  shared.erase(std::unique(shared.begin(), shared.end()), shared.end());
  // Exact only where the whole prompt may be split and where each part evaluated on its own
  // ends in a chunk the batch kernels take.
  std::vector<int64_t> points;
  for (const int64_t l : shared) {
    for (int64_t c = std::min(l, n - 1) / rule_.group * rule_.group; c > from; c -= rule_.group)
      if (rule_.exact_split(c, n) && rule_.exact_segment(from, c)) {
        points.push_back(c);
        from = c;
        break;
      }
    if (int(points.size()) == kMaxSnapshots) break;
  }
  return points;
}

Result<std::shared_ptr<const PrefixCache::Entry>> PrefixCache::prefill(
    const std::vector<int32_t>& ids, Upcoming upcoming, bool extended) {
  const int64_t n = int64_t(ids.size());
  stats_.prompts += 1;
  stats_.prompt_tokens += n;
  // Each cached sequence offers the longest exact split point within its common prefix with
  // the prompt (one token short of the prompt at most: the next-token logits need one).
  std::vector<std::pair<int64_t, std::shared_ptr<Entry>>> offers;
  for (const auto& e : cache_) {
    const int64_t r = reusable(offer_of(*e), ids);
    if (r == n) {  // the same prompt: nothing to evaluate
      e->last_use = ++clock_;
      stats_.reused_tokens += n;
      return std::shared_ptr<const Entry>(e);
    }
    if (r > 0) offers.emplace_back(r, e);
  }
  std::stable_sort(offers.begin(), offers.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::unique_ptr<engine::Sequence> seq;
  int64_t reused = 0;
  // Every entry that offered a prefix counts as used (a shorter one, such as the system
  // prompt's snapshot, serves the next prompt that does not share the longer one).
  for (auto it = offers.rbegin(); it != offers.rend(); ++it) it->second->last_use = ++clock_;
  // This prompt's entry takes a place, made before anything is copied or evaluated: the
  // cache and the sequence in flight together hold at most max_entries sequences.
  const int64_t exact_len = rule_.exact_prefix(n);
  std::vector<std::shared_ptr<Entry>> evicted = make_room(Offer{ids, exact_len, true}, upcoming);
  // Evicted entries that nobody else holds (their references: `evicted`, `offers`) go before
  // anything is copied; the best offer's, if it is one of them, is continued in place.
  std::unique_ptr<engine::Sequence> lent;
  for (const auto& e : evicted) {
    const auto it =
        std::find_if(offers.begin(), offers.end(), [&](const auto& o) { return o.second == e; });
    if (it == offers.end() || e.use_count() != 2) continue;
    if (it == offers.begin())
      lent = std::move(e->seq);
    else
      offers.erase(it);
  }
  evicted.clear();
  for (auto& [r, e] : offers) {
    if (lent) stats_.lent += 1;
    auto c = lent ? std::move(lent) : e->seq->clone();
    if (c->truncate(int(r))) {
      seq = std::move(c), reused = r;
      break;
    }
  }
  offers.clear();
  if (!seq) seq = model_.new_sequence();
  stats_.reused_tokens += reused;
  int64_t done = reused;
  // A recurrent state cannot be cut back later, so keep snapshots where this prompt stops
  // sharing tokens with cached or upcoming ones (the system prompt, a pair's instruction): the
  // next prompt that shares that much continues a snapshot whole.
  if (!can_rewind_) {
    for (const int64_t c : snapshot_points(ids, reused, upcoming, extended)) {
      GAVEL_TRY(
          model_.eval(*seq, std::span(ids).subspan(size_t(done), size_t(c - done)), {}).status());
      stats_.evaluated_tokens += c - done;
      auto snap = std::make_shared<Entry>();
      snap->seq = seq->clone();
      snap->exact_len = c;
      remember(std::move(snap), upcoming);
      stats_.snapshots += 1;
      done = c;
    }
  }
  // The rest in the calls the split rule gives (one, or one per chunk of the whole prompt).
  const std::vector<int64_t> ends =
      done == 0 ? std::vector<int64_t>{n} : rule_.continuation(done, n);
  if (ends.empty())
    return Error{fmt::format("prefix cache: no exact continuation from {} of {} tokens", done, n),
                 StatusCode::kInternal};
  engine::Logits logits;
  for (const int64_t end : ends) {
    const int last = int(end - done) - 1;
    GAVEL_ASSIGN(logits,
                 model_.eval(*seq, std::span(ids).subspan(size_t(done), size_t(end - done)),
                             end == n ? std::span<const int>(&last, 1) : std::span<const int>()));
    stats_.evaluated_tokens += end - done;
    done = end;
  }
  auto e = std::make_shared<Entry>();
  e->seq = std::move(seq);
  e->last_logits = std::move(logits.data);
  e->exact_len = exact_len;
  e->logits_exact = true;
  remember(e, upcoming);
  return std::shared_ptr<const Entry>(std::move(e));
}

}  // namespace gavel::backend
