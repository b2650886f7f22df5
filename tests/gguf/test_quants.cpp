// Unit tests for the quant helpers. Bit-exact parity of every dequantizer with gguf-py is
// checked by tests/python/test_gguf_dequant.py; here: fp16/bf16 against the compiler's own
// _Float16 conversions, geometry, and hand-decoded blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "gguf/quants.h"

namespace gavel::gguf {
namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(Fp16, EveryHalfMatchesCompilerConversion) {
  for (uint32_t h = 0; h < 65536; ++h) {
    _Float16 ref;
    uint16_t hb = static_cast<uint16_t>(h);
    std::memcpy(&ref, &hb, 2);
    const float want = static_cast<float>(ref);
    const float got = fp16_to_fp32(hb);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << h;
      ASSERT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(got)))) << h;
      continue;
    }
    ASSERT_EQ(bits(got), bits(want)) << "half 0x" << std::hex << h;
    ASSERT_EQ(fp32_to_fp16(got), hb) << "round trip of half 0x" << std::hex << h;
  }
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(fp16_to_fp32(0x7C00), INFINITY);
  EXPECT_EQ(fp16_to_fp32(0xFC00), -INFINITY);
  EXPECT_EQ(bits(fp16_to_fp32(0x8000)), 0x80000000u);
}

TEST(Fp16, RoundingMatchesCompilerOnRandomAndEdgeFloats) {
  std::mt19937 rng(42);
  std::vector<uint32_t> cases = {0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x477FEFFF,
                                 0x477FF000, 0x477FE000, 0x38800000, 0x387FFFFF, 0x33000000,
                                 0x33000001, 0x32FFFFFF, 0x337FFFFF, 0x00000001, 0x3F801000,
                                 0x3F803000, 0x3F800FFF, 0x7F7FFFFF};
  for (int i = 0; i < 2000000; ++i) cases.push_back(rng());
  // Dense sweep of the subnormal / normal boundary and near-ties.
  for (uint32_t u = 0x33000000; u < 0x39000000; u += 0x777) cases.push_back(u);
  for (uint32_t u : cases) {
    const float f = from_bits(u);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
      continue;
    }
    const _Float16 ref = static_cast<_Float16>(f);
    uint16_t rb;
    std::memcpy(&rb, &ref, 2);
    ASSERT_EQ(fp32_to_fp16(f), rb) << "f32 bits 0x" << std::hex << u;
  }
}

TEST(Bf16, ConversionIsUpperBitsWithNearestEven) {
  EXPECT_EQ(bf16_to_fp32(0x3F80), 1.0f);
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808000)), 0x3F80);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F818000)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808001)), 0x3F81);
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(NAN))));
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(from_bits(0x7F800001)))));
}

TEST(Geometry, BlockSizesAndRowBytes) {
  EXPECT_EQ(block_size(TensorType::kF32), 1);
  EXPECT_EQ(block_bytes(TensorType::kQ4_0), 18u);
  EXPECT_EQ(block_bytes(TensorType::kQ4_K), 144u);
  EXPECT_EQ(block_bytes(TensorType::kQ6_K), 210u);
  EXPECT_EQ(block_bytes(TensorType::kIQ4_XS), 136u);
  EXPECT_EQ(block_size(TensorType::kQ5_K), 256);
  EXPECT_EQ(row_bytes(TensorType::kQ8_0, 4096), 4096u / 32 * 34);
  EXPECT_EQ(row_bytes(TensorType::kQ4_K, 100), 0u);
  EXPECT_EQ(row_bytes(TensorType::kF16, 3), 6u);
  EXPECT_EQ(row_bytes(static_cast<TensorType>(4), 32), 0u);  // removed Q4_2
  EXPECT_EQ(block_size(static_cast<TensorType>(1000)), 0);
  EXPECT_STREQ(type_name(TensorType::kQ6_K), "Q6_K");
  EXPECT_STREQ(type_name(static_cast<TensorType>(1000)), "type#1000");
}

TEST(Dequant, HandDecodedQ4_0AndQ4_K) {
  BlockQ4_0 b{};
  b.d = fp32_to_fp16(0.5f);
  b.qs[0] = 0x1F;  // low nibble 15 -> element 0, high nibble 1 -> element 16
  float y[32];
  ASSERT_TRUE(dequantize_row(TensorType::kQ4_0, &b, y, 32).ok());
  EXPECT_EQ(y[0], (15 - 8) * 0.5f);
  EXPECT_EQ(y[16], (1 - 8) * 0.5f);
  EXPECT_EQ(y[1], -4.0f);

  BlockQ4_K k{};
  k.d = fp32_to_fp16(1.0f);
  k.dmin = fp32_to_fp16(0.25f);
  // sub-block 5: sc = (s[9] & 0xF) | ((s[1] >> 6) << 4); mn = (s[9] >> 4) | ((s[5] >> 6) << 4)
  k.scales[9] = 0x23;
  k.scales[1] = 0x40;   // sc high bits = 1 -> sc = 3 + 16 = 19
  k.scales[5] = 0x80;   // mn high bits = 2 -> mn = 2 + 32 = 34
  k.qs[64 + 7] = 0xA0;  // group 2, high nibble 10 -> element 128 + 32 + 7 (sub-block 5)
  std::vector<float> out(256);
  ASSERT_TRUE(dequantize_row(TensorType::kQ4_K, &k, out.data(), 256).ok());
  EXPECT_EQ(out[128 + 32 + 7], 19.0f * 10 - 0.25f * 34);
  EXPECT_EQ(out[128 + 32 + 8], -0.25f * 34);
}

// gguf-py has no Q8_K dequantizer, so this one is checked by hand: y = d (f32) * qs.
TEST(Dequant, Q8_KIsF32ScaleTimesInt8) {
  BlockQ8_K b{};
  b.d = 0.375f;
  for (int i = 0; i < kQK_K; ++i) b.qs[i] = static_cast<int8_t>(i - 128);
  std::vector<float> y(256);
  ASSERT_TRUE(dequantize_row(TensorType::kQ8_K, &b, y.data(), 256).ok());
  for (int i = 0; i < kQK_K; ++i) ASSERT_EQ(y[i], 0.375f * static_cast<float>(i - 128)) << i;
}

TEST(Geometry, TypeNamesRoundTrip) {
  for (uint32_t id = 0; id < 64; ++id) {
    const auto t = static_cast<TensorType>(id);
    if (block_size(t) == 0) continue;
    auto back = type_from_name(type_name(t));
    ASSERT_TRUE(back.ok()) << id << " " << back.message();
    EXPECT_EQ(static_cast<uint32_t>(*back), id);
  }
  EXPECT_EQ(static_cast<uint32_t>(*type_from_name("q4_k")), 12u);
  EXPECT_FALSE(type_from_name("Q4_2").ok());
}

TEST(Dequant, RejectsUnsupportedTypesAndBadLengths) {
  std::vector<uint8_t> src(1024);
  std::vector<float> dst(256);
  Status s = dequantize_row(static_cast<TensorType>(16), src.data(), dst.data(), 256);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("IQ2_XXS"), std::string::npos) << s.message();
  s = dequantize_row(static_cast<TensorType>(77), src.data(), dst.data(), 32);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("77"), std::string::npos) << s.message();
  s = dequantize_row(TensorType::kQ8_0, src.data(), dst.data(), 33);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Q8_0"), std::string::npos) << s.message();
}

TEST(Dequant, UnalignedSourceIsFine) {
  std::vector<uint8_t> buf(1 + 210);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 13 + 1);
  buf[1 + 208] = 0x00;
  buf[1 + 209] = 0x3C;  // Q6_K d (last field) = 1.0
  std::vector<float> a(256), b(256);
  ASSERT_TRUE(dequantize_row(TensorType::kQ6_K, buf.data() + 1, a.data(), 256).ok());
  BlockQ6_K blk;
  std::memcpy(&blk, buf.data() + 1, sizeof blk);
  ASSERT_TRUE(dequantize_row(TensorType::kQ6_K, &blk, b.data(), 256).ok());
  EXPECT_EQ(a, b);
  // element 0: q = (ql[0] & 0xF | (qh[0] & 3) << 4) - 32, scale = scales[0]
  const int q = ((blk.ql[0] & 0xF) | ((blk.qh[0] & 3) << 4)) - 32;
  EXPECT_EQ(a[0], 1.0f * blk.scales[0] * q);
}

}  // namespace
}  // namespace gavel::gguf
