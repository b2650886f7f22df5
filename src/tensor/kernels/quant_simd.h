// SIMD helpers shared by the quantized kernels of one ISA level (included only by
// src/tensor/kernels/*.cpp, inside the level's namespace, so each level has its own copies).
#pragma once

#include "tensor/kernels/isa_namespace.h"
// clang-format off
#include <immintrin.h>
// clang-format on

#include <cstdint>
#include <cstring>

#include "gguf/fp16.h"
#include "tensor/quants.h"

namespace gavel::tensor::GAVEL_ISA_NS {
namespace {

inline int min_(int a, int b) { return a < b ? a : b; }
inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int hsum_i32(__m256i v) {
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
  return _mm_cvtsi128_si32(t);
}

// Sum of u8*s8 products over groups of 4 bytes, added to acc (int32 lanes).
inline __m256i dot_us(__m256i acc, __m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  const __m256i p = _mm256_maddubs_epi16(u, s);
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
#endif
}

// 16 packed bytes -> 32 bytes: low nibbles first, then high nibbles.
inline __m256i nibbles(const uint8_t* qs) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i b = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
  return _mm256_and_si256(b, _mm256_set1_epi8(0xF));
}
// 32 bits -> 32 bytes, 0xFF where the bit is set.
inline __m256i bits_to_bytes(const uint8_t* p) {
  uint32_t x;
  std::memcpy(&x, p, 4);
  const __m256i idx = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101,
                                        0x0000000000000000);
  const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(int(x)), idx);
  const __m256i m = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(v, m), m);
}
inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Q8_0/Q5_0/Q4_0 block b of a weight row as signed bytes, and its scale.
template <TensorType kType>
inline __m256i q0_values(const uint8_t* wp, int64_t b, uint16_t* d) {
  if constexpr (kType == TensorType::kQ8_0) {
    const auto* w = reinterpret_cast<const BlockQ8_0*>(wp) + b;
    std::memcpy(d, &w->d, 2);
    return load32(w->qs);
  } else if constexpr (kType == TensorType::kQ5_0) {
    const auto* w = reinterpret_cast<const BlockQ5_0*>(wp) + b;
    std::memcpy(d, &w->d, 2);
    const __m256i hi = _mm256_and_si256(bits_to_bytes(w->qh), _mm256_set1_epi8(0x10));
    return _mm256_sub_epi8(_mm256_or_si256(nibbles(w->qs), hi), _mm256_set1_epi8(16));
  } else {
    const auto* w = reinterpret_cast<const BlockQ4_0*>(wp) + b;
    std::memcpy(d, &w->d, 2);
    return _mm256_sub_epi8(nibbles(w->qs), _mm256_set1_epi8(8));
  }
}

}  // namespace
}  // namespace gavel::tensor::GAVEL_ISA_NS
