// The qwen35 model through the engine API on the random-weight tiny GGUFs: prefix state reuse
// (clone) against a full recompute, token-by-token decode against batched prefill, layer
// layout and MTP skipping. llama.cpp parity lives in tests/python/test_qwen35_parity.py.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "../tiny_models.h"
#include "engine/engine.h"
#include "gguf/gguf.h"
#include "model/qwen35.h"

namespace {

namespace fs = std::filesystem;

std::string tiny_path(const std::string& name) { return gavel::testing::tiny_qwen35(name); }

std::vector<int32_t> random_tokens(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(0, 248000);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = d(rng);
  return t;
}

double max_logprob_diff(std::span<const float> a, std::span<const float> b) {
  const auto la = gavel::engine::log_softmax(a), lb = gavel::engine::log_softmax(b);
  double m = 0;
  for (size_t i = 0; i < la.size(); ++i) m = std::max(m, std::abs(la[i] - lb[i]));
  return m;
}

int argmax(std::span<const float> v) {
  return int(std::max_element(v.begin(), v.end()) - v.begin());
}

TEST(Qwen35Model, LayoutFromFullAttentionInterval) {
  auto f = gavel::gguf::File::open(tiny_path("qwen35-tiny-f32.gguf"));
  ASSERT_TRUE(f.ok()) << f.message();
  auto lay = gavel::model::qwen35_layout(**f);
  ASSERT_TRUE(lay.ok()) << lay.message();
  EXPECT_EQ(lay->n_layer, 8);
  EXPECT_EQ(lay->n_nextn, 0);
  EXPECT_EQ(lay->pattern(), "LLLA LLLA");
  EXPECT_EQ(lay->n_group, 2);
  EXPECT_EQ(lay->dt_rank, 4);

  auto g = gavel::gguf::File::open(tiny_path("qwen35-tiny-untied-mtp-f32.gguf"));
  ASSERT_TRUE(g.ok()) << g.message();
  auto lay2 = gavel::model::qwen35_layout(**g);
  ASSERT_TRUE(lay2.ok()) << lay2.message();
  EXPECT_EQ(lay2->n_layer, 4);  // block_count 5 includes one MTP block
  EXPECT_EQ(lay2->n_nextn, 1);
  EXPECT_EQ(lay2->pattern(), "LLLA");
}

TEST(Qwen35Model, LoadsTiedAndUntiedAndSkipsMtp) {
  for (const char* name : {"qwen35-tiny-q8_0.gguf", "qwen35-tiny-untied-mtp-q8_0.gguf"}) {
    auto m = gavel::engine::load_model(tiny_path(name), {2, 256});
    ASSERT_TRUE(m.ok()) << name << ": " << m.message();
    EXPECT_EQ((*m)->hparams().n_vocab, 248320);
    auto seq = (*m)->new_sequence();
    const auto toks = random_tokens(5, 1);
    const int last = 4;
    auto lg = (*m)->eval(*seq, toks, std::span<const int>(&last, 1));
    ASSERT_TRUE(lg.ok()) << lg.message();
    for (float v : lg->row(0)) ASSERT_TRUE(std::isfinite(v));
  }
}

// A shared prefix (system prompt + instruction) evaluated once and cloned per judgment must
// give the same continuation logits as recomputing the whole sequence.
TEST(Qwen35Model, PrefixStateReuseMatchesFullRecompute) {
  auto m = gavel::engine::load_model(tiny_path("qwen35-tiny-f32.gguf"), {2, 2048});
  ASSERT_TRUE(m.ok()) << m.message();
  auto& model = **m;
  const auto prefix = random_tokens(300, 2);  // crosses chunks of the delta rule
  const std::vector<std::vector<int32_t>> conts = {random_tokens(400, 3), random_tokens(9, 4)};

  auto base = model.new_sequence();
  ASSERT_TRUE(model.eval(*base, prefix, {}).ok());
  for (const auto& cont : conts) {
    std::vector<int32_t> all = prefix;
    all.insert(all.end(), cont.begin(), cont.end());
    auto full = model.new_sequence();
    const int last_all = int(all.size()) - 1, last = int(cont.size()) - 1;
    auto ref = model.eval(*full, all, std::span<const int>(&last_all, 1));
    ASSERT_TRUE(ref.ok()) << ref.message();

    auto seq = base->clone();  // base stays at the prefix for the next continuation
    auto got = model.eval(*seq, cont, std::span<const int>(&last, 1));
    ASSERT_TRUE(got.ok()) << got.message();
    EXPECT_EQ(seq->n_past(), int(all.size()));
    EXPECT_EQ(argmax(got->row(0)), argmax(ref->row(0)));
    EXPECT_LT(max_logprob_diff(got->row(0), ref->row(0)), 1e-3);
  }
  EXPECT_EQ(base->n_past(), 300);
}

// Decoding one token at a time (recurrent delta rule, one KV row per call) against one batched
// prefill (chunked delta rule): same logits at every position.
TEST(Qwen35Model, TokenByTokenMatchesBatch) {
  auto m = gavel::engine::load_model(tiny_path("qwen35-tiny-f32.gguf"), {2, 512});
  ASSERT_TRUE(m.ok()) << m.message();
  auto& model = **m;
  const auto toks = random_tokens(80, 5);
  std::vector<int> rows(toks.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = int(i);
  auto batch_seq = model.new_sequence();
  auto batch = model.eval(*batch_seq, toks, rows);
  ASSERT_TRUE(batch.ok()) << batch.message();
  auto seq = model.new_sequence();
  double worst = 0;
  for (size_t i = 0; i < toks.size(); ++i) {
    const int zero = 0;
    auto one = model.eval(*seq, std::span<const int32_t>(&toks[i], 1), std::span<const int>(&zero, 1));
    ASSERT_TRUE(one.ok()) << one.message();
    worst = std::max(worst, max_logprob_diff(one->row(0), batch->row(int(i))));
    EXPECT_EQ(argmax(one->row(0)), argmax(batch->row(int(i)))) << "position " << i;
  }
  EXPECT_LT(worst, 1e-3);
}

TEST(Qwen35Model, RecurrentStateCannotRewind) {
  auto m = gavel::engine::load_model(tiny_path("qwen35-tiny-q8_0.gguf"), {2, 128});
  ASSERT_TRUE(m.ok()) << m.message();
  auto seq = (*m)->new_sequence();
  ASSERT_TRUE((*m)->eval(*seq, random_tokens(10, 6), {}).ok());
  EXPECT_TRUE(seq->truncate(10));   // no-op
  EXPECT_FALSE(seq->truncate(5));   // the delta state holds no history to rewind to
}

TEST(Qwen35Model, ContextOverflowIsAnError) {
  auto m = gavel::engine::load_model(tiny_path("qwen35-tiny-q8_0.gguf"), {2, 16});
  ASSERT_TRUE(m.ok()) << m.message();
  auto seq = (*m)->new_sequence();
  auto r = (*m)->eval(*seq, random_tokens(17, 7), {});
  EXPECT_FALSE(r.ok());
}

}  // namespace
