#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <random>
#include <vector>

#include "../common/isa_levels.h"
#include "gguf/fp16.h"
#include "tensor/exact_order.h"
#include "tensor/ops.h"
#include "tensor/thread_pool.h"

using namespace gavel::tensor;
namespace gguf = gavel::gguf;

namespace {
// The F16C instructions, which the kernels use (this file itself is baseline x86-64).
__attribute__((target("f16c"))) float hw_to_f32(uint16_t h) { return _cvtsh_ss(h); }
__attribute__((target("f16c"))) uint16_t hw_to_f16(float f) { return _cvtss_sh(f, 0); }
}  // namespace

// The scalar conversions (gguf/fp16.h) are what code without F16C runs; the kernels run the
// instructions. Both must give the same bits.
TEST(Fp16, ScalarConversionMatchesHardwareOnAllHalves) {
  ASSERT_TRUE(cpu_info().f16c) << "this CPU has no F16C";
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = gguf::fp16_to_fp32_scalar(uint16_t(h));
    const float g = hw_to_f32(uint16_t(h));
    if (std::isnan(g)) {
      EXPECT_TRUE(std::isnan(f));
      continue;
    }
    ASSERT_EQ(gguf::bits_from_f32(f), gguf::bits_from_f32(g)) << h;
    ASSERT_EQ(gguf::fp32_to_fp16_scalar(g), h) << h;
  }
  for (float f : {1e-8f, 3.1e-5f, 6.0e-8f, 65519.f, 65520.f, 1e6f, -2.5f, 0.1f, 1.0009765f})
    EXPECT_EQ(gguf::fp32_to_fp16_scalar(f), hw_to_f16(f)) << f;
}

TEST(Fp16, ScalarRoundingMatchesHardwareAcrossFloats) {
  ASSERT_TRUE(cpu_info().f16c) << "this CPU has no F16C";
  // A stride coprime to 2^32 visits every exponent, both signs, the half subnormal range's
  // ties and NaNs with assorted payloads (quieted, top payload bits kept, as F16C does).
  uint32_t u = 0;
  for (int i = 0; i < (1 << 20); ++i, u += 4093u) {
    const float f = gguf::f32_from_bits(u);
    ASSERT_EQ(gguf::fp32_to_fp16_scalar(f), hw_to_f16(f)) << std::hex << u;
  }
}

TEST(Ops, RmsNorm) {
  std::vector<float> x = {1, -2, 3, -4}, w = {1, 1, 2, 0.5f}, y(4);
  rms_norm(x.data(), w.data(), y.data(), 4, 0.f);
  const float r = 1.f / std::sqrt(30.f / 4.f);
  EXPECT_FLOAT_EQ(y[0], r);
  EXPECT_FLOAT_EQ(y[2], 6 * r);
  EXPECT_FLOAT_EQ(y[3], -2 * r);
}

using OpsLevel = IsaLevelTest;

TEST_P(OpsLevel, RopeLayoutsRotatePairsAndPreserveNorm) {
  const int d = 8;
  std::vector<float> c(d / 2), s(d / 2);
  rope_angles(5, d, 10000.f, nullptr, c.data(), s.data());
  EXPECT_NEAR(c[0], std::cos(5.0), 1e-6);
  EXPECT_NEAR(s[1], std::sin(5.0 * std::pow(10000.0, -2.0 / 8)), 1e-6);
  std::vector<float> a = {1, 2, 3, 4, 5, 6, 7, 8}, b = a;
  rope_norm(a.data(), d, c.data(), s.data());
  rope_neox(b.data(), d, c.data(), s.data());
  // NORM rotates (x0, x1); NeoX rotates (x0, x4).
  EXPECT_NEAR(a[0], 1 * c[0] - 2 * s[0], 1e-6);
  EXPECT_NEAR(b[0], 1 * c[0] - 5 * s[0], 1e-6);
  EXPECT_NEAR(b[4], 5 * c[0] + 1 * s[0], 1e-6);
  double na = 0, nb = 0;
  for (int i = 0; i < d; ++i) na += a[i] * a[i], nb += b[i] * b[i];
  EXPECT_NEAR(na, 204, 1e-3);
  EXPECT_NEAR(nb, 204, 1e-3);
  // Frequency divisors (llama3 rope_freqs) slow a frequency down.
  std::vector<float> ff = {1, 1, 8, 8}, c2(4), s2(4);
  rope_angles(5, d, 10000.f, ff.data(), c2.data(), s2.data());
  EXPECT_NEAR(s2[2], std::sin(5.0 * std::pow(10000.0, -4.0 / 8) / 8), 1e-6);
}

TEST_P(OpsLevel, SoftmaxAndSwiglu) {
  std::vector<float> x = {1, 2, 3, 1000};
  softmax_ordered(x.data(), 3);
  EXPECT_NEAR(x[0] + x[1] + x[2], 1.0, 1e-6);
  EXPECT_NEAR(x[2] / x[1], std::exp(1.0), 1e-5);
  std::vector<float> g = {0.f, 2.f}, u = {3.f, 4.f};
  swiglu_ordered(g.data(), u.data(), 2);
  EXPECT_FLOAT_EQ(g[0], 0.f);
  EXPECT_NEAR(g[1], 2.0 / (1 + std::exp(-2.0)) * 4, 1e-5);
}

// llama.cpp's ssm_conv, as GCC compiles its scalar tap loop (read from the machine code of
// llama-cpp-python 0.3.36 built natively): the first taps are vectorized (chunks of W lanes,
// then one of W/2) and summed as rounded products in tap order; the remaining taps run in the
// scalar epilogue with a fused multiply-add. W = 8 for AVX2 and for AVX-512 where -march=native
// prefers 256-bit vectors (GCC's tuning for the AVX-512 cores it knows), 16 where it prefers 512.
TEST_P(OpsLevel, SsmConvRoundsTapsAsGgmlBuiltForTheLevel) {
  // lanes -> (kernel size -> taps summed as rounded products)
  std::vector<std::pair<int, std::vector<std::pair<int, int>>>> widths = {
      {8, {{3, 0}, {4, 4}, {7, 4}, {8, 8}, {12, 12}, {15, 12}}}};
  if (GetParam() == Isa::kAvx512)
    widths.push_back({16, {{4, 0}, {7, 0}, {8, 8}, {12, 8}, {16, 16}, {27, 24}}});
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.f, 1.f);
  const int C = 301;
  for (const auto& [lanes, cases] : widths) {
    for (const auto& [kernel, unfused] : cases) {
      std::vector<float> rows(size_t(kernel) * C), wt(size_t(kernel) * C), got(C);
      for (auto& v : rows) v = nd(rng);
      for (auto& v : wt) v = nd(rng);
      ssm_conv_token(rows.data(), wt.data(), kernel, C, got.data(), lanes);
      int differs_from_all_fused = 0;
      for (int c = 0; c < C; ++c) {
        volatile float want = 0.f;  // volatile: each rounded product stays a separate rounding
        float fused = 0.f;
        for (int j = 0; j < kernel; ++j) {
          const float x = rows[size_t(j) * C + c], w = wt[size_t(j) * C + c];
          if (j < unfused) {
            volatile float p = x * w;
            want = want + p;
          } else {
            want = std::fma(x, w, float(want));
          }
          fused = std::fma(x, w, fused);
        }
        ASSERT_EQ(got[size_t(c)], float(want))
            << lanes << " lanes, kernel " << kernel << " channel " << c;
        differs_from_all_fused += got[size_t(c)] != fused;
      }
      // The rounding rule is observable: where taps are unfused, some outputs differ.
      if (unfused > 0) {
        EXPECT_GT(differs_from_all_fused, 0) << lanes << " lanes, kernel " << kernel;
      }
    }
  }
}

// The default width: the level's, capped by what -march=native prefers on the build machine.
TEST_P(OpsLevel, AutovecLanesAreTheLevelsCappedByTheNativePreference) {
  const int lanes = autovec_lanes();
  if (GetParam() == Isa::kAvx2) {
    EXPECT_EQ(lanes, 8);
  } else {
    EXPECT_TRUE(lanes == 8 || lanes == 16) << lanes;
    EXPECT_EQ(lanes * 32, autovec_bits());
  }
}

TEST(ThreadPool, RunsEveryTaskOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    for (int rep = 0; rep < 50; ++rep) {
      std::vector<int> hits(97, 0);
      pool.parallel_for(97, [&](int t) { hits[size_t(t)]++; });
      for (int h : hits) ASSERT_EQ(h, 1);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, OpsLevel, ::testing::ValuesIn(all_isas()), IsaLevelName);
