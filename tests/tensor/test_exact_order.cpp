// The summation-order kernels: each must equal its order written out plainly (bit for bit),
// and the K-quant order variants must still compute the same dot product as the reference.
// Bit-exactness against llama.cpp itself is checked by tests/python/test_parity_llamacpp.py.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "../common/isa_levels.h"
#include "gguf/fp16.h"
#include "tensor/exact_order.h"
#include "tensor/quant_types.h"
#include "tensor/quants.h"

namespace gavel::tensor {
namespace {

std::vector<uint16_t> random_f16(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<uint16_t> v(n);
  for (auto& x : v) x = gguf::fp32_to_fp16(d(rng));
  return v;
}

// The written-out orders for W lanes (8: llama.cpp built for AVX2, 16: for AVX-512).
// Horizontal sum of one W-lane register (tinyBLAS's hsum, GCC's _mm512_reduce_add_ps).
template <int W>
float hsum_written(const float* lane) {
  if constexpr (W == 8) {
    return ((lane[0] + lane[4]) + (lane[2] + lane[6])) +
           ((lane[1] + lane[5]) + (lane[3] + lane[7]));
  } else {
    // halves, then quarters, then (q0 + q2) + (q1 + q3)
    float h[8], q[4];
    for (int i = 0; i < 8; ++i) h[i] = lane[i] + lane[i + 8];
    for (int i = 0; i < 4; ++i) q[i] = h[i] + h[i + 4];
    return (q[0] + q[2]) + (q[1] + q[3]);
  }
}

// tinyBLAS: lane l sums elements l, l+W, ... with fused multiply-adds, then hsum.
template <int W>
float gemm_order(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b) {
  float lane[W] = {};
  for (size_t i = 0; i < a.size(); ++i)
    lane[i % W] = std::fma(gguf::fp16_to_fp32(a[i]), gguf::fp16_to_fp32(b[i]), lane[i % W]);
  return hsum_written<W>(lane);
}

// ggml_vec_dot_f16: 4W accumulators over steps of 4W, GGML_F32_VEC_REDUCE (x0+x2, x1+x3,
// then their sum, then the register's horizontal sum), the tail in double.
template <int W>
float gemv_order(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b) {
  float acc[4 * W] = {};
  const size_t np = a.size() / (4 * W) * (4 * W);
  for (size_t i = 0; i < np; ++i)
    acc[i % (4 * W)] =
        std::fma(gguf::fp16_to_fp32(a[i]), gguf::fp16_to_fp32(b[i]), acc[i % (4 * W)]);
  float s[W];
  for (int i = 0; i < W; ++i) s[i] = (acc[i] + acc[2 * W + i]) + (acc[W + i] + acc[3 * W + i]);
  float r;
  if constexpr (W == 8) {  // AVX: _mm_add_ps(lo, hi), then two _mm_hadd_ps
    r = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
  } else {
    r = hsum_written<16>(s);
  }
  double sum = double(r);
  for (size_t i = np; i < a.size(); ++i)
    sum += double(gguf::fp16_to_fp32(a[i]) * gguf::fp16_to_fp32(b[i]));
  return float(sum);
}

template <int W>
void expect_f16_orders() {
  for (size_t n : {16u, 32u, 64u, 96u, 128u, 256u, 520u}) {
    const auto a = random_f16(n, 1 + uint32_t(n)), b = random_f16(n, 2 + uint32_t(n));
    if (n % W == 0) {  // tinyBLAS takes only whole registers (dot_order)
      EXPECT_EQ(dot_f16_ordered(DotOrder::kGemm, int64_t(n), a.data(), b.data()),
                gemm_order<W>(a, b))
          << n;
    }
    EXPECT_EQ(dot_f16_ordered(DotOrder::kGemv, int64_t(n), a.data(), b.data()), gemv_order<W>(a, b))
        << n;
  }
  // A tail that is not a multiple of 4W goes through the double-precision leftover loop.
  const auto a = random_f16(77, 5), b = random_f16(77, 6);
  EXPECT_EQ(dot_f16_ordered(DotOrder::kGemv, 77, a.data(), b.data()), gemv_order<W>(a, b));
}

using ExactOrderLevel = IsaLevelTest;

TEST_P(ExactOrderLevel, OrderChoiceFollowsGgml) {
  const int w = simd_lanes();
  EXPECT_EQ(w, GetParam() == Isa::kAvx2 ? 8 : 16);
  EXPECT_EQ(dot_order(256, 64, 1), DotOrder::kGemv);         // one token: vec_dot
  EXPECT_EQ(dot_order(256, 64, 2), DotOrder::kGemm);         // a batch: tinyBLAS
  EXPECT_EQ(dot_order(255, 64, 8), DotOrder::kGemv);         // tinyBLAS needs m % 4 == 0
  EXPECT_EQ(dot_order(256, 3 * w / 2, 8), DotOrder::kGemv);  // and k a multiple of the lanes
}

TEST_P(ExactOrderLevel, F16DotsMatchTheirWrittenOutOrder) {
  if (simd_lanes() == 8)
    expect_f16_orders<8>();
  else
    expect_f16_orders<16>();
}

TEST_P(ExactOrderLevel, F32DotsMatchTheirWrittenOutOrder) {
  const int w = simd_lanes();
  for (int64_t n : {16, 64, 128, 200, 256}) {
    std::mt19937 rng{uint32_t(n)};
    std::normal_distribution<float> d(0.f, 1.f);
    std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
    for (auto& v : a) v = d(rng);
    for (auto& v : b) v = d(rng);
    if (n % w == 0) {  // tinyBLAS
      float lane[16] = {};
      for (int64_t i = 0; i < n; ++i)
        lane[i % w] = std::fma(a[size_t(i)], b[size_t(i)], lane[i % w]);
      EXPECT_EQ(dot_f32_ordered(DotOrder::kGemm, n, a.data(), b.data()),
                w == 8 ? hsum_written<8>(lane) : hsum_written<16>(lane))
          << n;
    }
    // ggml_vec_dot_f32: as the f16 form, but the tail is fused into the float sum.
    float acc[64] = {};
    const int64_t np = n / (4 * w) * (4 * w);
    for (int64_t i = 0; i < np; ++i)
      acc[i % (4 * w)] = std::fma(a[size_t(i)], b[size_t(i)], acc[i % (4 * w)]);
    float s[16];
    for (int i = 0; i < w; ++i) s[i] = (acc[i] + acc[2 * w + i]) + (acc[w + i] + acc[3 * w + i]);
    float r = w == 8 ? ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
                     : hsum_written<16>(s);
    for (int64_t i = np; i < n; ++i) r = std::fma(a[size_t(i)], b[size_t(i)], r);
    EXPECT_EQ(dot_f32_ordered(DotOrder::kGemv, n, a.data(), b.data()), r) << n;
  }
}

// The F16 GEMM tiles (rows x tokens, the KQ product and F16 weights) give each output the
// single dot's kGemm order, whatever tile or remainder computes it.
TEST_P(ExactOrderLevel, F16GemmTilesKeepTheDotOrder) {
  // 1024 columns take one pass at AVX-512; 1040 a second pass of one step; 3072 three passes;
  // 70 rows two blocks of carried lanes.
  for (auto [n, rows] :
       {std::pair<int64_t, int64_t>{128, 10}, {1024, 10}, {1040, 10}, {3072, 10}, {2048, 70}}) {
    const int64_t n_tok = 13, ldy = rows + 3;
    const auto w = random_f16(size_t(rows * n), 21), a16 = random_f16(size_t(n_tok * n), 22);
    std::vector<float> a(a16.size());
    for (size_t i = 0; i < a.size(); ++i) a[i] = gguf::fp16_to_fp32(a16[i]);
    std::vector<float> y(size_t(n_tok * ldy), -1.f);
    const int64_t done = matmul_f16_gemm_rows(n, w.data(), size_t(n), rows, a.data(), size_t(n),
                                              n_tok, y.data(), ldy);
    // Whole tiles of rows (4 at AVX-512, 3 at AVX2); the caller computes the rest.
    EXPECT_LE(done, rows);
    EXPECT_GT(done, rows - 4);
    for (int64_t t = 0; t < n_tok; ++t)
      for (int64_t r = 0; r < done; ++r)
        EXPECT_EQ(y[size_t(t * ldy + r)],
                  dot_f16_ordered(DotOrder::kGemm, n, w.data() + size_t(r * n),
                                  a16.data() + size_t(t * n)))
            << "n=" << n << " token " << t << " row " << r;
  }
}

TEST_P(ExactOrderLevel, PvEqualsColumnDots) {
  const int w = simd_lanes();
  for (int dim : {24, 64, 80}) {
    const int ld = dim + 16;
    for (int n : {1, 7, 8, 33, 100}) {
      const auto p = random_f16(size_t(n), 11), v = random_f16(size_t(n) * size_t(ld), 12);
      for (DotOrder order : {DotOrder::kGemm, DotOrder::kGemv}) {
        std::vector<float> out(static_cast<size_t>(dim));
        pv_f16_ordered(order, n, p.data(), v.data(), ld, dim, out.data());
        for (int d = 0; d < dim; ++d) {
          // The column, zero-padded to whole steps (a masked cache cell adds an exact zero).
          const int padded = (n + 4 * w - 1) / (4 * w) * (4 * w);
          std::vector<uint16_t> col(size_t(padded), 0), pp(size_t(padded), 0);
          for (int j = 0; j < n; ++j)
            col[size_t(j)] = v[size_t(j) * size_t(ld) + size_t(d)], pp[size_t(j)] = p[size_t(j)];
          const float want = dot_f16_ordered(order, padded, col.data(), pp.data());
          EXPECT_EQ(out[size_t(d)], want) << "dim=" << dim << " n=" << n << " d=" << d;
        }
      }
    }
  }
}

// ggml_vec_soft_max_f32 over a row padded to whole registers: W exps per chunk, the chunk's
// horizontal sum added to a double.
TEST_P(ExactOrderLevel, SoftmaxSumsChunksOfTheLaneWidth) {
  const int w = simd_lanes();
  std::vector<float> x(53);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(double(i) * 1.7)) * 6.f;
  float mx = x[0];
  for (float v : x) mx = std::max(mx, v);
  double sum = 0;
  std::vector<float> e(x.size());
  for (size_t i0 = 0; i0 < x.size(); i0 += size_t(w)) {
    float lane[16] = {};
    for (int l = 0; l < w && i0 + size_t(l) < x.size(); ++l)
      lane[l] = e[i0 + size_t(l)] = exp_simd(x[i0 + size_t(l)] - mx);
    sum += double(w == 8 ? hsum_written<8>(lane) : hsum_written<16>(lane));
  }
  std::vector<float> y = x;
  softmax_ordered(y.data(), int64_t(y.size()));
  const float inv = float(1.0 / sum);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], e[i] * inv) << i;
  // SiLU: whole registers through the SIMD exp, the tail through libm's expf.
  std::vector<float> s = x;
  silu_ordered(s.data(), int64_t(s.size()));
  const size_t n_simd = x.size() - x.size() % size_t(w);
  for (size_t i = 0; i < x.size(); ++i) {
    const float want =
        i < n_simd ? x[i] / (1.0f + exp_simd(0.0f - x[i])) : x[i] / (1.0f + std::exp(-x[i]));
    EXPECT_EQ(s[i], want) << i;
  }
}

TEST_P(ExactOrderLevel, SimdExpIsAccurateAndSaturates) {
  for (float x = -87.f; x < 88.f; x += 0.37f) {
    const double want = std::exp(double(x));
    EXPECT_NEAR(exp_simd(x) / want, 1.0, 3e-7) << x;
  }
  EXPECT_EQ(exp_simd(-std::numeric_limits<float>::infinity()), 0.f);
  EXPECT_EQ(exp_simd(-200.f), 0.f);
  EXPECT_EQ(exp_simd(0.f), 1.f);
  EXPECT_TRUE(std::isinf(exp_simd(200.f)));
}

// The W-lane exp gives exp_simd's bits for every input class: the polynomial range, the scaled
// ranges past |n| > 126 and 192 (denormal results, overflow), infinities, NaN, signed zeros.
TEST_P(ExactOrderLevel, VectorExpEqualsScalarExpEverywhere) {
  std::vector<float> x;
  for (float v = -200.f; v < 200.f; v += 0.0137f) x.push_back(v);
  for (float v : {-104.f, -103.9f, -87.4f, -87.3f, 88.7f, 88.8f, 0.f, -0.f, 1e-30f, -1e-30f})
    x.push_back(v);
  for (float v : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN()})
    x.push_back(v);
  std::vector<float> y(x.size());
  exp_ordered(x.data(), y.data(), int64_t(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const float want = exp_simd(x[i]);
    if (std::isnan(want))
      EXPECT_TRUE(std::isnan(y[i])) << x[i];
    else
      EXPECT_EQ(std::bit_cast<uint32_t>(y[i]), std::bit_cast<uint32_t>(want)) << x[i];
  }
  // SwiGLU: whole registers through the SIMD exp, the tail through libm's expf.
  std::vector<float> g(x.begin(), x.begin() + 1000), u(g.size());
  for (size_t i = 0; i < u.size(); ++i) u[i] = float(std::cos(double(i)));
  std::vector<float> got = g;
  swiglu_ordered(got.data(), u.data(), int64_t(g.size()));
  const size_t n_simd = g.size() - g.size() % size_t(simd_lanes());
  for (size_t i = 0; i < g.size(); ++i) {
    const float want = i < n_simd ? g[i] / (1.0f + exp_simd(0.0f - g[i])) * u[i]
                                  : g[i] / (1.0f + std::exp(-g[i])) * u[i];
    EXPECT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want)) << g[i];
  }
}

// The row conversions give the scalar conversions' bits: every half to float, and floats to half
// over random bit patterns (NaNs, infinities, denormals and rounding ties included).
TEST_P(ExactOrderLevel, RowConversionsMatchScalarOnes) {
  std::vector<uint16_t> h(65536);
  for (size_t i = 0; i < h.size(); ++i) h[i] = uint16_t(i);
  std::vector<float> f(h.size());
  f16_to_f32_row(h.data(), f.data(), int64_t(h.size()));
  for (size_t i = 0; i < h.size(); ++i) {
    if (std::isnan(f[i])) continue;
    EXPECT_EQ(std::bit_cast<uint32_t>(f[i]), std::bit_cast<uint32_t>(gguf::fp16_to_fp32(h[i])));
  }
  std::mt19937 rng(5);
  std::vector<float> x(1 << 20);
  for (auto& v : x) v = std::bit_cast<float>(uint32_t(rng()));
  for (size_t i = 0; i < 4096; ++i)  // exact ties between two halves, around every exponent
    x[i] =
        std::bit_cast<float>((uint32_t(i % 64 + 100) << 23) | 0x1000u | (uint32_t(i % 1024) << 13));
  std::vector<uint16_t> y(x.size());
  f32_to_f16_row(x.data(), y.data(), int64_t(x.size()));
  size_t bad = 0;
  for (size_t i = 0; i < x.size(); ++i) bad += y[i] != gguf::fp32_to_fp16(x[i]);
  EXPECT_EQ(bad, 0u);
}

TEST_P(ExactOrderLevel, SoftmaxAndSwiglu) {
  std::vector<float> x(37);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(double(i))) * 5.f;
  std::vector<float> y = x;
  softmax_ordered(y.data(), int64_t(y.size()));
  double sum = 0;
  for (float v : y) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_NEAR(y[3] / y[5] / std::exp(double(x[3]) - double(x[5])), 1.0, 1e-5);
  std::vector<float> g = x, u(x.size(), 2.f);
  swiglu_ordered(g.data(), u.data(), int64_t(g.size()));
  for (size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], x[i] / (1.0 + std::exp(-double(x[i]))) * 2.0, 1e-5 * (1 + std::fabs(x[i])));
}

// Same integer dot, other float order: agree with the reference to float rounding.
TEST_P(ExactOrderLevel, KQuantOrderVariantsComputeTheSameDot) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> d(0.f, 1.f);
  const int64_t n = 512;
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = d(rng);
  std::vector<uint8_t> act(act_row_bytes(ActType::kQ8_K, n));
  quantize_act_row(ActType::kQ8_K, x.data(), act.data(), n);
  // Activations of more tokens, for the many-token forms.
  constexpr int kTok = 40;
  std::vector<std::vector<uint8_t>> acts(kTok, std::vector<uint8_t>(act.size()));
  const void* ptrs[kTok];
  for (int k = 0; k < kTok; ++k) {
    std::vector<float> xk(x.size());
    for (auto& v : xk) v = d(rng);
    quantize_act_row(ActType::kQ8_K, xk.data(), acts[size_t(k)].data(), n);
    ptrs[k] = acts[size_t(k)].data();
  }
  for (TensorType t : {TensorType::kQ4_K, TensorType::kQ5_K, TensorType::kQ6_K}) {
    const size_t bytes = size_t(n / 256) * traits(t).block_bytes;
    std::vector<uint8_t> w(bytes);
    for (auto& b : w) b = uint8_t(byte(rng));
    // Keep the fp16 scales finite and small: d/dmin are the first 4 bytes of Q4_K/Q5_K
    // blocks and the last 2 of Q6_K blocks.
    for (int64_t blk = 0; blk < n / 256; ++blk) {
      uint8_t* b = w.data() + size_t(blk) * traits(t).block_bytes;
      const uint16_t h = gguf::fp32_to_fp16(0.01f), m = gguf::fp32_to_fp16(0.002f);
      if (t == TensorType::kQ6_K) {
        std::memcpy(b + traits(t).block_bytes - 2, &h, 2);
      } else {
        std::memcpy(b, &h, 2);
        std::memcpy(b + 2, &m, 2);
      }
    }
    const float ref = vec_dot_ref(t, n, w.data(), act.data());
    const float tol = 1e-5f * (1.f + std::fabs(ref));
    EXPECT_NEAR(vec_dot_kquant_tiled(t, n, w.data(), act.data()), ref, tol) << int(t);
    {  // many tokens at once (register tiles of 4, a remainder): bit for bit the one-token dot
      float out[kTok];
      vec_dot_kquant_tiled_multi(t, n, w.data(), ptrs, kTok - 1, out);
      for (int k = 0; k < kTok - 1; ++k)
        EXPECT_EQ(out[k], vec_dot_kquant_tiled(t, n, w.data(), ptrs[k])) << int(t) << " " << k;
    }
    {  // the one-token order for many tokens at once (batched decoding)
      float out[kTok];
      vec_dot_multi(t, n, w.data(), ptrs, kTok - 1, out);
      for (int k = 0; k < kTok - 1; ++k)
        EXPECT_EQ(out[k], vec_dot(t, n, w.data(), ptrs[k])) << int(t) << " " << k;
    }
    if (t == TensorType::kQ4_K) {
      for (int m : {1, 3, 4, 7}) {  // the repacked GEMV order for several tokens
        float out[kTok];
        vec_dot_q4k_repacked_gemv_multi(n, w.data(), ptrs, m, out);
        for (int k = 0; k < m; ++k)
          EXPECT_EQ(out[k], vec_dot_q4k_repacked(n, w.data(), ptrs[k], false)) << m << " " << k;
      }
      EXPECT_NEAR(vec_dot_q4k_repacked(n, w.data(), act.data(), true), ref, tol);
      EXPECT_NEAR(vec_dot_q4k_repacked(n, w.data(), act.data(), false), ref, tol);
      // Many tokens at once (groups of 4, more than one register tile): each output is the
      // one-token GEMM-order dot, bit for bit.
      for (int m : {4, 12, 32, 40}) {
        float out[kTok];
        vec_dot_q4k_repacked_gemm(n, w.data(), ptrs, m, out);
        for (int k = 0; k < m; ++k)
          EXPECT_EQ(out[k], vec_dot_q4k_repacked(n, w.data(), ptrs[k], true)) << m << " " << k;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, ExactOrderLevel, ::testing::ValuesIn(all_isas()), IsaLevelName);

}  // namespace
}  // namespace gavel::tensor
