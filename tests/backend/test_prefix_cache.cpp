// PrefixCache on tiny random-weight GGUFs: whatever it reuses, the logits are bit for bit those
// of evaluating each prompt whole in a fresh sequence; it reuses what the engine's split rule
// allows; it evicts what upcoming prompts need least, else the least recently used entry; recurrent
// models continue snapshots only. Registered at the best ISA level and at AVX2
// (tests/backend/CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "../tiny_models.h"
#include "backend/prefix_cache.h"
#include "engine/engine.h"

namespace {

using gavel::backend::PrefixCache;

std::string tiny(const std::string& name, const std::string& tool_args) {
  return gavel::testing::tiny_model(name, tool_args);
}

std::unique_ptr<gavel::engine::LoadedModel> load(const std::string& path) {
  if (path.empty()) return nullptr;
  auto m = gavel::engine::load_model(path, {2, 2048});
  EXPECT_TRUE(m.ok()) << m.message();
  return m.ok() ? std::move(m).value() : nullptr;
}

// Next-token logits of `ids` evaluated whole in a fresh sequence.
std::vector<float> whole(gavel::engine::LoadedModel& m, const std::vector<int32_t>& ids) {
  auto seq = m.new_sequence();
  const int last = int(ids.size()) - 1;
  auto l = m.eval(*seq, ids, std::span<const int>(&last, 1));
  EXPECT_TRUE(l.ok()) << l.message();
  return l.ok() ? l->data : std::vector<float>{};
}

std::vector<int32_t> tokens(int n, int seed) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(int32_t((i * 131 + seed * 977 + 7) % 900 + 1));
  return t;
}

std::vector<int32_t> join(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Prompts that share a system prompt, an instruction, a long (two-chunk) answer, or all of a
// cached prompt, one that extends a cached prompt by a single token, and two just over a chunk.
std::vector<std::vector<int32_t>> traffic() {
  const auto sys = tokens(37, 1), instr = tokens(21, 2), essay = tokens(560, 3);
  const auto p1 = join(join(sys, instr), tokens(15, 4));
  const auto p2 = join(join(sys, instr), tokens(19, 5));
  const auto l1 = join(join(sys, essay), tokens(9, 6));
  const auto l2 = join(join(sys, essay), tokens(30, 7));
  return {p1, p2, p1, join(sys, tokens(11, 8)), l1, l2, join(l2, tokens(1, 9)),
          join(p2, tokens(40, 10)),
          // Just over one chunk (512 + 5, 512 + 4): continued in the whole prompt's chunks.
          join(join(sys, tokens(300, 11)), tokens(180, 12)),
          join(join(sys, tokens(300, 11)), tokens(179, 13))};
}

TEST(PrefixCache, ReuseIsBitIdenticalAndFollowsTheSplitRule) {
  const std::pair<const char*, const char*> models[] = {
      {"qwen2-f32.gguf", "make_tiny_gguf.py --variant qwen2 --type f32"},
      {"qwen2-q4_k_m.gguf", "make_tiny_gguf.py --variant qwen2 --type f32 --type q4_k_m"},
      {"qwen2-q8_0.gguf", "make_tiny_gguf.py --variant qwen2 --type f32 --type q8_0"}};
  for (const auto& [name, tool] : models) {
    SCOPED_TRACE(name);
    auto m = load(tiny(name, tool));
    ASSERT_TRUE(m);
    PrefixCache cache(*m, 16);
    const gavel::engine::SplitRule rule = gavel::engine::split_rule();
    std::vector<std::vector<int32_t>> seen;
    int64_t want_reused = 0;
    for (const auto& ids : traffic()) {
      auto e = cache.prefill(ids, {}, false);
      ASSERT_TRUE(e.ok()) << e.message();
      EXPECT_EQ((*e)->seq->tokens(), ids);
      EXPECT_EQ((*e)->last_logits, whole(*m, ids));  // bit for bit
      // The reuse the rule allows: an identical prompt whole, else the longest exact split
      // within a common prefix and the earlier prompt's exact part.
      const int64_t n = int64_t(ids.size());
      int64_t best = 0;
      for (const auto& s : seen) {
        if (s == ids) {
          best = n;
          break;
        }
        const int64_t lcp =
            std::mismatch(s.begin(), s.begin() + int64_t(std::min(s.size(), ids.size())),
                          ids.begin())
                .first -
            s.begin();
        for (int64_t r = std::min({lcp, rule.exact_prefix(int64_t(s.size())), n - 1}); r > 0; --r)
          if (!rule.continuation(r, n).empty()) {
            best = std::max(best, r);
            break;
          }
      }
      want_reused += best;
      seen.push_back(ids);
    }
    EXPECT_EQ(cache.stats().reused_tokens, want_reused);
    EXPECT_GT(cache.stats().reused_tokens, 600);  // the long answer was shared
    EXPECT_EQ(cache.stats().reused_tokens + cache.stats().evaluated_tokens,
              cache.stats().prompt_tokens);
  }
}

TEST(PrefixCache, EvictsTheLeastRecentlyUsed) {
  auto m = load(tiny("qwen2-f32.gguf", "make_tiny_gguf.py --variant qwen2 --type f32"));
  ASSERT_TRUE(m);
  PrefixCache cache(*m, 2);
  const auto a = tokens(40, 11), b = tokens(40, 12), c = tokens(40, 13);
  for (const auto& p : {a, b, a, c}) ASSERT_TRUE(cache.prefill(p, {}, false).ok());
  EXPECT_EQ(cache.size(), 2u);
  // a was used after b, so b was evicted: a is still served whole, b is evaluated again.
  const int64_t before = cache.stats().reused_tokens;
  ASSERT_TRUE(cache.prefill(a, {}, false).ok());
  EXPECT_EQ(cache.stats().reused_tokens, before + 40);
  ASSERT_TRUE(cache.prefill(b, {}, false).ok());
  EXPECT_EQ(cache.stats().reused_tokens, before + 40);
  // No entries: nothing is kept or reused.
  PrefixCache none(*m, 0);
  for (const auto& p : {a, a}) ASSERT_TRUE(none.prefill(p, {}, false).ok());
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.stats().reused_tokens, 0);
}

// A full cache makes room with the entry the upcoming prompts need least: here the older
// entry, which LRU alone would evict, is the one the next prompt continues.
TEST(PrefixCache, EvictionKeepsWhatUpcomingPromptsContinue) {
  auto m = load(tiny("qwen2-f32.gguf", "make_tiny_gguf.py --variant qwen2 --type f32"));
  ASSERT_TRUE(m);
  const auto shared = tokens(64, 21);
  const auto a = join(shared, tokens(16, 22)), b = tokens(80, 23), c = tokens(80, 24);
  const auto next = join(shared, tokens(16, 25));
  const auto rule = gavel::engine::split_rule();
  int64_t want = 64;
  while (want > 0 && rule.continuation(want, 80).empty()) want -= rule.group;
  ASSERT_GT(want, 0);
  const std::vector<std::vector<int32_t>> upcoming = {next};
  PrefixCache cache(*m, 2);
  ASSERT_TRUE(cache.prefill(a, {}, false).ok());
  ASSERT_TRUE(cache.prefill(b, {}, false).ok());
  ASSERT_TRUE(cache.prefill(c, upcoming, false).ok());  // evicts b, not the older a
  EXPECT_EQ(cache.size(), 2u);
  const int64_t before = cache.stats().reused_tokens;
  auto e = cache.prefill(next, {}, false);
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(cache.stats().reused_tokens - before, want);
  EXPECT_EQ((*e)->last_logits, whole(*m, next));
  // Without upcoming prompts the least recently used goes: b is evaluated again.
  PrefixCache lru(*m, 2);
  for (const auto& p : {a, b, c}) ASSERT_TRUE(lru.prefill(p, {}, false).ok());
  ASSERT_TRUE(lru.prefill(next, {}, false).ok());
  EXPECT_EQ(lru.stats().reused_tokens, 0);
}

// The sequence being evaluated takes one of the cache's places before anything is copied: a
// full cache evicts first, and the evicted entry that offers the prefix is continued itself
// (no copy, never max_entries + 1 sequences), with the bits of a whole evaluation.
TEST(PrefixCache, MakesRoomBeforeEvaluatingAndLendsTheEvictedSequence) {
  auto m = load(tiny("qwen2-f32.gguf", "make_tiny_gguf.py --variant qwen2 --type f32"));
  ASSERT_TRUE(m);
  const auto shared = tokens(64, 31);
  const auto a = join(shared, tokens(16, 32)), b = join(shared, tokens(24, 33));
  PrefixCache cache(*m, 1);
  ASSERT_TRUE(cache.prefill(a, {}, false).ok());
  auto e = cache.prefill(b, {}, false);
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.stats().lent, 1);
  EXPECT_GT(cache.stats().reused_tokens, 0);
  EXPECT_EQ((*e)->last_logits, whole(*m, b));
  // An entry someone still holds is copied, not lent: the holder's sequence stays whole.
  const auto held = *e;
  const auto c = join(shared, tokens(20, 34));
  auto f = cache.prefill(c, {}, false);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ(cache.stats().lent, 1);
  EXPECT_EQ(held->seq->tokens(), b);
  EXPECT_EQ((*f)->last_logits, whole(*m, c));
}

// Recurrent states cannot be cut back: a prompt continues a cached sequence only whole, and
// snapshots are kept where prompts stop sharing tokens with upcoming ones.
TEST(PrefixCache, RecurrentModelsContinueSnapshotsExactly) {
  for (const std::string name : {"qwen35-tiny-f32.gguf", "qwen35-tiny-q4_k.gguf"}) {
    SCOPED_TRACE(name);
    auto m = load(tiny(name, "make_tiny_qwen35.py --which tiny"));
    ASSERT_TRUE(m);
    ASSERT_FALSE(m->can_rewind());
    PrefixCache cache(*m, 8);
    const auto sys = tokens(40, 21);
    const std::vector<std::vector<int32_t>> prompts = {
        join(sys, tokens(30, 22)), join(sys, tokens(25, 23)), join(sys, tokens(33, 24))};
    for (size_t i = 0; i < prompts.size(); ++i) {
      const auto upcoming = PrefixCache::Upcoming(prompts).subspan(i + 1);
      auto e = cache.prefill(prompts[i], upcoming, false);
      ASSERT_TRUE(e.ok()) << e.message();
      EXPECT_EQ((*e)->last_logits, whole(*m, prompts[i])) << i;
    }
    EXPECT_GE(cache.stats().snapshots, 1);
    EXPECT_GE(cache.stats().reused_tokens, 2 * 40);  // the system prompt's snapshot, twice
  }
}

}  // namespace
