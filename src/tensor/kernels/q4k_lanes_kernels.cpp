// Q4_K matrices in ggml's repacked-GEMM float order with the tokens in the vector lanes. The
// activations of 16 tokens are interleaved dword by dword, so one broadcast weight dword meets 4
// bytes of every token at once: no horizontal sums, and a decoded weight block serves every
// token of a chunk. AVX-512: one VNNI dpbusd adds 4 products for each of 16 tokens. AVX2: 8
// tokens per vector (half a group), maddubs pairs summed in 16 bits over a 32-element
// sub-block (exact: |sum| <= 8 * 2 * 15 * 128 < 2^15) and widened once. Per output the float
// steps are those of dot_q4k_q5k<false, 2> (quant_kernels.cpp): per 64-element half-pair g the
// exact integer total, acc = fma(total, d_w * d_a, acc), mins = fma(half_min, dmin_w * d_a,
// mins), and acc - mins at the end.
#include "tensor/kernels/isa_namespace.h"
// clang-format off
#include <immintrin.h>
// clang-format on

#include <cstring>

#include "gguf/fp16.h"
#include "tensor/kernels/kernel_decls.h"
#include "tensor/quants.h"

namespace gavel::tensor::GAVEL_ISA_NS {

namespace {

constexpr int kLanes = 16;
// One Q8_K block of 16 tokens: dword k of token t at qs[k][t]; d; the sub-block sums
// s[j][t] = bsums[2j] + bsums[2j + 1] as floats (exact: |s| <= 32 * 128).
struct alignas(64) LaneBlock {
  int32_t qs[kQK_K / 4][kLanes];
  float d[kLanes];
  float s[8][kLanes];
};
// Token groups whose sums stay in registers/L1 while a decoded weight block passes over them.
constexpr int kChunkGroups = 16;

struct DecodedRow {
  alignas(64) uint8_t q[kQK_K];  // element order
  float sc[8], mn[8];            // the 6-bit scales and mins (exact as floats)
  float dw, mw;
};

inline void decode_q4k(const uint8_t* bp, DecodedRow& out) {
  uint16_t dh, mh;
  std::memcpy(&dh, bp, 2);
  std::memcpy(&mh, bp + 2, 2);
  out.dw = gguf::fp16_to_fp32(dh);
  out.mw = gguf::fp16_to_fp32(mh);
  // As floats once per block: the kernel broadcasts them from memory (no int -> float steps
  // in the inner loop).
  for (int j = 0; j < 8; ++j) {
    int sc, mn;
    gguf::scale_min_k4(j, bp + 4, sc, mn);
    out.sc[j] = float(sc);
    out.mn[j] = float(mn);
  }
  const __m256i m4 = _mm256_set1_epi8(0xF);
  for (int g = 0; g < 4; ++g) {
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bp + 16 + 32 * g));
    _mm256_store_si256(reinterpret_cast<__m256i*>(out.q + 64 * g), _mm256_and_si256(raw, m4));
    _mm256_store_si256(reinterpret_cast<__m256i*>(out.q + 64 * g + 32),
                       _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4));
  }
}

inline int32_t dword(const uint8_t* p) {
  int32_t x;
  std::memcpy(&x, p, 4);
  return x;
}

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
// A vector holds the 16 tokens of a group.
constexpr int kVec = 16;
using VecF = __m512;
using VecI = __m512i;
inline VecF load_f(const float* p) { return _mm512_loadu_ps(p); }
inline VecF set1_f(float x) { return _mm512_set1_ps(x); }
inline VecF zero_f() { return _mm512_setzero_ps(); }
inline VecF mul_f(VecF a, VecF b) { return _mm512_mul_ps(a, b); }
inline VecF fma_f(VecF a, VecF b, VecF c) { return _mm512_fmadd_ps(a, b, c); }
inline VecF sub_f(VecF a, VecF b) { return _mm512_sub_ps(a, b); }
inline VecF cvt_f(VecI a) { return _mm512_cvtepi32_ps(a); }
inline void store_f(float* p, VecF a) { _mm512_store_ps(p, a); }
// For kR rows: the exact sums of 32 products (8 dwords k of q_r against qs[k]) per token.
template <int kR>
inline void dot32(const int32_t (*qs)[kLanes], const uint8_t* const* q, VecI out[kR]) {
  for (int r = 0; r < kR; ++r) out[r] = _mm512_setzero_si512();
  for (int k = 0; k < 8; ++k) {
    const __m512i av = _mm512_loadu_si512(qs[k]);
    for (int r = 0; r < kR; ++r)
      out[r] = _mm512_dpbusd_epi32(out[r], _mm512_set1_epi32(dword(q[r] + 4 * k)), av);
  }
}
// Four rows' outputs of the tokens in o[0..3]: each token's 4 outputs in one 16-byte store (64
// scalar stores to 16 strided lines cost a third of this kernel's time).
inline void store_rows4(const VecF o[4], int valid, float* y, int64_t ldy) {
  const __m512 t0 = _mm512_unpacklo_ps(o[0], o[1]), t1 = _mm512_unpackhi_ps(o[0], o[1]);
  const __m512 t2 = _mm512_unpacklo_ps(o[2], o[3]), t3 = _mm512_unpackhi_ps(o[2], o[3]);
  // u[j]: in 128-bit lane k, the 4 rows of token 4k + j.
  const __m512 u[4] = {_mm512_shuffle_ps(t0, t2, 0x44), _mm512_shuffle_ps(t0, t2, 0xEE),
                       _mm512_shuffle_ps(t1, t3, 0x44), _mm512_shuffle_ps(t1, t3, 0xEE)};
  alignas(64) float tr[kVec][4];
  for (int j = 0; j < 4; ++j) {
    _mm_store_ps(tr[j], _mm512_castps512_ps128(u[j]));
    _mm_store_ps(tr[4 + j], _mm512_extractf32x4_ps(u[j], 1));
    _mm_store_ps(tr[8 + j], _mm512_extractf32x4_ps(u[j], 2));
    _mm_store_ps(tr[12 + j], _mm512_extractf32x4_ps(u[j], 3));
  }
  for (int t = 0; t < valid; ++t) _mm_storeu_ps(y + t * ldy, _mm_load_ps(tr[t]));
}
#else
// A vector holds half of a group: 8 tokens.
constexpr int kVec = 8;
using VecF = __m256;
using VecI = __m256i;
inline VecF load_f(const float* p) { return _mm256_loadu_ps(p); }
inline VecF set1_f(float x) { return _mm256_set1_ps(x); }
inline VecF zero_f() { return _mm256_setzero_ps(); }
inline VecF mul_f(VecF a, VecF b) { return _mm256_mul_ps(a, b); }
inline VecF fma_f(VecF a, VecF b, VecF c) { return _mm256_fmadd_ps(a, b, c); }
inline VecF sub_f(VecF a, VecF b) { return _mm256_sub_ps(a, b); }
inline VecF cvt_f(VecI a) { return _mm256_cvtepi32_ps(a); }
inline void store_f(float* p, VecF a) { _mm256_store_ps(p, a); }
template <int kR>
inline void dot32(const int32_t (*qs)[kLanes], const uint8_t* const* q, VecI out[kR]) {
  __m256i s16[kR];
  __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs[0]));
  for (int r = 0; r < kR; ++r) s16[r] = _mm256_maddubs_epi16(_mm256_set1_epi32(dword(q[r])), av);
  for (int k = 1; k < 8; ++k) {
    av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs[k]));
    for (int r = 0; r < kR; ++r) {
      s16[r] = _mm256_add_epi16(s16[r],
                                _mm256_maddubs_epi16(_mm256_set1_epi32(dword(q[r] + 4 * k)), av));
      // Keeps the sums a chain in registers: reassociated, GCC computes all 32 products
      // first and spills them to the stack.
      __asm__("" : "+x"(s16[r]));
    }
  }
  for (int r = 0; r < kR; ++r) out[r] = _mm256_madd_epi16(s16[r], _mm256_set1_epi16(1));
}
inline void store_rows4(const VecF o[4], int valid, float* y, int64_t ldy) {
  const __m256 t0 = _mm256_unpacklo_ps(o[0], o[1]), t1 = _mm256_unpackhi_ps(o[0], o[1]);
  const __m256 t2 = _mm256_unpacklo_ps(o[2], o[3]), t3 = _mm256_unpackhi_ps(o[2], o[3]);
  const __m256 u[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE),
                       _mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xEE)};
  alignas(32) float tr[kVec][4];
  for (int j = 0; j < 4; ++j) {
    _mm_store_ps(tr[j], _mm256_castps256_ps128(u[j]));
    _mm_store_ps(tr[4 + j], _mm256_extractf128_ps(u[j], 1));
  }
  for (int t = 0; t < valid; ++t) _mm_storeu_ps(y + t * ldy, _mm_load_ps(tr[t]));
}
#endif
// Vectors per token group.
constexpr int kHalves = kLanes / kVec;

// kR rows (row i at w + i * w_stride) against the token groups [0, groups) of `lanes`; the
// outputs of tokens < n_tok go to y[t * ldy + i].
template <int kR>
void q4k_lanes_rows(int64_t n, const uint8_t* w, size_t w_stride, const LaneBlock* lanes,
                    int64_t groups, int64_t n_tok, float* y, int64_t ldy) {
  const int64_t nb = n / kQK_K;
  DecodedRow rows[kR];
  for (int64_t g0 = 0; g0 < groups; g0 += kChunkGroups) {
    const int gn = int(groups - g0 < kChunkGroups ? groups - g0 : kChunkGroups);
    // Vector v covers tokens [kVec * v, kVec * v + kVec) of the chunk.
    const int vn = gn * kHalves;
    VecF acc[kChunkGroups * kHalves][kR], mins[kChunkGroups * kHalves][kR];
    for (int v = 0; v < vn; ++v)
      for (int r = 0; r < kR; ++r) acc[v][r] = mins[v][r] = zero_f();
    for (int64_t b = 0; b < nb; ++b) {
      for (int r = 0; r < kR; ++r)
        decode_q4k(w + size_t(r) * w_stride + size_t(b) * sizeof(BlockQ4_K), rows[r]);
      for (int v = 0; v < vn; ++v) {
        const LaneBlock& l = lanes[(g0 + v / kHalves) * nb + b];
        const int off = kVec * (v % kHalves);
        const VecF da = load_f(l.d + off);
        VecF a_acc[kR], m_acc[kR], dsc[kR], dmn[kR];
        for (int r = 0; r < kR; ++r) {
          a_acc[r] = acc[v][r];
          m_acc[r] = mins[v][r];
          dsc[r] = mul_f(set1_f(rows[r].dw), da);
          dmn[r] = mul_f(set1_f(rows[r].mw), da);
        }
        // qs rows of this vector's tokens: qs[k] + off.
        const int32_t(*qs)[kLanes] = reinterpret_cast<const int32_t(*)[kLanes]>(&l.qs[0][off]);
        for (int g = 0; g < 4; ++g) {
          VecI lo[kR], hi[kR];
          const uint8_t* q[kR];
          for (int r = 0; r < kR; ++r) q[r] = rows[r].q + 64 * g;
          dot32<kR>(qs + 16 * g, q, lo);
          for (int r = 0; r < kR; ++r) q[r] += 32;
          dot32<kR>(qs + 16 * g + 8, q, hi);
          // The integer totals sc0 * lo + sc1 * hi and mn0 * s0 + mn1 * s1, computed in float:
          // every operand and product is an integer below 2^24 (|lo| <= 32 * 15 * 128, scales
          // <= 63), so each step is exact and gives the float of the exact integer total,
          // without 32-bit integer multiplies.
          const VecF s0 = load_f(l.s[2 * g] + off), s1 = load_f(l.s[2 * g + 1] + off);
          for (int r = 0; r < kR; ++r) {
            const VecF total = fma_f(cvt_f(lo[r]), set1_f(rows[r].sc[2 * g]),
                                     mul_f(cvt_f(hi[r]), set1_f(rows[r].sc[2 * g + 1])));
            a_acc[r] = fma_f(total, dsc[r], a_acc[r]);
            const VecF half_min =
                fma_f(s0, set1_f(rows[r].mn[2 * g]), mul_f(s1, set1_f(rows[r].mn[2 * g + 1])));
            m_acc[r] = fma_f(half_min, dmn[r], m_acc[r]);
          }
        }
        for (int r = 0; r < kR; ++r) {
          acc[v][r] = a_acc[r];
          mins[v][r] = m_acc[r];
        }
      }
    }
    for (int v = 0; v < vn; ++v) {
      const int64_t tok0 = g0 * kLanes + int64_t(v) * kVec;
      const int valid = int(n_tok - tok0 < kVec ? n_tok - tok0 : kVec);
      if (valid <= 0) break;
      if constexpr (kR == 4) {
        VecF o[4];
        for (int r = 0; r < 4; ++r) o[r] = sub_f(acc[v][r], mins[v][r]);
        store_rows4(o, valid, y + tok0 * ldy, ldy);
      } else {
        for (int r = 0; r < kR; ++r) {
          alignas(64) float out[kVec];
          store_f(out, sub_f(acc[v][r], mins[v][r]));
          for (int t = 0; t < valid; ++t) y[(tok0 + t) * ldy + r] = out[t];
        }
      }
    }
  }
}

}  // namespace

size_t q8k_lanes_bytes(int64_t n, int64_t n_tok) {
  return size_t((n_tok + kLanes - 1) / kLanes) * size_t(n / kQK_K) * sizeof(LaneBlock);
}

void pack_q8k_lanes(int64_t n, const uint8_t* act, size_t act_stride, int64_t n_tok, int64_t g0,
                    int64_t g1, uint8_t* out) {
  const int64_t nb = n / kQK_K;
  auto* lanes = reinterpret_cast<LaneBlock*>(out);
  for (int64_t g = g0; g < g1; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      LaneBlock& l = lanes[g * nb + b];
      for (int t = 0; t < kLanes; ++t) {
        const int64_t tok = g * kLanes + t;
        if (tok >= n_tok) {
          for (int k = 0; k < kQK_K / 4; ++k) l.qs[k][t] = 0;
          for (int j = 0; j < 8; ++j) l.s[j][t] = 0.f;
          l.d[t] = 0.f;
          continue;
        }
        const auto* a = reinterpret_cast<const BlockQ8_K*>(act + size_t(tok) * act_stride) + b;
        for (int k = 0; k < kQK_K / 4; ++k) std::memcpy(&l.qs[k][t], a->qs + 4 * k, 4);
        for (int j = 0; j < 8; ++j) l.s[j][t] = float(a->bsums[2 * j] + a->bsums[2 * j + 1]);
        l.d[t] = a->d;
      }
    }
}

void matmul_q4k_lanes(int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                      const uint8_t* lanes, int64_t n_tok, float* y, int64_t ldy) {
  const auto* l = reinterpret_cast<const LaneBlock*>(lanes);
  const int64_t groups = (n_tok + kLanes - 1) / kLanes;
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4)
    q4k_lanes_rows<4>(n, w + size_t(r) * w_stride, w_stride, l, groups, n_tok, y + r, ldy);
  for (; r < rows; ++r)
    q4k_lanes_rows<1>(n, w + size_t(r) * w_stride, w_stride, l, groups, n_tok, y + r, ldy);
}

}  // namespace gavel::tensor::GAVEL_ISA_NS
