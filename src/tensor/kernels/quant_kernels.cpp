// Quantized dot-product kernels for one ISA level, in the float orders of the ggml kernels
// llama.cpp runs at that level (docs/layers/engine.md). Both levels use 256-bit integer code
// (ggml's quantized kernels are AVX2 code on AVX-512 CPUs too); the AVX-512 level gets VNNI's
// vpdpbusd, which gives the same integers. Each is tested against the scalar reference in
// quants_ref.cpp.
#include "tensor/kernels/isa_namespace.h"
// clang-format off
#include <immintrin.h>
// clang-format on

#include <cmath>
#include <cstring>
#include <type_traits>

#include "gguf/fp16.h"
#include "tensor/kernels/kernel_decls.h"
#include "tensor/kernels/quant_simd.h"
#include "tensor/quants.h"

namespace gavel::tensor::GAVEL_ISA_NS {
namespace {

// One block of a Q8_0/Q5_0/Q4_0 dot in ggml's order: the integer dot of the weights q (|q| in
// qa: signed x signed as dot_us needs it) with the activation bytes a in 8 lanes, then
// acc += d * sums fused, d = d_w * d_a.
inline __m256 q0_block_v(__m256 acc, __m256i q, __m256i qa, __m256i a, __m256 d) {
  const __m256i s = dot_us(_mm256_setzero_si256(), qa, _mm256_sign_epi8(a, q));
  return _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
}
inline __m256 q0_block(__m256 acc, __m256i q, __m256i qa, __m256i a, float d) {
  return q0_block_v(acc, q, qa, a, _mm256_set1_ps(d));
}
// Four fp16 values as floats, and lane t of such a register in all eight lanes: the many-token
// dots scale four tokens' blocks with one conversion and one multiply.
inline __m128 fp16x4(uint16_t a, uint16_t b, uint16_t c, uint16_t d) {
  return _mm_cvtph_ps(_mm_setr_epi16(short(a), short(b), short(c), short(d), 0, 0, 0, 0));
}
inline __m256 broadcast_lane(__m128 v, int t) {
  return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(v), _mm256_set1_epi32(t));
}

// A Q8_0/Q5_0/Q4_0 row against kT tokens (Q8_0 activations): per block the integer dot in 8
// lanes, acc += (d_w * d_a) * sums fused, then one hsum per token. With kT > 1 the weight
// block is decoded, and its sign split off, once for all tokens; each output is computed
// exactly as with kT = 1.
template <TensorType kType, int kT>
void dot_q0(int64_t n, const void* wv, const void* const* av, float* out) {
  const uint8_t* wp = static_cast<const uint8_t*>(wv);
  const BlockQ8_0* a[kT];
  __m256 acc[kT];
  for (int t = 0; t < kT; ++t) {
    a[t] = static_cast<const BlockQ8_0*>(av[t]);
    acc[t] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < n / kQK; ++b) {
    uint16_t dw;
    const __m256i q = q0_values<kType>(wp, b, &dw);
    const __m256i qa = _mm256_sign_epi8(q, q);
    const float wd = gguf::fp16_to_fp32(dw);
    if constexpr (kT == 4) {
      // The four tokens' scales converted and multiplied by the weight's together (the same
      // products), then each broadcast: one conversion and one multiply per block, not four.
      const __m128 d4 =
          _mm_mul_ps(_mm_set1_ps(wd), fp16x4(a[0][b].d, a[1][b].d, a[2][b].d, a[3][b].d));
      for (int t = 0; t < 4; ++t)
        acc[t] = q0_block_v(acc[t], q, qa, load32(a[t][b].qs), broadcast_lane(d4, t));
      continue;
    }
    for (int t = 0; t < kT; ++t)
      acc[t] = q0_block(acc[t], q, qa, load32(a[t][b].qs), wd * gguf::fp16_to_fp32(a[t][b].d));
  }
  for (int t = 0; t < kT; ++t) out[t] = hsum(acc[t]);
}

template <TensorType kType>
float dot_q0_one(int64_t n, const void* w, const void* a) {
  float out;
  dot_q0<kType, 1>(n, w, &a, &out);
  return out;
}

// kR rows of a Q8_0/Q5_0/Q4_0 matrix (row i at w + i * w_stride) against one token: each
// output exactly as dot_q0<kType, 1> computes it; the rows' independent chains overlap, and the
// activation block is loaded and its scale converted once for all.
template <TensorType kType, int kR>
void dot_q0_rows(int64_t n, const uint8_t* w, size_t w_stride, const void* av, float* out) {
  const auto* a = static_cast<const BlockQ8_0*>(av);
  __m256 acc[kR];
  for (int r = 0; r < kR; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK; ++b) {
    const __m256i ab = load32(a[b].qs);
    const float da = gguf::fp16_to_fp32(a[b].d);
    for (int r = 0; r < kR; ++r) {
      uint16_t dw;
      const __m256i q = q0_values<kType>(w + size_t(r) * w_stride, b, &dw);
      acc[r] = q0_block(acc[r], q, _mm256_sign_epi8(q, q), ab, gguf::fp16_to_fp32(dw) * da);
    }
  }
  for (int r = 0; r < kR; ++r) out[r] = hsum(acc[r]);
}

template <bool kFive, class B>
float dot_q41_q51(int64_t n, const void* wv, const void* av) {
  const auto* w = static_cast<const B*>(wv);
  const auto* a = static_cast<const BlockQ8_1*>(av);
  __m256 acc = _mm256_setzero_ps();
  float summ = 0;
  for (int64_t b = 0; b < n / kQK; ++b) {
    __m256i q = nibbles(w[b].qs);
    if constexpr (kFive) {
      q = _mm256_or_si256(q, _mm256_and_si256(bits_to_bytes(w[b].qh), _mm256_set1_epi8(0x10)));
    }
    const __m256i s = dot_us(_mm256_setzero_si256(), q, load32(a[b].qs));
    const float d = gguf::fp16_to_fp32(w[b].d) * gguf::fp16_to_fp32(a[b].d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(s), acc);
    summ += gguf::fp16_to_fp32(w[b].m) * gguf::fp16_to_fp32(a[b].s);
  }
  return hsum(acc) + summ;
}

// kT tokens against one Q4_1/Q5_1 row, each output exactly as dot_q41_q51 computes it (the
// min term summed as a fused multiply-add, as GCC compiles `summ += m * s` there); the weight
// block is decoded once for all tokens.
template <bool kFive, class B, int kT>
void dot_q41_q51_multi(int64_t n, const void* wv, const void* const* av, float* out) {
  const auto* w = static_cast<const B*>(wv);
  const BlockQ8_1* a[kT];
  __m256 acc[kT];
  float summ[kT];
  for (int t = 0; t < kT; ++t) {
    a[t] = static_cast<const BlockQ8_1*>(av[t]);
    acc[t] = _mm256_setzero_ps();
    summ[t] = 0.f;
  }
  __m128 summ4 = _mm_setzero_ps();
  for (int64_t b = 0; b < n / kQK; ++b) {
    __m256i q = nibbles(w[b].qs);
    if constexpr (kFive) {
      q = _mm256_or_si256(q, _mm256_and_si256(bits_to_bytes(w[b].qh), _mm256_set1_epi8(0x10)));
    }
    const float wd = gguf::fp16_to_fp32(w[b].d), wm = gguf::fp16_to_fp32(w[b].m);
    if constexpr (kT == 4) {
      // As dot_q0: the four tokens' scales and sums converted, scaled and fused together
      // (lane t of summ4 is summ[t]'s fused multiply-add).
      const __m128 d4 =
          _mm_mul_ps(_mm_set1_ps(wd), fp16x4(a[0][b].d, a[1][b].d, a[2][b].d, a[3][b].d));
      summ4 =
          _mm_fmadd_ps(_mm_set1_ps(wm), fp16x4(a[0][b].s, a[1][b].s, a[2][b].s, a[3][b].s), summ4);
      for (int t = 0; t < 4; ++t) {
        const __m256i s = dot_us(_mm256_setzero_si256(), q, load32(a[t][b].qs));
        acc[t] = _mm256_fmadd_ps(broadcast_lane(d4, t), _mm256_cvtepi32_ps(s), acc[t]);
      }
      continue;
    }
    for (int t = 0; t < kT; ++t) {
      const __m256i s = dot_us(_mm256_setzero_si256(), q, load32(a[t][b].qs));
      const float d = wd * gguf::fp16_to_fp32(a[t][b].d);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(s), acc[t]);
      summ[t] = std::fma(wm, gguf::fp16_to_fp32(a[t][b].s), summ[t]);
    }
  }
  if constexpr (kT == 4) _mm_storeu_ps(summ, summ4);
  for (int t = 0; t < kT; ++t) out[t] = hsum(acc[t]) + summ[t];
}

// kRepacked 1/2: the float order of ggml's q4_K_8x8 repacked GEMV (1: one fused multiply-add
// per super-block into a scale and a min accumulator, from exact integer totals) and GEMM
// (2: the same per 64-element half-pair of sub-blocks), which llama.cpp uses on AVX2 for every
// Q4_K matrix with a multiple of 8 rows (GEMM for groups of 4 tokens, GEMV for the rest).
// kT tokens against one row (the weights decoded once for all): out[t] is the one-token
// dot of token t bit for bit (each token's float steps are the one-token ones).
template <bool kFive, int kRepacked, int kT>
void dot_q4k_q5k_n(int64_t n, const void* wv, const void* const* av, float* out) {
  const BlockQ8_K* a[kT];
  for (int t = 0; t < kT; ++t) a[t] = static_cast<const BlockQ8_K*>(av[t]);
  const size_t bb = kFive ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const uint8_t* wp = static_cast<const uint8_t*>(wv);
  __m256 acc[kT];
  float mins[kT], acc_r[kT], mins_r[kT], acc_m[kT][4];
  for (int t = 0; t < kT; ++t) {
    acc[t] = _mm256_setzero_ps();
    mins[t] = acc_r[t] = mins_r[t] = 0;
    for (int k = 0; k < 4; ++k) acc_m[t][k] = 0;
  }
  const __m256i m4 = _mm256_set1_epi8(0xF);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* bp = wp + b * bb;
    uint16_t dh, mh;
    std::memcpy(&dh, bp, 2);
    std::memcpy(&mh, bp + 2, 2);
    const uint8_t* scales = bp + 4;
    const uint8_t* qh = bp + 16;
    const uint8_t* qs = bp + (kFive ? 48 : 16);
    int sc[8], mn[8];
    for (int j = 0; j < 8; ++j) gguf::scale_min_k4(j, scales, sc[j], mn[j]);
    int summ[kT];
    for (int t = 0; t < kT; ++t) {
      summ[t] = 0;
      for (int j = 0; j < 8; ++j)
        summ[t] += mn[j] * (a[t][b].bsums[2 * j] + a[t][b].bsums[2 * j + 1]);
    }
    __m256i hbits;
    if constexpr (kFive) hbits = load32(qh);
    __m256i sumi[kT];
    for (int t = 0; t < kT; ++t) sumi[t] = _mm256_setzero_si256();
    for (int g = 0; g < 4; ++g) {
      const __m256i raw = load32(qs + 32 * g);
      __m256i lo = _mm256_and_si256(raw, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      if constexpr (kFive) {
        const __m256i one = _mm256_set1_epi8(1);
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
        hi = _mm256_or_si256(
            hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
        hbits = _mm256_srli_epi16(hbits, 2);
      }
      for (int t = 0; t < kT; ++t) {
        const __m256i p0 = dot_us(_mm256_setzero_si256(), lo, load32(a[t][b].qs + 64 * g));
        const __m256i p1 = dot_us(_mm256_setzero_si256(), hi, load32(a[t][b].qs + 64 * g + 32));
        if constexpr (kRepacked == 2) {
          const __m256i half =
              _mm256_add_epi32(_mm256_mullo_epi32(p0, _mm256_set1_epi32(sc[2 * g])),
                               _mm256_mullo_epi32(p1, _mm256_set1_epi32(sc[2 * g + 1])));
          const int16_t* bs = a[t][b].bsums + 4 * g;
          const int half_min = mn[2 * g] * (bs[0] + bs[1]) + mn[2 * g + 1] * (bs[2] + bs[3]);
          acc_r[t] = std::fma(float(hsum_i32(half)), gguf::fp16_to_fp32(dh) * a[t][b].d, acc_r[t]);
          mins_r[t] = std::fma(float(half_min), gguf::fp16_to_fp32(mh) * a[t][b].d, mins_r[t]);
          continue;
        }
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_mullo_epi32(p0, _mm256_set1_epi32(sc[2 * g])));
        sumi[t] =
            _mm256_add_epi32(sumi[t], _mm256_mullo_epi32(p1, _mm256_set1_epi32(sc[2 * g + 1])));
      }
    }
    if constexpr (kRepacked == 2) continue;
    for (int t = 0; t < kT; ++t) {
      if constexpr (kRepacked == 3) {  // tiled: (d*s1 - dmin*s2) fused, then times d_a fused
        const float res = std::fma(-gguf::fp16_to_fp32(mh), float(summ[t]),
                                   gguf::fp16_to_fp32(dh) * float(hsum_i32(sumi[t])));
        acc_r[t] = std::fma(res, a[t][b].d, acc_r[t]);
      } else if constexpr (kRepacked == 1) {
        acc_r[t] = std::fma(float(hsum_i32(sumi[t])), gguf::fp16_to_fp32(dh) * a[t][b].d, acc_r[t]);
        mins_r[t] = std::fma(float(summ[t]), gguf::fp16_to_fp32(mh) * a[t][b].d, mins_r[t]);
      } else {
        const float d = gguf::fp16_to_fp32(dh) * a[t][b].d;
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
        if constexpr (kFive) {
          mins[t] += gguf::fp16_to_fp32(mh) * a[t][b].d * float(summ[t]);
        } else {
          // ggml's Q4_K vec_dot keeps the mins in 4 lanes: lane k = m[2k]*S[2k] +
          // m[2k+1]*S[2k+1] (S = sub-block sums of the activations), accumulated with
          // -d_a*dmin.
          const float dmin = -a[t][b].d * gguf::fp16_to_fp32(mh);
          for (int k = 0; k < 4; ++k) {
            const int16_t* bs = a[t][b].bsums + 4 * k;
            const int lane = mn[2 * k] * (bs[0] + bs[1]) + mn[2 * k + 1] * (bs[2] + bs[3]);
            acc_m[t][k] = std::fma(dmin, float(lane), acc_m[t][k]);
          }
        }
      }
    }
  }
  for (int t = 0; t < kT; ++t) {
    if constexpr (kRepacked == 3)
      out[t] = acc_r[t];
    else if constexpr (kRepacked != 0)
      out[t] = acc_r[t] - mins_r[t];
    else if constexpr (kFive)
      out[t] = hsum(acc[t]) - mins[t];
    else
      out[t] = hsum(acc[t]) + ((acc_m[t][0] + acc_m[t][2]) + (acc_m[t][1] + acc_m[t][3]));
  }
}

template <bool kFive, int kRepacked = 0>
float dot_q4k_q5k(int64_t n, const void* wv, const void* av) {
  float out;
  dot_q4k_q5k_n<kFive, kRepacked, 1>(n, wv, &av, &out);
  return out;
}

// The four lane sums of a, b, c and d (exact: integer addition in any order).
inline __m128i hsum4_i32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
  return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

// Token groups of 4 (a[0, 4 * groups), groups <= kMaxGemmGroups) against one Q4_K row in the
// repacked GEMM order: out[t] equals dot_q4k_q5k<false, 2>(n, w, a[t]) bit for bit (the same
// integer totals, the same fused multiply-adds per lane and in the same sequence), but the
// scales and nibbles are decoded once for all tokens and four accumulations share a register.
constexpr int kMaxGemmGroups = 8;
void dot_q4k_gemm_groups(int64_t n, const void* wv, const void* const* av, int groups, float* out) {
  const uint8_t* wp = static_cast<const uint8_t*>(wv);
  const __m256i m4 = _mm256_set1_epi8(0xF);
  __m128 acc[kMaxGemmGroups], mins[kMaxGemmGroups], dsc[kMaxGemmGroups], dmn[kMaxGemmGroups];
  __m128i hmin[kMaxGemmGroups][4];
  for (int k = 0; k < groups; ++k) acc[k] = mins[k] = _mm_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* bp = wp + b * sizeof(BlockQ4_K);
    uint16_t dh, mh;
    std::memcpy(&dh, bp, 2);
    std::memcpy(&mh, bp + 2, 2);
    int sc[8], mn[8];
    for (int j = 0; j < 8; ++j) gguf::scale_min_k4(j, bp + 4, sc[j], mn[j]);
    const __m128 dw = _mm_set1_ps(gguf::fp16_to_fp32(dh)), mw = _mm_set1_ps(gguf::fp16_to_fp32(mh));
    // min_j * (bsum_2j + bsum_2j+1) per token as int32 lanes, then per half-pair g the sum of
    // lanes 2g and 2g+1, transposed to one 4-token vector per g.
    const __m256i mnd =
        _mm256_setr_epi16(int16_t(mn[0]), int16_t(mn[0]), int16_t(mn[1]), int16_t(mn[1]),
                          int16_t(mn[2]), int16_t(mn[2]), int16_t(mn[3]), int16_t(mn[3]),
                          int16_t(mn[4]), int16_t(mn[4]), int16_t(mn[5]), int16_t(mn[5]),
                          int16_t(mn[6]), int16_t(mn[6]), int16_t(mn[7]), int16_t(mn[7]));
    for (int k = 0; k < groups; ++k) {
      const BlockQ8_K* a[4];
      __m256i v[4];
      for (int t = 0; t < 4; ++t) {
        a[t] = static_cast<const BlockQ8_K*>(av[4 * k + t]) + b;
        v[t] = _mm256_madd_epi16(load32(a[t]->bsums), mnd);
      }
      const __m256i x = _mm256_hadd_epi32(v[0], v[1]), y = _mm256_hadd_epi32(v[2], v[3]);
      const __m128 xl = _mm_castsi128_ps(_mm256_castsi256_si128(x));
      const __m128 yl = _mm_castsi128_ps(_mm256_castsi256_si128(y));
      const __m128 xh = _mm_castsi128_ps(_mm256_extracti128_si256(x, 1));
      const __m128 yh = _mm_castsi128_ps(_mm256_extracti128_si256(y, 1));
      hmin[k][0] = _mm_castps_si128(_mm_shuffle_ps(xl, yl, _MM_SHUFFLE(2, 0, 2, 0)));
      hmin[k][1] = _mm_castps_si128(_mm_shuffle_ps(xl, yl, _MM_SHUFFLE(3, 1, 3, 1)));
      hmin[k][2] = _mm_castps_si128(_mm_shuffle_ps(xh, yh, _MM_SHUFFLE(2, 0, 2, 0)));
      hmin[k][3] = _mm_castps_si128(_mm_shuffle_ps(xh, yh, _MM_SHUFFLE(3, 1, 3, 1)));
      const __m128 ad = _mm_setr_ps(a[0]->d, a[1]->d, a[2]->d, a[3]->d);
      dsc[k] = _mm_mul_ps(dw, ad);
      dmn[k] = _mm_mul_ps(mw, ad);
    }
    for (int g = 0; g < 4; ++g) {
      const __m256i raw = load32(bp + 16 + 32 * g);
      const __m256i lo = _mm256_and_si256(raw, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      // sum(q * a) * scale as int32 lanes: madd by the scale instead of by 1 then times it.
      const __m256i s0 = _mm256_set1_epi16(int16_t(sc[2 * g]));
      const __m256i s1 = _mm256_set1_epi16(int16_t(sc[2 * g + 1]));
      for (int k = 0; k < groups; ++k) {
        __m256i half[4];
        for (int t = 0; t < 4; ++t) {
          const int8_t* q = (static_cast<const BlockQ8_K*>(av[4 * k + t]) + b)->qs + 64 * g;
          half[t] =
              _mm256_add_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(lo, load32(q)), s0),
                               _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load32(q + 32)), s1));
        }
        const __m128i tot = hsum4_i32(half[0], half[1], half[2], half[3]);
        acc[k] = _mm_fmadd_ps(_mm_cvtepi32_ps(tot), dsc[k], acc[k]);
        mins[k] = _mm_fmadd_ps(_mm_cvtepi32_ps(hmin[k][g]), dmn[k], mins[k]);
      }
    }
  }
  for (int k = 0; k < groups; ++k) _mm_storeu_ps(out + 4 * k, _mm_sub_ps(acc[k], mins[k]));
}

// The 256 unsigned 6-bit values of a Q6_K block, 32 per register in element order.
inline void q6k_values(const BlockQ6_K& w, __m256i q[8]) {
  const __m256i m4 = _mm256_set1_epi8(0xF), m30 = _mm256_set1_epi8(0x30);
  for (int h = 0; h < 2; ++h) {
    const __m256i ql0 = load32(w.ql + 64 * h), ql1 = load32(w.ql + 64 * h + 32);
    const __m256i qh = load32(w.qh + 32 * h);
    q[4 * h + 0] =
        _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
    q[4 * h + 1] =
        _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
    q[4 * h + 2] =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30));
    q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
  }
}

// kTiled: the float order of ggml's tiled K-quant matmul (prompt batches of >= 8 tokens):
// per super-block the exact integer total s, then acc += (d_w * s) * d_a as one fused step.
template <bool kTiled, int kT>
void dot_q6_k_n(int64_t n, const void* wv, const void* const* av, float* out) {
  const auto* w = static_cast<const BlockQ6_K*>(wv);
  const BlockQ8_K* a[kT];
  for (int t = 0; t < kT; ++t) a[t] = static_cast<const BlockQ8_K*>(av[t]);
  __m256 acc[kT];
  float tiled_acc[kT];
  for (int t = 0; t < kT; ++t) acc[t] = _mm256_setzero_ps(), tiled_acc[t] = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const int8_t* sc = w[b].scales;
    __m256i q[8];
    q6k_values(w[b], q);
    __m256i s[8];
    for (int c = 0; c < 8; ++c)
      s[c] = _mm256_set_m128i(_mm_set1_epi32(sc[2 * c + 1]), _mm_set1_epi32(sc[2 * c]));
    for (int t = 0; t < kT; ++t) {
      // The +32 bias of the unsigned values is removed per lane as ggml's AVX2 vec_dot does:
      // lane i loses 32 * (scale[2i] * bsum[2i] + scale[2i+1] * bsum[2i+1]).
      alignas(32) int32_t sub[8];
      for (int i = 0; i < 8; ++i)
        sub[i] = 32 * (sc[2 * i] * a[t][b].bsums[2 * i] + sc[2 * i + 1] * a[t][b].bsums[2 * i + 1]);
      __m256i sumi = _mm256_setzero_si256();
      for (int c = 0; c < 8; ++c) {  // 32 values, two scales
        const __m256i p = dot_us(_mm256_setzero_si256(), q[c], load32(a[t][b].qs + 32 * c));
        sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(p, s[c]));
      }
      sumi = _mm256_sub_epi32(sumi, _mm256_load_si256(reinterpret_cast<const __m256i*>(sub)));
      if constexpr (kTiled) {
        const float res = gguf::fp16_to_fp32(w[b].d) * float(hsum_i32(sumi));
        tiled_acc[t] = std::fma(res, a[t][b].d, tiled_acc[t]);
      } else {
        const float d = gguf::fp16_to_fp32(w[b].d) * a[t][b].d;
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc[t]);
      }
    }
  }
  for (int t = 0; t < kT; ++t) out[t] = kTiled ? tiled_acc[t] : hsum(acc[t]);
}

// kTiled: the float order of ggml's tiled K-quant matmul (prompt batches of >= 8 tokens):
// per super-block the exact integer total s, then acc += (d_w * s) * d_a as one fused step.
template <bool kTiled = false>
float dot_q6_k(int64_t n, const void* wv, const void* av) {
  float out;
  dot_q6_k_n<kTiled, 1>(n, wv, &av, &out);
  return out;
}

// Token groups of 4 against one Q6_K row in the tiled order (dot_q6_k<true>): per super-block
// the exact integer total, computed here as sum(q * a * scale) - 32 * sum(scale * bsum) (any
// integer order gives the same total), then acc += (d_w * total) * d_a as one fused step per
// token. The 6-bit values are decoded once for all tokens.
void dot_q6k_tiled_groups(int64_t n, const void* wv, const void* const* av, int groups,
                          float* out) {
  const auto* w = static_cast<const BlockQ6_K*>(wv);
  __m128 acc[kMaxGemmGroups];
  for (int k = 0; k < groups; ++k) acc[k] = _mm_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const int8_t* sc = w[b].scales;
    __m256i q[8], q_scale[8];  // 32 values each; the scales of their two 16-value halves
    q6k_values(w[b], q);
    for (int c = 0; c < 8; ++c)
      q_scale[c] = _mm256_set_m128i(_mm_set1_epi16(sc[2 * c + 1]), _mm_set1_epi16(sc[2 * c]));
    __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
    sc16 = _mm256_slli_epi16(sc16, 5);  // 32 * scale fits int16 (|scale| <= 128)
    const __m128 dw = _mm_set1_ps(gguf::fp16_to_fp32(w[b].d));
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
    // 64 values per register; vpdpwssd scales the int16 pair sums and accumulates in one step.
    __m512i q2[4], q2_scale[4];
    for (int c = 0; c < 4; ++c) {
      q2[c] = _mm512_inserti64x4(_mm512_castsi256_si512(q[2 * c]), q[2 * c + 1], 1);
      q2_scale[c] =
          _mm512_inserti64x4(_mm512_castsi256_si512(q_scale[2 * c]), q_scale[2 * c + 1], 1);
    }
#endif
    for (int k = 0; k < groups; ++k) {
      __m256i tot[4];
      float ad[4];
      for (int t = 0; t < 4; ++t) {
        const BlockQ8_K* a = static_cast<const BlockQ8_K*>(av[4 * k + t]) + b;
        ad[t] = a->d;
        __m256i sum =
            _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(load32(a->bsums), sc16));
#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
        __m512i sum2 = _mm512_zextsi256_si512(sum);
        for (int c = 0; c < 4; ++c)
          sum2 = _mm512_dpwssd_epi32(
              sum2, _mm512_maddubs_epi16(q2[c], _mm512_loadu_si512(a->qs + 64 * c)), q2_scale[c]);
        sum = _mm256_add_epi32(_mm512_castsi512_si256(sum2), _mm512_extracti64x4_epi64(sum2, 1));
#else
        for (int c = 0; c < 8; ++c) {
          sum = _mm256_add_epi32(
              sum,
              _mm256_madd_epi16(_mm256_maddubs_epi16(q[c], load32(a->qs + 32 * c)), q_scale[c]));
          __asm__("" : "+x"(sum));  // a register chain, not reassociated products on the stack
        }
#endif
        tot[t] = sum;
      }
      const __m128 res = _mm_mul_ps(dw, _mm_cvtepi32_ps(hsum4_i32(tot[0], tot[1], tot[2], tot[3])));
      acc[k] = _mm_fmadd_ps(res, _mm_loadu_ps(ad), acc[k]);
    }
  }
  for (int k = 0; k < groups; ++k) _mm_storeu_ps(out + 4 * k, acc[k]);
}

float dot_f16_avx(int64_t n, const uint16_t* x, const uint16_t* y) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256 y0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i)));
    const __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8)));
    const __m256 y1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i + 8)));
    a0 = _mm256_fmadd_ps(x0, y0, a0);
    a1 = _mm256_fmadd_ps(x1, y1, a1);
  }
  float s = hsum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += gguf::fp16_to_fp32(x[i]) * gguf::fp16_to_fp32(y[i]);
  return s;
}

float dot_f32_avx(int64_t n, const float* x, const float* y) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
  }
  float s = hsum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += x[i] * y[i];
  return s;
}

float dot_bf16_avx(int64_t n, const uint16_t* x, const uint16_t* y) {
  __m256 a0 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i xi =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256i yi =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i)));
    a0 = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(xi, 16)),
                         _mm256_castsi256_ps(_mm256_slli_epi32(yi, 16)), a0);
  }
  float s = hsum(a0);
  for (; i < n; ++i) s += gguf::bf16_to_fp32(x[i]) * gguf::bf16_to_fp32(y[i]);
  return s;
}

// Activation quantization, byte for byte as quantize_act_row_ref (ggml's x86 quantize_row_q8_0,
// q8_1 and q8_K): the maxima are exact in any order, and each value is rounded on its own.
inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), v); }
inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}
// 32 floats times `scale`, rounded half to even, as int8 in element order; returns their sum.
inline int round_pack_32(const float* x, __m256 scale, int8_t* qs) {
  __m256i i[4];
  for (int k = 0; k < 4; ++k)
    i[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), scale),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  const __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i[0], i[1]), _mm256_add_epi32(i[2], i[3]));
  // packs interleaves 128-bit lanes; the permute puts the 32 bytes back in element order.
  const __m256i p =
      _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs),
                      _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  return hsum_i32(sum);
}
// One Q8_0/Q8_1 block: *d = amax / 127, q = round(x * (127 / amax)). Returns sum(q).
inline int quantize_q8_32(const float* x, float* d, int8_t* qs) {
  __m256 m = abs_ps(_mm256_loadu_ps(x));
  for (int k = 1; k < 4; ++k) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + 8 * k)));
  const float amax = hmax(m);
  *d = amax / 127.f;
  const float id = amax != 0.f ? 127.f / amax : 0.f;
  return round_pack_32(x, _mm256_set1_ps(id), qs);
}
// One Q8_K block: the scale from the first value of largest magnitude, with its sign.
inline void quantize_q8_k(const float* x, BlockQ8_K& y) {
  __m256 m = abs_ps(_mm256_loadu_ps(x));
  for (int k = 1; k < kQK_K / 8; ++k) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + 8 * k)));
  const float amax = hmax(m);
  if (amax == 0.f) {
    std::memset(&y, 0, sizeof(y));
    return;
  }
  int j = 0;
  while (std::fabs(x[j]) != amax) ++j;
  const float iscale = -127.f / x[j];
  for (int g = 0; g < kQK_K / 32; ++g)
    (void)round_pack_32(x + 32 * g, _mm256_set1_ps(iscale), y.qs + 32 * g);
  for (int g = 0; g < kQK_K / 16; ++g) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y.qs + 16 * g));
    const __m256i w = _mm256_cvtepi8_epi16(q);
    y.bsums[g] = int16_t(hsum_i32(_mm256_madd_epi16(w, _mm256_set1_epi16(1))));
  }
  y.d = 1.f / iscale;
}
}  // namespace

float vec_dot(TensorType t, int64_t n, const void* w, const void* a) {
  switch (t) {
    case TensorType::kF32:
      return dot_f32_avx(n, static_cast<const float*>(w), static_cast<const float*>(a));
    case TensorType::kF16:
      return dot_f16_avx(n, static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(a));
    case TensorType::kBF16:
      return dot_bf16_avx(n, static_cast<const uint16_t*>(w), static_cast<const uint16_t*>(a));
    case TensorType::kQ8_0:
      return dot_q0_one<TensorType::kQ8_0>(n, w, a);
    case TensorType::kQ4_0:
      return dot_q0_one<TensorType::kQ4_0>(n, w, a);
    case TensorType::kQ5_0:
      return dot_q0_one<TensorType::kQ5_0>(n, w, a);
    case TensorType::kQ4_1:
      return dot_q41_q51<false, BlockQ4_1>(n, w, a);
    case TensorType::kQ5_1:
      return dot_q41_q51<true, BlockQ5_1>(n, w, a);
    case TensorType::kQ4_K:
      return dot_q4k_q5k<false>(n, w, a);
    case TensorType::kQ5_K:
      return dot_q4k_q5k<true>(n, w, a);
    case TensorType::kQ6_K:
      return dot_q6_k(n, w, a);
    default:
      break;
  }
  return tensor::vec_dot_ref(t, n, w, a);
}

void vec_dot_multi(TensorType t, int64_t n, const void* w, const void* const* act, int n_act,
                   float* out) {
  int i = 0;
  for (; i + 4 <= n_act; i += 4) {
    if (t == TensorType::kQ8_0)
      dot_q0<TensorType::kQ8_0, 4>(n, w, act + i, out + i);
    else if (t == TensorType::kQ5_0)
      dot_q0<TensorType::kQ5_0, 4>(n, w, act + i, out + i);
    else if (t == TensorType::kQ4_0)
      dot_q0<TensorType::kQ4_0, 4>(n, w, act + i, out + i);
    else if (t == TensorType::kQ4_1)
      dot_q41_q51_multi<false, BlockQ4_1, 4>(n, w, act + i, out + i);
    else if (t == TensorType::kQ5_1)
      dot_q41_q51_multi<true, BlockQ5_1, 4>(n, w, act + i, out + i);
    else if (t == TensorType::kQ4_K)
      dot_q4k_q5k_n<false, 0, 4>(n, w, act + i, out + i);
    else if (t == TensorType::kQ5_K)
      dot_q4k_q5k_n<true, 0, 4>(n, w, act + i, out + i);
    else if (t == TensorType::kQ6_K)
      dot_q6_k_n<false, 4>(n, w, act + i, out + i);
    else
      break;
  }
  for (; i < n_act; ++i) out[i] = vec_dot(t, n, w, act[i]);
}

int64_t vec_dot_rows(TensorType t, int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                     const void* act, float* out) {
  constexpr int kR = 4;
  using Rows = void (*)(int64_t, const uint8_t*, size_t, const void*, float*);
  Rows f;
  switch (t) {
    case TensorType::kQ8_0:
      f = dot_q0_rows<TensorType::kQ8_0, kR>;
      break;
    case TensorType::kQ5_0:
      f = dot_q0_rows<TensorType::kQ5_0, kR>;
      break;
    case TensorType::kQ4_0:
      f = dot_q0_rows<TensorType::kQ4_0, kR>;
      break;
    default:
      return 0;
  }
  const int64_t done = rows - rows % kR;
  for (int64_t r = 0; r < done; r += kR) f(n, w + size_t(r) * w_stride, w_stride, act, out + r);
  return done;
}

float vec_dot_q4k_repacked(int64_t n, const void* w, const void* a, bool gemm) {
  return gemm ? dot_q4k_q5k<false, 2>(n, w, a) : dot_q4k_q5k<false, 1>(n, w, a);
}

void vec_dot_q4k_repacked_gemv_multi(int64_t n, const void* w, const void* const* act, int n_act,
                                     float* out) {
  int i = 0;
  for (; i + 4 <= n_act; i += 4) dot_q4k_q5k_n<false, 1, 4>(n, w, act + i, out + i);
  for (; i < n_act; ++i) out[i] = vec_dot_q4k_repacked(n, w, act[i], /*gemm=*/false);
}

void vec_dot_q4k_repacked_gemm(int64_t n, const void* w, const void* const* act, int n_act,
                               float* out) {
  for (int t = 0; t < n_act; t += 4 * kMaxGemmGroups)
    dot_q4k_gemm_groups(n, w, act + t, min_(kMaxGemmGroups, (n_act - t) / 4), out + t);
}

void vec_dot_kquant_tiled_multi(TensorType t, int64_t n, const void* w, const void* const* act,
                                int n_act, float* out) {
  int i = 0;
  while (t == TensorType::kQ6_K && i + 4 <= n_act) {
    const int groups = min_(kMaxGemmGroups, (n_act - i) / 4);
    dot_q6k_tiled_groups(n, w, act + i, groups, out + i);
    i += 4 * groups;
  }
  for (; i < n_act; ++i) out[i] = vec_dot_kquant_tiled(t, n, w, act[i]);
}

float vec_dot_kquant_tiled(TensorType t, int64_t n, const void* w, const void* a) {
  switch (t) {
    case TensorType::kQ4_K:
      return dot_q4k_q5k<false, 3>(n, w, a);
    case TensorType::kQ5_K:
      return dot_q4k_q5k<true, 3>(n, w, a);
    case TensorType::kQ6_K:
      return dot_q6_k<true>(n, w, a);
    default:
      break;
  }
  return vec_dot(t, n, w, a);
}

void quantize_act_row(ActType a, const float* x, void* dst, int64_t n) {
  switch (a) {
    case ActType::kQ8_0:
      for (int64_t b = 0; b < n / kQK; ++b) {
        auto& y = static_cast<BlockQ8_0*>(dst)[b];
        float d;
        (void)quantize_q8_32(x + b * kQK, &d, y.qs);
        y.d = gguf::fp32_to_fp16(d);
      }
      return;
    case ActType::kQ8_1:
      for (int64_t b = 0; b < n / kQK; ++b) {
        auto& y = static_cast<BlockQ8_1*>(dst)[b];
        float d;
        const int sum = quantize_q8_32(x + b * kQK, &d, y.qs);
        y.d = gguf::fp32_to_fp16(d);
        y.s = gguf::fp32_to_fp16(d * float(sum));
      }
      return;
    case ActType::kQ8_K:
      for (int64_t b = 0; b < n / kQK_K; ++b)
        quantize_q8_k(x + b * kQK_K, static_cast<BlockQ8_K*>(dst)[b]);
      return;
    case ActType::kF16:  // the F16 weights' activations (F16C, not the baseline scalar form)
      f32_to_f16_row(x, static_cast<uint16_t*>(dst), n);
      return;
    default:
      tensor::quantize_act_row_ref(a, x, dst, n);
  }
}

}  // namespace gavel::tensor::GAVEL_ISA_NS
