// Engine behaviour on a tiny generated model (tools/make_tiny_gguf.py) and the real SmolLM2:
// prefill-then-extend equals one batch, clones are independent, errors name the numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
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
    ASSERT_TRUE((*m)->eval(*s2, std::span(ids).first(25), std::span<const int>(&none, 0)).ok());
    auto fork = s2->clone();
    const int l2 = 14;
    auto b = (*m)->eval(*s2, std::span(ids).subspan(25), std::span<const int>(&l2, 1));
    ASSERT_TRUE(b.ok());
    auto c = (*m)->eval(*fork, std::span(ids).subspan(25), std::span<const int>(&l2, 1));
    ASSERT_TRUE(c.ok());
    const auto la = engine::log_softmax(a->row(0)), lb = engine::log_softmax(b->row(0)),
               lc = engine::log_softmax(c->row(0));
    EXPECT_LT(max_diff(la, lb), 1e-5) << name;
    EXPECT_EQ(max_diff(lb, lc), 0.0) << name;
    // Rewind and replay gives the same distribution again.
    ASSERT_TRUE(s2->truncate(25));
    auto d = (*m)->eval(*s2, std::span(ids).subspan(25), std::span<const int>(&l2, 1));
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
