// Every dot kernel against the scalar reference, and the reference against the gguf layer's
// dequantization + f32 dot, on random blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

#include "../common/isa_levels.h"
#include "gguf/quants.h"
#include "tensor/exact_order.h"
#include "tensor/matmul.h"
#include "tensor/quants.h"

using namespace gavel;
using tensor::ActType;
using tensor::TensorType;

namespace {

const TensorType kTypes[] = {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16,
                             TensorType::kQ8_0, TensorType::kQ4_0, TensorType::kQ4_1,
                             TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ4_K,
                             TensorType::kQ5_K, TensorType::kQ6_K};

// Random bytes with sane fp16 scale fields (small positive d/dmin), so blocks are valid.
std::vector<uint8_t> random_row(TensorType t, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> b(gguf::row_bytes(t, n));
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& x : b) x = uint8_t(byte(rng));
  std::uniform_real_distribution<float> sc(0.001f, 0.05f);
  auto put = [&](size_t off, float v) {
    const uint16_t h = gguf::fp32_to_fp16(v);
    std::memcpy(&b[off], &h, 2);
  };
  const auto tr = tensor::traits(t);
  if (t == TensorType::kF32 || t == TensorType::kF16 || t == TensorType::kBF16) {
    std::normal_distribution<float> nd(0, 1);
    for (int64_t i = 0; i < n; ++i) {
      const float v = nd(rng);
      if (t == TensorType::kF32) std::memcpy(&b[size_t(i) * 4], &v, 4);
      if (t == TensorType::kF16) put(size_t(i) * 2, v);
      if (t == TensorType::kBF16) {
        const uint16_t h = gguf::fp32_to_bf16(v);
        std::memcpy(&b[size_t(i) * 2], &h, 2);
      }
    }
    return b;
  }
  for (size_t blk = 0; blk < b.size() / tr.block_bytes; ++blk) {
    const size_t o = blk * tr.block_bytes;
    switch (t) {
      case TensorType::kQ6_K:
        put(o + 208, sc(rng));
        break;
      case TensorType::kQ4_1:
      case TensorType::kQ5_1:
      case TensorType::kQ4_K:
      case TensorType::kQ5_K:
        put(o, sc(rng)),
            put(o + 2, sc(rng) * (t == TensorType::kQ4_1 || t == TensorType::kQ5_1 ? -10 : 1));
        break;
      default:
        put(o, sc(rng));
    }
  }
  return b;
}

std::vector<float> random_act(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = nd(rng);
  x[3] = 25.f;  // an outlier, as real activations have
  return x;
}

}  // namespace

using QuantsLevel = IsaLevelTest;

TEST_P(QuantsLevel, SimdDotMatchesReferenceAndDequantizedDot) {
  std::mt19937 rng(2);
  for (TensorType t : kTypes) {
    for (int64_t n : {256, 1024, 2816}) {
      if (n % tensor::traits(t).block) continue;
      auto w = random_row(t, n, rng);
      auto x = random_act(n, rng);
      const ActType act = tensor::traits(t).act;
      std::vector<uint8_t> q(tensor::act_row_bytes(act, n));
      tensor::quantize_act_row(act, x.data(), q.data(), n);
      const float ref = tensor::vec_dot_ref(t, n, w.data(), q.data());
      const float simd = tensor::vec_dot(t, n, w.data(), q.data());
      // Float dot of the dequantized weight and the original activations.
      std::vector<float> wf(n);
      ASSERT_TRUE(gguf::dequantize_row(t, w.data(), wf.data(), n).ok());
      double exact = 0, mag = 0;
      for (int64_t i = 0; i < n; ++i) exact += double(wf[i]) * x[i], mag += std::fabs(wf[i] * x[i]);
      EXPECT_NEAR(simd, ref, 1e-5 * mag + 1e-6) << gguf::type_name(t) << " n=" << n;
      const double tol = act == ActType::kF32 ? 1e-5 : 1.5e-2;  // 8-bit activation rounding
      EXPECT_NEAR(ref, exact, tol * mag + 1e-6) << gguf::type_name(t) << " n=" << n;
    }
  }
}

TEST(Quants, ActivationQuantizationRoundTrips) {
  std::mt19937 rng(3);
  const int64_t n = 512;
  auto x = random_act(n, rng);
  for (ActType a : {ActType::kQ8_0, ActType::kQ8_1, ActType::kQ8_K}) {
    std::vector<uint8_t> q(tensor::act_row_bytes(a, n));
    tensor::quantize_act_row(a, x.data(), q.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      float d;
      int v;
      if (a == ActType::kQ8_K) {
        const auto& b = reinterpret_cast<const tensor::BlockQ8_K*>(q.data())[i / 256];
        d = b.d, v = b.qs[i % 256];
      } else if (a == ActType::kQ8_0) {
        const auto& b = reinterpret_cast<const tensor::BlockQ8_0*>(q.data())[i / 32];
        d = gguf::fp16_to_fp32(b.d), v = b.qs[i % 32];
      } else {
        const auto& b = reinterpret_cast<const tensor::BlockQ8_1*>(q.data())[i / 32];
        d = gguf::fp16_to_fp32(b.d), v = b.qs[i % 32];
      }
      EXPECT_NEAR(d * v, x[i], std::fabs(d) * 0.51 + 1e-3 * std::fabs(x[i])) << int(a) << " " << i;
    }
  }
  // Q8_K group sums are the sums of the stored values.
  std::vector<uint8_t> q(tensor::act_row_bytes(ActType::kQ8_K, n));
  tensor::quantize_act_row(ActType::kQ8_K, x.data(), q.data(), n);
  const auto& b = *reinterpret_cast<const tensor::BlockQ8_K*>(q.data());
  for (int g = 0; g < 16; ++g) {
    int s = 0;
    for (int l = 0; l < 16; ++l) s += b.qs[16 * g + l];
    EXPECT_EQ(s, b.bsums[g]);
  }
}

// The SIMD activation quantizers write the reference's bytes, edge cases included: an all-zero
// block, a block whose largest magnitude occurs with both signs (Q8_K takes the first), values
// that land on .5 after scaling (half to even), denormals and huge values.
TEST_P(QuantsLevel, ActivationQuantizationMatchesReferenceBytes) {
  std::mt19937 rng(11);
  const int64_t n = 1024;
  std::vector<std::vector<float>> rows = {random_act(n, rng), std::vector<float>(n, 0.f)};
  std::vector<float> edge(static_cast<size_t>(n));
  std::uniform_int_distribution<int> small(-254, 254);
  for (int64_t i = 0; i < n; ++i) edge[size_t(i)] = float(small(rng)) / 2.f;  // k/2: many .5 cases
  edge[0] = -127.f, edge[5] = 127.f;       // tie in magnitude, negative first (block 0)
  edge[256] = 1e-40f, edge[300] = -3e38f;  // a denormal; a huge value
  for (int64_t i = 512; i < 544; ++i) edge[size_t(i)] = 0.f;  // one all-zero Q8_0 block
  // F16: ties between fp16 neighbours (to even), overflow to infinity, fp16 subnormals.
  edge[600] = 1.f + 0x1p-11f, edge[601] = 1.f + 3 * 0x1p-11f, edge[602] = 65520.f;
  edge[603] = 6e-8f, edge[604] = -3e-5f, edge[605] = 65504.f;
  rows.push_back(edge);
  for (const auto& x : rows)
    for (ActType a : {ActType::kQ8_0, ActType::kQ8_1, ActType::kQ8_K, ActType::kF16}) {
      std::vector<uint8_t> got(tensor::act_row_bytes(a, n)), want(got.size());
      tensor::quantize_act_row(a, x.data(), got.data(), n);
      tensor::quantize_act_row_ref(a, x.data(), want.data(), n);
      EXPECT_EQ(got, want) << "act type " << int(a);
    }
}

// matmul = one dot per (row, token) in the kernel order llama.cpp would use for that shape
// (tensor/exact_order.h, quants.h), whatever the thread count.
TEST_P(QuantsLevel, MatmulMatchesPerRowDotsAcrossThreadCounts) {
  std::mt19937 rng(4);
  // {16, 2304, 150} and {12, 1536, 300} span several weight slices, token sweeps and chunks of
  // the tiles; {150, 512, 39} gives row tasks of 18, 9 and 6 rows (full and partial bunches of
  // the AVX2 tiles, and an odd row left to the per-row dots); 45, 150 and 39 tokens end their
  // chunks with 1, 2 and 3 tokens of a 4-token group; {39, 512, 1} is one-token
  // decoding (rows in passes of 4, then the rest).
  for (auto [rows, cols, n_tok] : {std::tuple<int64_t, int64_t, int64_t>{37, 512, 45},
                                   {40, 512, 45},
                                   {150, 512, 39},
                                   {16, 2304, 150},
                                   {12, 1536, 300},
                                   {39, 512, 1}}) {
    for (TensorType t :
         {TensorType::kQ8_0, TensorType::kQ5_0, TensorType::kQ4_0, TensorType::kQ4_1,
          TensorType::kQ5_1, TensorType::kQ4_K, TensorType::kQ6_K, TensorType::kF16}) {
      std::vector<uint8_t> w;
      for (int64_t r = 0; r < rows; ++r) {
        auto row = random_row(t, cols, rng);
        w.insert(w.end(), row.begin(), row.end());
      }
      tensor::Matrix m{t, w.data(), rows, cols, gguf::row_bytes(t, cols)};
      std::vector<float> x;
      for (int64_t i = 0; i < n_tok; ++i) {
        auto r = random_act(cols, rng);
        x.insert(x.end(), r.begin(), r.end());
      }
      std::vector<float> expect(size_t(n_tok * rows)), expect_one(expect.size());
      const ActType act = tensor::traits(t).act;
      std::vector<uint8_t> q(tensor::act_row_bytes(act, cols));
      const tensor::DotOrder order = tensor::dot_order(rows, cols, n_tok);
      for (int64_t i = 0; i < n_tok; ++i) {
        tensor::quantize_act_row(act, &x[size_t(i * cols)], q.data(), cols);
        for (int64_t r = 0; r < rows; ++r) {
          const uint8_t* wr = &w[size_t(r) * m.row_bytes];
          float e;
          if (t == TensorType::kF16)
            e = tensor::dot_f16_ordered(order, cols, reinterpret_cast<const uint16_t*>(wr),
                                        reinterpret_cast<const uint16_t*>(q.data()));
          else if (t == TensorType::kQ4_K && tensor::q4k_is_repacked(rows))
            e = tensor::vec_dot_q4k_repacked(cols, wr, q.data(), i < n_tok - n_tok % 4);
          else if (tensor::kquant_is_tiled(t, rows, n_tok))
            e = tensor::vec_dot_kquant_tiled(t, cols, wr, q.data());
          else
            e = tensor::vec_dot(t, cols, wr, q.data());
          expect[size_t(i * rows + r)] = e;
          // KernelChoice::kPerToken: every token as a batch of one (batched decoding).
          if (t == TensorType::kF16)
            e = tensor::dot_f16_ordered(tensor::DotOrder::kGemv, cols,
                                        reinterpret_cast<const uint16_t*>(wr),
                                        reinterpret_cast<const uint16_t*>(q.data()));
          else if (t == TensorType::kQ4_K && tensor::q4k_is_repacked(rows))
            e = tensor::vec_dot_q4k_repacked(cols, wr, q.data(), false);
          else
            e = tensor::vec_dot(t, cols, wr, q.data());
          expect_one[size_t(i * rows + r)] = e;
        }
      }
      for (int threads : {1, 2, 3}) {
        tensor::ThreadPool pool(threads);
        tensor::PackedInput scratch;
        std::vector<float> y(size_t(n_tok * rows));
        tensor::matmul(pool, m, x.data(), cols, n_tok, y.data(), rows, scratch);
        EXPECT_EQ(y, expect) << gguf::type_name(t) << " rows=" << rows << " threads=" << threads;
        tensor::matmul_packed(pool, m, scratch, y.data(), rows, tensor::KernelChoice::kPerToken);
        EXPECT_EQ(y, expect_one) << gguf::type_name(t) << " rows=" << rows << " threads=" << threads
                                 << " (per-token kernels)";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, QuantsLevel, ::testing::ValuesIn(tensor::all_isas()),
                         IsaLevelName);
