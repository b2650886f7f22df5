// llama.cpp's float reduction orders (tensor/exact_order.h) for one ISA level: W = 8 lanes on
// AVX2, 16 on AVX-512. Every function is first written as per-lane scalar code (std::fma for
// each fused multiply-add), which defines the order; the intrinsic fast paths compute the same
// lanes and are tested against the written-out orders (tests/tensor/test_exact_order.cpp).
#include "tensor/kernels/isa_namespace.h"
// clang-format off
#include <immintrin.h>
// clang-format on

#include <cmath>
#include <cstring>
#include <limits>

#include "gguf/fp16.h"
#include "tensor/kernels/kernel_decls.h"
#include "tensor/kernels/static_count.h"

namespace gavel::tensor::GAVEL_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int W = 16;
#else
constexpr int W = 8;
#endif

inline float fmax_(float a, float b) { return a < b ? b : a; }

// Horizontal sum of one W-lane register as tinyBLAS's hsum / GCC's _mm512_reduce_add_ps.
inline float hsum_lanes(const float* x) {
  if constexpr (W == 8) {
    return ((x[0] + x[4]) + (x[2] + x[6])) + ((x[1] + x[5]) + (x[3] + x[7]));
  } else {
    float t[8], u[4];
    for (int i = 0; i < 8; ++i) t[i] = x[i] + x[i + 8];
    for (int i = 0; i < 4; ++i) u[i] = t[i] + t[i + 4];
    return (u[0] + u[2]) + (u[1] + u[3]);
  }
}

// GGML_F32_VEC_REDUCE of four W-lane accumulators (acc[r * W + lane]).
inline float reduce_four(const float* acc) {
  float s[W];
  for (int i = 0; i < W; ++i) s[i] = (acc[i] + acc[2 * W + i]) + (acc[W + i] + acc[3 * W + i]);
  if constexpr (W == 8) {
    // _mm_add_ps(lo, hi), then two _mm_hadd_ps.
    const float t0 = s[0] + s[4], t1 = s[1] + s[5], t2 = s[2] + s[6], t3 = s[3] + s[7];
    return (t0 + t1) + (t2 + t3);
  } else {
    return hsum_lanes(s);
  }
}

#if defined(__AVX512F__)
inline __m512 load_h16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
// _mm512_reduce_add_ps is hsum_lanes for W = 16 (GCC's definition: halves, quarters, pairs).
inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }
// reduce_four for W = 16: (x0 + x2) + (x1 + x3), then hsum.
inline float reduce_four512(__m512 x0, __m512 x1, __m512 x2, __m512 x3) {
  return hsum512(_mm512_add_ps(_mm512_add_ps(x0, x2), _mm512_add_ps(x1, x3)));
}
// One register of W floats, for the code written once for both widths.
using VecF = __m512;
inline VecF vload(const float* p) { return _mm512_loadu_ps(p); }
inline VecF vload_h(const uint16_t* p) { return load_h16(p); }
inline void vstore(float* p, VecF v) { _mm512_storeu_ps(p, v); }
inline VecF vset(float x) { return _mm512_set1_ps(x); }
inline VecF vsub(VecF a, VecF b) { return _mm512_sub_ps(a, b); }
inline VecF vadd(VecF a, VecF b) { return _mm512_add_ps(a, b); }
inline VecF vmul(VecF a, VecF b) { return _mm512_mul_ps(a, b); }
inline VecF vdiv(VecF a, VecF b) { return _mm512_div_ps(a, b); }
inline VecF vfma(VecF a, VecF b, VecF c) { return _mm512_fmadd_ps(a, b, c); }
inline float vhsum(VecF v) { return hsum512(v); }
// out[i] = vhsum(v_i) for 4 registers at once, each sum formed by the very additions of
// hsum_lanes (lane-wise adds of the halves, the quarters, then the pairs), with the registers'
// parts side by side: 14 operations and one store instead of four reductions.
inline void vhsum4(VecF a, VecF b, VecF c, VecF d, float* out) {
  // Halves: [a.lo + a.hi | b.lo + b.hi], [c.lo + c.hi | d.lo + d.hi] (256 bits each).
  const __m512 ab =
      _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
  const __m512 cd =
      _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
  // Quarters: one 128-bit block per register, in the order a, b, c, d.
  const __m512 q =
      _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
  // Pairs: (u0 + u2) + (u1 + u3) in lane 0 of each block.
  const __m512 p = _mm512_add_ps(q, _mm512_permute_ps(q, 0x4E));
  const __m512 s = _mm512_add_ps(p, _mm512_permute_ps(p, 0xB1));
  const __m512i first = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0);
  _mm_storeu_ps(out, _mm512_castps512_ps128(_mm512_permutexvar_ps(first, s)));
}
#else
inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline __m256 load_h(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
using VecF = __m256;
inline VecF vload(const float* p) { return _mm256_loadu_ps(p); }
inline VecF vload_h(const uint16_t* p) { return load_h(p); }
// reduce_four for W = 8: (x0 + x2) + (x1 + x3), halves, then two horizontal adds.
inline float reduce_four256(__m256 x0, __m256 x1, __m256 x2, __m256 x3) {
  x0 = _mm256_add_ps(_mm256_add_ps(x0, x2), _mm256_add_ps(x1, x3));
  const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(x0), _mm256_extractf128_ps(x0, 1));
  const __m128 t1 = _mm_hadd_ps(t0, t0);
  return _mm_cvtss_f32(_mm_hadd_ps(t1, t1));
}
inline void vstore(float* p, VecF v) { _mm256_storeu_ps(p, v); }
inline VecF vset(float x) { return _mm256_set1_ps(x); }
inline VecF vsub(VecF a, VecF b) { return _mm256_sub_ps(a, b); }
inline VecF vadd(VecF a, VecF b) { return _mm256_add_ps(a, b); }
inline VecF vmul(VecF a, VecF b) { return _mm256_mul_ps(a, b); }
inline VecF vdiv(VecF a, VecF b) { return _mm256_div_ps(a, b); }
inline VecF vfma(VecF a, VecF b, VecF c) { return _mm256_fmadd_ps(a, b, c); }
inline float vhsum(VecF v) { return hsum256(v); }
inline void vhsum4(VecF a, VecF b, VecF c, VecF d, float* out) {
  out[0] = hsum256(a), out[1] = hsum256(b), out[2] = hsum256(c), out[3] = hsum256(d);
}
#endif

}  // namespace

float dot_f32_ordered(DotOrder order, int64_t n, const float* a, const float* b) {
  if (order == DotOrder::kGemm) {
#if defined(__AVX512F__)
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16)
      acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
    return hsum512(acc);
#else
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8)
      acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
    return hsum256(acc);
#endif
  }
#if defined(__AVX512F__)
  const int64_t np = n & ~int64_t(63);
  __m512 x0 = _mm512_setzero_ps(), x1 = x0, x2 = x0, x3 = x0;
  for (int64_t i = 0; i < np; i += 64) {
    x0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), x0);
    x1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), x1);
    x2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), x2);
    x3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), x3);
  }
  float s = reduce_four512(x0, x1, x2, x3);
#else
  const int64_t np = n & ~int64_t(31);
  __m256 x0 = _mm256_setzero_ps(), x1 = x0, x2 = x0, x3 = x0;
  for (int64_t i = 0; i < np; i += 32) {
    x0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), x0);
    x1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), x1);
    x2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), x2);
    x3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), x3);
  }
  float s = reduce_four256(x0, x1, x2, x3);
#endif
  for (int64_t i = np; i < n; ++i) s = std::fma(a[i], b[i], s);
  return s;
}

namespace {
// kR rows x kT tokens of the kGemm order: each output one W-lane accumulator, one fused
// multiply-add per W elements, then the lanes' sum, as dot_f16_ordered(kGemm) and tinyBLAS
// compute it. The activations come as floats (their fp16 values, converted once per matmul).
// AVX-512: 24 accumulators + 4 weight rows of 32 registers; AVX2: 12 + 3 + the activation of 16
// (bench_kernels F16/512 at avx2: 4 x 2 34.5, 3 x 4 36.5, 2 x 6 26 GMAC/s).
constexpr int kF16TileRows = W == 16 ? 4 : 3, kF16TileTokens = W == 16 ? 6 : 4;
// Columns per pass at AVX-512: a pass's activations (6 tokens x 1024 floats, 24 KiB) stay in L1
// while the weights of up to 64 rows stream past them, the tiles' lanes carried between passes;
// one pass over 3072 columns drew the activations from L2 (bench_kernels F16 1024x3072/512:
// 47.5 GMAC/s, 55.5 in passes). AVX2 takes 48 tokens from L2 in one pass (no faster in passes).
constexpr int64_t kF16PassCols = W == 16 ? 1024 : 0;  // 0: all columns in one pass
// Rows whose lanes one pass carries: whole tiles, or a tile would reach past its block (and
// past the last row).
constexpr int64_t kF16PassRows = 64 / kF16TileRows * kF16TileRows;
// One pass of columns [0, n) of a kR x kT tile: the accumulators start at zero or from `carry`
// (the previous pass's lanes, so each lane still adds its products in column order) and end in
// `carry` or, after the last pass, as the lanes' sums in y.
template <int kR, int kT>
void f16_tile(int64_t n, const uint16_t* w, size_t w_stride, const float* a, size_t a_stride,
              float* y, int64_t ldy, float* carry, bool first, bool last) {
  VecF acc[kR][kT];
  for (int r = 0; r < kR; ++r)
    for (int t = 0; t < kT; ++t) acc[r][t] = first ? VecF{} : vload(carry + (r * kT + t) * W);
  for (int64_t i = 0; i < n; i += W) {
    VecF wv[kR];
    for (int r = 0; r < kR; ++r) wv[r] = vload_h(w + size_t(r) * w_stride + i);
    for (int t = 0; t < kT; ++t) {
      const VecF av = vload(a + size_t(t) * a_stride + i);
      for (int r = 0; r < kR; ++r) acc[r][t] = vfma(wv[r], av, acc[r][t]);
    }
  }
  if (!last) {
    for (int r = 0; r < kR; ++r)
      for (int t = 0; t < kT; ++t) vstore(carry + (r * kT + t) * W, acc[r][t]);
    return;
  }
  for (int t = 0; t < kT; ++t) {
    if constexpr (kR == 4)
      vhsum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t], y + t * ldy);
    else
      for (int r = 0; r < kR; ++r) y[t * ldy + r] = vhsum(acc[r][t]);
  }
}
template <int kT>
void f16_tile_at(int64_t n, const uint16_t* w, size_t w_stride, const float* a, size_t a_stride,
                 float* y, int64_t ldy, float* carry, bool first, bool last) {
  f16_tile<kF16TileRows, kT>(n, w, w_stride, a, a_stride, y, ldy, carry, first, last);
}
}  // namespace

int64_t matmul_f16_gemm_rows(int64_t n, const uint16_t* w, size_t w_stride, int64_t rows,
                             const float* act, size_t act_stride, int64_t n_tok, float* y,
                             int64_t ldy) {
  if (n % W != 0) return 0;
  const int64_t done = rows - rows % kF16TileRows;
  // Token chunks whose activations stay cached while every row group passes over them: at
  // AVX-512 one tile (6 tokens, in L1; bench_kernels F16 512 tokens 49 -> 56 GMAC/s against
  // chunks of 48 from L2), at AVX2 48 tokens (no faster at 6).
  constexpr int64_t kChunk = W == 16 ? kF16TileTokens : 48;
  constexpr size_t kCarryPerTile = size_t(kF16TileRows) * kF16TileTokens * W;
  const int64_t pass = kF16PassCols == 0 || n <= kF16PassCols ? n : kF16PassCols;
  // The lanes of each row group's tile of a chunk between passes (a chunk is one tile where
  // there are passes); on the stack: the kernels keep no state and share no library code.
  alignas(64) float carry[(kF16PassCols == 0 ? 1 : kF16PassRows / kF16TileRows) * kCarryPerTile];
  static_assert(kF16PassCols == 0 || kChunk == kF16TileTokens);
  for (int64_t c0 = 0; c0 < n_tok; c0 += kChunk) {
    const int64_t c1 = n_tok < c0 + kChunk ? n_tok : c0 + kChunk;
    for (int64_t rb = 0; rb < done; rb += kF16PassRows) {
      const int64_t re = done < rb + kF16PassRows ? done : rb + kF16PassRows;
      for (int64_t k0 = 0; k0 < n; k0 += pass) {
        const int64_t kn = n - k0 < pass ? n - k0 : pass;
        const bool first = k0 == 0, last = k0 + kn == n;
        for (int64_t r = rb; r < re; r += kF16TileRows) {
          float* cr = carry + (r - rb) / kF16TileRows * (pass < n ? kCarryPerTile : 0);
          const uint16_t* wr = w + size_t(r) * w_stride + k0;
          int64_t t = c0;
          for (; t + kF16TileTokens <= c1; t += kF16TileTokens)
            f16_tile_at<kF16TileTokens>(kn, wr, w_stride, act + size_t(t) * act_stride + k0,
                                        act_stride, y + t * ldy + r, ldy, cr, first, last);
          const float* at = act + size_t(t) * act_stride + k0;
          float* yt = y + t * ldy + r;
          with_static_count<kF16TileTokens - 1>(int(c1 - t), [&](auto k) {
            f16_tile_at<decltype(k)::value>(kn, wr, w_stride, at, act_stride, yt, ldy, cr, first,
                                            last);
          });
        }
      }
    }
  }
  return done;
}

void f32_to_f16_row(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = gguf::fp32_to_fp16(x[i]);
}

void f16_to_f32_row(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  for (; i < n; ++i) y[i] = gguf::fp16_to_fp32(x[i]);
}

float dot_f16_ordered(DotOrder order, int64_t n, const uint16_t* a, const uint16_t* b) {
  if (order == DotOrder::kGemm) {
#if defined(__AVX512F__)
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16)
      acc = _mm512_fmadd_ps(load_h16(a + i), load_h16(b + i), acc);
    return hsum512(acc);
#else
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8) acc = _mm256_fmadd_ps(load_h(a + i), load_h(b + i), acc);
    return hsum256(acc);
#endif
  }
#if defined(__AVX512F__)
  const int64_t np = n & ~int64_t(63);
  __m512 x0 = _mm512_setzero_ps(), x1 = x0, x2 = x0, x3 = x0;
  for (int64_t i = 0; i < np; i += 64) {
    x0 = _mm512_fmadd_ps(load_h16(a + i), load_h16(b + i), x0);
    x1 = _mm512_fmadd_ps(load_h16(a + i + 16), load_h16(b + i + 16), x1);
    x2 = _mm512_fmadd_ps(load_h16(a + i + 32), load_h16(b + i + 32), x2);
    x3 = _mm512_fmadd_ps(load_h16(a + i + 48), load_h16(b + i + 48), x3);
  }
  double s = double(reduce_four512(x0, x1, x2, x3));
#else
  const int64_t np = n & ~int64_t(31);
  __m256 x0 = _mm256_setzero_ps(), x1 = x0, x2 = x0, x3 = x0;
  for (int64_t i = 0; i < np; i += 32) {
    x0 = _mm256_fmadd_ps(load_h(a + i), load_h(b + i), x0);
    x1 = _mm256_fmadd_ps(load_h(a + i + 8), load_h(b + i + 8), x1);
    x2 = _mm256_fmadd_ps(load_h(a + i + 16), load_h(b + i + 16), x2);
    x3 = _mm256_fmadd_ps(load_h(a + i + 24), load_h(b + i + 24), x3);
  }
  double s = double(reduce_four256(x0, x1, x2, x3));
#endif
  // ggml_vec_dot_f16: reduction and tail in double.
  for (int64_t i = np; i < n; ++i) s += double(gguf::fp16_to_fp32(a[i]) * gguf::fp16_to_fp32(b[i]));
  return float(s);
}

void pv_f16_ordered(DotOrder order, int64_t n, const uint16_t* p, const uint16_t* v, int64_t ldv,
                    int dim, float* out) {
  // Accumulator r of output d sums the j with j % n_acc == r, in increasing j; every j past n
  // would add an exact zero (p = 0 on masked cache cells), so stopping at n changes nothing.
  // The outputs are computed kCols at a time so the accumulators stay small.
  const int n_acc = order == DotOrder::kGemm ? W : 4 * W;
  constexpr int kCols = 64;
  float acc[4 * W * kCols];
  for (int d0 = 0; d0 < dim; d0 += kCols) {
    const int cols = dim - d0 < kCols ? dim - d0 : kCols;
    for (int i = 0; i < n_acc * cols; ++i) acc[i] = 0.f;
    if (cols % 16 == 0) {
      for (int64_t j = 0; j < n; ++j) {
        float* a = &acc[(j % n_acc) * cols];
        const uint16_t* vj = v + j * ldv + d0;
#if defined(__AVX512F__)
        const __m512 pj = _mm512_set1_ps(gguf::fp16_to_fp32(p[j]));
        for (int d = 0; d < cols; d += 16)
          _mm512_storeu_ps(a + d, _mm512_fmadd_ps(load_h16(vj + d), pj, _mm512_loadu_ps(a + d)));
#else
        const __m256 pj = _mm256_set1_ps(gguf::fp16_to_fp32(p[j]));
        for (int d = 0; d < cols; d += 8)
          _mm256_storeu_ps(a + d, _mm256_fmadd_ps(load_h(vj + d), pj, _mm256_loadu_ps(a + d)));
#endif
      }
    } else {
      for (int64_t j = 0; j < n; ++j) {
        const float pj = gguf::fp16_to_fp32(p[j]);
        float* a = &acc[(j % n_acc) * cols];
        const uint16_t* vj = v + j * ldv + d0;
        for (int d = 0; d < cols; ++d) a[d] = std::fma(gguf::fp16_to_fp32(vj[d]), pj, a[d]);
      }
    }
    float lanes[4 * W];
    for (int d = 0; d < cols; ++d) {
      for (int r = 0; r < n_acc; ++r) lanes[r] = acc[r * cols + d];
      out[d0 + d] =
          order == DotOrder::kGemm ? hsum_lanes(lanes) : float(double(reduce_four(lanes)));
    }
  }
}

float exp_simd(float x) {
  const float r = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, r);
  const float n = z - r;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  const float u = b * b;
  if constexpr (W == 16) {
    // AVX-512: j includes the constant 1 and the result is scaled by 2^n (scalef).
    const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                      std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                             u, std::fma(0x1.ffffecp-1f, b, 1.0f));
    if (std::fabs(n) > 192.f) return n <= 0.f ? 0.f : std::numeric_limits<float>::infinity();
    return std::ldexp(j, int(n));
  } else {
    // AVX2: k = 2^n built from z's bits, result k + k*j.
    const float lin = 0x1.ffffecp-1f * b;
    const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                      std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                             u, lin);
    const uint32_t e = gguf::bits_from_f32(z) << 23;
    const float k = gguf::f32_from_bits(e + gguf::bits_from_f32(1.0f));
    if (!(std::fabs(n) > 126.f)) return std::fma(j, k, k);
    const uint32_t g = n <= 0.f ? 0x82000000u : 0u;
    const float s1 = gguf::f32_from_bits(g + 0x7f000000u);
    const float s2 = gguf::f32_from_bits(e - g);
    if (std::fabs(n) > 192.f) return s1 * s1;
    return std::fma(s2, j, s2) * s1;
  }
}

namespace {

// exp_simd on W lanes at once: the same operations lane by lane (ggml_v_expf), so the same bits
// (tests/tensor/test_exact_order.cpp compares the two over a sweep of inputs).
#if defined(__AVX512F__)
inline VecF exp_vec(VecF x) {
  const VecF r = vset(0x1.8p23f);
  const VecF z = _mm512_fmadd_ps(x, vset(0x1.715476p+0f), r);
  const VecF n = _mm512_sub_ps(z, r);
  const VecF b =
      _mm512_fnmadd_ps(n, vset(0x1.7f7d1cp-20f), _mm512_fnmadd_ps(n, vset(0x1.62e4p-1f), x));
  const VecF u = _mm512_mul_ps(b, b);
  const VecF j = _mm512_fmadd_ps(
      _mm512_fmadd_ps(_mm512_fmadd_ps(vset(0x1.0e4020p-7f), b, vset(0x1.573e2ep-5f)), u,
                      _mm512_fmadd_ps(vset(0x1.555e66p-3f), b, vset(0x1.fffdb6p-2f))),
      u, _mm512_fmadd_ps(vset(0x1.ffffecp-1f), b, vset(1.0f)));
  const VecF res = _mm512_scalef_ps(j, n);
  const __mmask16 big = _mm512_cmp_ps_mask(_mm512_abs_ps(n), vset(192.f), _CMP_GT_OQ);
  if (big == 0) return res;
  const __mmask16 neg = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_LE_OQ);
  const VecF alt =
      _mm512_mask_blend_ps(neg, vset(std::numeric_limits<float>::infinity()), _mm512_setzero_ps());
  return _mm512_mask_blend_ps(big, res, alt);
}
#else
inline VecF exp_vec(VecF x) {
  const VecF r = vset(0x1.8p23f);
  const VecF z = _mm256_fmadd_ps(x, vset(0x1.715476p+0f), r);
  const VecF n = _mm256_sub_ps(z, r);
  const VecF b =
      _mm256_fnmadd_ps(n, vset(0x1.7f7d1cp-20f), _mm256_fnmadd_ps(n, vset(0x1.62e4p-1f), x));
  const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
  const VecF k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(vset(1.0f))));
  const VecF abs_n = _mm256_andnot_ps(vset(-0.f), n);
  const VecF c = _mm256_cmp_ps(abs_n, vset(126.f), _CMP_GT_OQ);
  const VecF u = _mm256_mul_ps(b, b);
  const VecF j = _mm256_fmadd_ps(
      _mm256_fmadd_ps(_mm256_fmadd_ps(vset(0x1.0e4020p-7f), b, vset(0x1.573e2ep-5f)), u,
                      _mm256_fmadd_ps(vset(0x1.555e66p-3f), b, vset(0x1.fffdb6p-2f))),
      u, _mm256_mul_ps(vset(0x1.ffffecp-1f), b));
  if (!_mm256_movemask_ps(c)) return _mm256_fmadd_ps(j, k, k);
  const __m256i g =
      _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                       _mm256_set1_epi32(int(0x82000000u)));
  const VecF s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
  const VecF s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
  const VecF d = _mm256_cmp_ps(abs_n, vset(192.f), _CMP_GT_OQ);
  return _mm256_or_ps(
      _mm256_and_ps(
          c, _mm256_or_ps(_mm256_and_ps(d, _mm256_mul_ps(s1, s1)),
                          _mm256_andnot_ps(d, _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1)))),
      _mm256_andnot_ps(c, _mm256_fmadd_ps(j, k, k)));
}
#endif

}  // namespace

void exp_ordered(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) vstore(y + i, exp_vec(vload(x + i)));
  for (; i < n; ++i) y[i] = exp_simd(x[i]);
}

void softmax_ordered(float* x, int64_t n) {
  // The maximum lane-wise, then across lanes: for numbers it is the one ggml's running max
  // finds (a -0/+0 tie cannot change x - max, and exp(+-0) = 1).
  float mx = -std::numeric_limits<float>::infinity();
  int64_t m0 = 0;
  if (n >= W) {
#if defined(__AVX512F__)
    __m512 v = _mm512_loadu_ps(x);
    for (m0 = W; m0 + W <= n; m0 += W) v = _mm512_max_ps(v, _mm512_loadu_ps(x + m0));
    mx = _mm512_reduce_max_ps(v);
#else
    __m256 v = _mm256_loadu_ps(x);
    for (m0 = W; m0 + W <= n; m0 += W) v = _mm256_max_ps(v, _mm256_loadu_ps(x + m0));
    alignas(32) float l[8];
    _mm256_store_ps(l, v);
    for (float f : l) mx = fmax_(mx, f);
#endif
  }
  for (int64_t i = m0; i < n; ++i) mx = fmax_(mx, x[i]);
  // ggml runs this over the whole padded cache row: masked cells give exp(-inf) = 0, which
  // leaves every chunk sum unchanged, so chunks past n are skipped and the last is zero-padded.
  double sum = 0;
  alignas(64) float chunk[W];
  int64_t i0 = 0;
  for (; i0 + W <= n; i0 += W) {
    const VecF e = exp_vec(vsub(vload(x + i0), vset(mx)));
    vstore(x + i0, e);
    sum += double(vhsum(e));  // hsum_lanes' order
  }
  if (i0 < n) {
    for (int l = 0; l < W; ++l) {
      const int64_t i = i0 + l;
      chunk[l] = i < n ? exp_simd(x[i] - mx) : 0.f;
      if (i < n) x[i] = chunk[l];
    }
    sum += double(hsum_lanes(chunk));
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

// ggml_v_silu: x / (1 + exp(-x)) on W lanes; the tail uses the libm exp as ggml's does.
void silu_ordered(float* x, int64_t n) {
  const int64_t n_simd = n - n % W;
  for (int64_t i = 0; i < n_simd; i += W) {
    const VecF v = vload(x + i);
    vstore(x + i, vdiv(v, vadd(vset(1.0f), exp_vec(vsub(vset(0.0f), v)))));
  }
  for (int64_t i = n_simd; i < n; ++i) x[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void swiglu_ordered(float* g, const float* u, int64_t n) {
  const int64_t n_simd = n - n % W;
  for (int64_t i = 0; i < n_simd; i += W) {
    const VecF v = vload(g + i);
    const VecF silu = vdiv(v, vadd(vset(1.0f), exp_vec(vsub(vset(0.0f), v))));
    vstore(g + i, vmul(silu, vload(u + i)));
  }
  for (int64_t i = n_simd; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

}  // namespace gavel::tensor::GAVEL_ISA_NS
