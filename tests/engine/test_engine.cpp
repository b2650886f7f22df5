// Engine behaviour on a tiny generated model (tools/make_tiny_gguf.py) and the real SmolLM2:
// prefill-then-extend equals one batch, clones are independent, errors name the numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "../tiny_models.h"
#include "engine/engine.h"

using namespace gavel;

namespace {
// "<variant>-<type>.gguf" from the shared tiny-model cache, made when missing.
std::string tiny(const std::string& name) {
  if (name.rfind("qwen35-", 0) == 0) return gavel::testing::tiny_qwen35(name);
  const size_t dash = name.rfind('-');
  return gavel::testing::tiny_dense(name.substr(0, dash),
                                    name.substr(dash + 1, name.size() - dash - 6));
}
double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}
}  // namespace

TEST(Engine, ExtendingASequenceEqualsOneBatch) {
  for (const char* name : {"qwen3-q4_k_m.gguf", "llama-rope-q8_0.gguf", "qwen2-f16.gguf"}) {
    const std::string path = tiny(name);
    ASSERT_FALSE(path.empty()) << name;
    auto m = engine::load_model(path, {2, 256});
    ASSERT_TRUE(m.ok()) << m.message();
    std::vector<int32_t> ids;
    for (int i = 0; i < 40; ++i) ids.push_back((i * 131 + 7) % 1000 + 1);
    auto s1 = (*m)->new_sequence();
    const int last = 39;
    auto a = (*m)->eval(*s1, ids, std::span<const int>(&last, 1));
    ASSERT_TRUE(a.ok()) << a.message();
    auto s2 = (*m)->new_sequence();
    const int none = 0;
    ASSERT_TRUE((*m)->eval(*s2, std::span(ids).first(24), std::span<const int>(&none, 0)).ok());
    auto fork = s2->clone();
    const int l2 = 15;
    // 24 is an exact split of 40 tokens (engine::SplitRule): the same bits as one batch.
    ASSERT_TRUE(engine::split_rule().exact_split(24, 40));
    auto b = (*m)->eval(*s2, std::span(ids).subspan(24), std::span<const int>(&l2, 1));
    ASSERT_TRUE(b.ok());
    auto c = (*m)->eval(*fork, std::span(ids).subspan(24), std::span<const int>(&l2, 1));
    ASSERT_TRUE(c.ok());
    const auto la = engine::log_softmax(a->row(0)), lb = engine::log_softmax(b->row(0)),
               lc = engine::log_softmax(c->row(0));
    EXPECT_EQ(max_diff(la, lb), 0.0) << name;
    EXPECT_EQ(max_diff(lb, lc), 0.0) << name;
    // Rewind and replay gives the same distribution again.
    ASSERT_TRUE(s2->truncate(24));
    auto d = (*m)->eval(*s2, std::span(ids).subspan(24), std::span<const int>(&l2, 1));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(max_diff(lb, engine::log_softmax(d->row(0))), 0.0);
    double total = 0;
    for (double v : la) total += std::exp(v);
    EXPECT_NEAR(total, 1.0, 1e-6);
    auto top = engine::top_k(la, 5);
    ASSERT_EQ(top.size(), 5u);
    for (size_t i = 1; i < top.size(); ++i) EXPECT_GE(top[i - 1].logprob, top[i].logprob);
  }
}

TEST(Engine, ClearErrors) {
  auto missing = engine::load_model("/nonexistent/model.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("/nonexistent/model.gguf"), std::string::npos);

  auto m = engine::load_model(tiny("qwen2-q8_0.gguf"), {1, 16});
  ASSERT_TRUE(m.ok()) << m.message();
  auto s = (*m)->new_sequence();
  std::vector<int32_t> ids(20, 5);
  auto r = (*m)->eval(*s, ids, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("20"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("16"), std::string::npos) << r.message();
  std::vector<int32_t> bad = {1, 1 << 30};
  auto r2 = (*m)->eval(*s, bad, {});
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.message().find("vocabulary"), std::string::npos);

  auto other = engine::load_model(tiny("qwen35-tiny-f32.gguf"), {1, 16});
  if (std::filesystem::exists(tiny("qwen35-tiny-f32.gguf")) && !other.ok()) {
    EXPECT_NE(other.message().find("qwen35"), std::string::npos) << other.message();
  }
}

TEST(Engine, ExactSplitRule) {
  const engine::SplitRule rule = engine::split_rule();
  EXPECT_EQ(rule.chunk, 512);
  EXPECT_EQ(rule.min_batch, 8);
  EXPECT_EQ(rule.group, 4);
  auto exact_split = [&](int64_t r, int64_t n) { return rule.exact_split(r, n); };
  auto exact_prefix = [&](int64_t n) { return rule.exact_prefix(n); };
  // Measured on Qwen2.5-Coder-0.5B (Q4_K/Q5_0/Q6_K/Q8_0), a 569-token prompt: a split at r
  // gave the same logits bit for bit for r = 8, 12, 16, 20, 64, 100, 104, 560 and differed
  // by 0.26-0.39 for r = 1, 2, 3, 5, 7, 17, 101-103, 557, 561, 562, 564-568, and for r = 4
  // (the 4-token prefix itself ran as a short chunk, see exact_prefix).
  for (int r : {8, 12, 16, 20, 64, 100, 104, 560}) EXPECT_TRUE(exact_split(r, 569)) << r;
  for (int r : {1, 2, 3, 5, 7, 17, 101, 102, 103, 557, 561, 562, 564, 565, 566, 567, 568})
    EXPECT_FALSE(exact_split(r, 569)) << r;
  EXPECT_EQ(exact_prefix(4), 0);
  EXPECT_EQ(exact_prefix(8), 8);
  EXPECT_EQ(exact_prefix(560), 560);
  EXPECT_EQ(exact_prefix(569), 568);
  EXPECT_EQ(exact_prefix(515), 512);  // last chunk of 3 tokens
  EXPECT_TRUE(exact_split(512, 515));
  EXPECT_FALSE(exact_split(508, 515));
  EXPECT_FALSE(exact_split(0, 10));
  EXPECT_FALSE(exact_split(12, 12));
  EXPECT_TRUE(rule.exact_segment(0, 8));
  EXPECT_FALSE(rule.exact_segment(8, 12));   // a 4-token call: a short chunk
  EXPECT_TRUE(rule.exact_segment(4, 516));   // one chunk of 512
  EXPECT_FALSE(rule.exact_segment(0, 515));  // 512 + 3
  EXPECT_FALSE(rule.exact_segment(12, 12));
  // Continuations: one call where exact_split holds, else calls ending at the whole prompt's
  // chunk boundaries where r's chunk keeps min_batch tokens after r.
  using Ends = std::vector<int64_t>;
  EXPECT_EQ(rule.continuation(100, 569), Ends{569});
  EXPECT_EQ(rule.continuation(512, 515), Ends{515});
  EXPECT_EQ(rule.continuation(336, 516), (Ends{512, 516}));  // 512 + 4: the short chunk kept
  EXPECT_EQ(rule.continuation(504, 516), (Ends{512, 516}));
  EXPECT_EQ(rule.continuation(508, 516), Ends{});              // 4 tokens left in r's chunk
  EXPECT_EQ(rule.continuation(338, 516), Ends{});              // not a multiple of the group
  EXPECT_EQ(rule.continuation(484, 1000), (Ends{512, 1000}));  // one call would end in 4
  EXPECT_EQ(rule.continuation(100, 1030), (Ends{512, 1024, 1030}));
  EXPECT_EQ(rule.continuation(0, 10), Ends{});
}

namespace {
std::string real_model(const std::string& file) {
  const char* env = std::getenv("GAVEL_MODELS");
  const std::filesystem::path dir =
      env ? std::filesystem::path(env) : gavel::testing::home_dir() / ".cache/gavel/models";
  const std::filesystem::path p = dir / file;
  EXPECT_TRUE(std::filesystem::exists(p)) << p << " missing (run scripts/setup.sh)";
  return p.string();
}
bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}
}  // namespace

// Batched decoding (eval_decode) gives every sequence the bits of decoding it alone, whatever
// the batch holds and in whatever order: on every weight type of the tiny models (F32, F16,
// Q8_0, Q4_K/Q6_K, repacked Q4_K), the recurrent qwen35 and the real SmolLM2 (Q4_1) and
// Qwen2.5-Coder (Q5_0/Q8_0/Q4_K/Q6_K).
TEST(Engine, BatchedDecodingIsBatchInvariant) {
  std::vector<std::string> paths;
  for (const char* name : {"qwen3-q4_k_m.gguf", "llama-rope-q8_0.gguf", "qwen2-f16.gguf",
                           "llama3-f32.gguf", "qwen35-tiny-q8_0.gguf"})
    paths.push_back(tiny(name));
  paths.push_back(real_model("smollm2-135m-instruct-q4_1.gguf"));
  paths.push_back(real_model("qwen2.5-coder-0.5b-instruct.gguf"));
  constexpr int kSeqs = 5, kSteps = 6;
  const int prompt_len[kSeqs] = {3, 17, 40, 9, 25};
  for (const std::string& path : paths) {
    ASSERT_FALSE(path.empty());
    auto m = engine::load_model(path, {2, 128});
    ASSERT_TRUE(m.ok()) << m.message();
    engine::LoadedModel& model = **m;
    // Prompts of different lengths, so the sequences sit at different positions.
    std::vector<std::unique_ptr<engine::Sequence>> alone, batched;
    std::vector<int32_t> next(kSeqs);
    for (int s = 0; s < kSeqs; ++s) {
      std::vector<int32_t> ids;
      for (int i = 0; i < prompt_len[s]; ++i) ids.push_back((i * 131 + s * 977 + 7) % 1000 + 1);
      alone.push_back(model.new_sequence());
      const int last = prompt_len[s] - 1;
      auto l = model.eval(*alone.back(), ids, std::span<const int>(&last, 1));
      ASSERT_TRUE(l.ok()) << l.message();
      batched.push_back(alone.back()->clone());
      next[size_t(s)] = int32_t((s * 389 + 11) % 1000 + 1);
    }
    // Each step decodes a different subset in a different order; a sequence outside the subset
    // waits for a later step. The reference decodes the same tokens one sequence at a time.
    std::vector<int> steps_done(kSeqs, 0);
    for (int step = 0; step < kSteps * 2; ++step) {
      std::vector<int> pick;
      for (int k = 0; k < kSeqs; ++k) {
        const int s = (k * 3 + step) % kSeqs;
        if (steps_done[size_t(s)] < kSteps && (step + s) % 3 != 0) pick.push_back(s);
      }
      if (pick.empty()) continue;
      std::vector<engine::Sequence*> seqs;
      std::vector<int32_t> toks;
      for (int s : pick) {
        seqs.push_back(batched[size_t(s)].get());
        toks.push_back(next[size_t(s)]);
      }
      auto out = model.eval_decode(seqs, toks);
      ASSERT_TRUE(out.ok()) << out.message();
      ASSERT_EQ(out->rows(), int(pick.size()));
      const int zero = 0;
      for (size_t i = 0; i < pick.size(); ++i) {
        const int s = pick[i];
        auto ref = model.eval(*alone[size_t(s)], std::span(&next[size_t(s)], 1),
                              std::span<const int>(&zero, 1));
        ASSERT_TRUE(ref.ok()) << ref.message();
        EXPECT_TRUE(same_bits(out->row(int(i)), ref->row(0)))
            << path << ": sequence " << s << " at step " << steps_done[size_t(s)]
            << " in a batch of " << pick.size();
        // The next token: the argmax, so the sequences follow their own greedy paths.
        const auto row = ref->row(0);
        next[size_t(s)] = int32_t(std::max_element(row.begin(), row.end()) - row.begin());
        ++steps_done[size_t(s)];
      }
    }
    for (int s = 0; s < kSeqs; ++s) {
      EXPECT_EQ(steps_done[size_t(s)], kSteps) << s;
      EXPECT_EQ(batched[size_t(s)]->tokens(), alone[size_t(s)]->tokens());
    }
    // Bad batches are refused and change nothing.
    engine::Sequence* twice[2] = {batched[0].get(), batched[0].get()};
    const int32_t two[2] = {1, 2};
    auto dup = model.eval_decode(twice, two);
    EXPECT_FALSE(dup.ok());
    EXPECT_NE(dup.message().find("twice"), std::string::npos) << dup.message();
    engine::Sequence* one[1] = {batched[1].get()};
    const int32_t bad[1] = {-5};
    const int before = batched[1]->n_past();
    EXPECT_FALSE(model.eval_decode(one, bad).ok());
    EXPECT_FALSE(model.eval_decode(one, std::span(two)).ok());  // 1 sequence, 2 tokens
    EXPECT_EQ(batched[1]->n_past(), before);
  }
}
