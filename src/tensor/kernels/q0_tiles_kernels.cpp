// The AVX-512 level's tiles for the Q8_0/Q5_0/Q4_0 and Q4_1/Q5_1 matrices (matmul_rows_tiled):
// many outputs per weight pass, each in the float order of the one-output kernels of
// quant_kernels.cpp (tests/tensor compares every output bit for bit). The AVX2 level has none.
#include "tensor/kernels/isa_namespace.h"
// clang-format off
#include <immintrin.h>
// clang-format on

#include <cstring>
#include <type_traits>
#include <vector>

#include "gguf/fp16.h"
#include "tensor/kernels/kernel_decls.h"
#include "tensor/kernels/quant_simd.h"
#include "tensor/kernels/static_count.h"
#include "tensor/quants.h"

namespace gavel::tensor::GAVEL_ISA_NS {
namespace {

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
// Tiles of 2 x kRP weight rows x kRT tokens for the Q8_0/Q5_0/Q4_0 and Q4_1/Q5_1 matrices. Two
// rows share a 512-bit register (row 2p in the low eight lanes, row 2p+1 in the high eight), so
// each output keeps its own eight float lanes and every step of the one-output kernels
// (dot_q0, dot_q41_q51): the same exact integer per lane, acc = fma(d_w * d_a, lane, acc) per
// block, the same horizontal sum at the end. What changes is the work per output: a weight
// block is decoded once per kRT tokens, an activation block loaded once per 2 x kRP rows, and
// the signed x signed integer dot needs no sign juggling: the activations are offset by +128 to
// unsigned bytes and the accumulator starts at -128 x (the weights' lane sums), which VNNI's
// dpbusd then makes exact. The activations of a token chunk are laid out once per call
// (ChunkActs: offset bytes and float scales, block-major), so a tile's inner loop spends its
// vector work on the dot products and loads each activation block with a broadcast.
constexpr int kTileRowPairs = 2, kTileTokens = 8;
// Weight blocks decoded per pass (the buffer stays in L1), and tokens whose running sums are kept
// between passes.
constexpr int kTileBlocks = 48, kTileMaxTokens = kQ0TileChunkTokens;

inline __m512i pair_i(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
inline __m512 pair_ps(uint16_t lo, uint16_t hi) {
  return _mm512_mask_blend_ps(__mmask16(0xFF00), _mm512_set1_ps(gguf::fp16_to_fp32(lo)),
                              _mm512_set1_ps(gguf::fp16_to_fp32(hi)));
}

// Q4_1/Q5_1 block b of a weight row as unsigned bytes, its scale and its min.
template <TensorType kType>
inline __m256i q1_values(const uint8_t* wp, int64_t b, uint16_t* d, uint16_t* m) {
  using B = std::conditional_t<kType == TensorType::kQ4_1, BlockQ4_1, BlockQ5_1>;
  const auto* w = reinterpret_cast<const B*>(wp) + b;
  std::memcpy(d, &w->d, 2);
  std::memcpy(m, &w->m, 2);
  __m256i q = nibbles(w->qs);
  if constexpr (kType == TensorType::kQ5_1)
    q = _mm256_or_si256(q, _mm256_and_si256(bits_to_bytes(w->qh), _mm256_set1_epi8(0x10)));
  return q;
}

constexpr bool has_min(TensorType t) { return t == TensorType::kQ4_1 || t == TensorType::kQ5_1; }

// One block of a row pair, decoded: the values, the integer accumulator's start (Q8_0/Q5_0/Q4_0:
// -128 x the lane sums, undoing the activations' +128 offset) and the two scales.
struct alignas(64) DecodedPair {
  __m512i q, start;
  __m512 d;
};
struct DecodedBlocks {
  DecodedPair pair[kTileBlocks][kTileRowPairs];
  __m128 mins[kTileBlocks];  // Q4_1/Q5_1: the mins of the 2 x kTileRowPairs rows
};

template <TensorType kType>
void decode_blocks(const uint8_t* w, size_t w_stride, int64_t b0, int nb, DecodedBlocks& out) {
  const __m512i bias = _mm512_set1_epi8(char(0x80));
  for (int i = 0; i < nb; ++i) {
    float mins[4] = {0, 0, 0, 0};
    for (int p = 0; p < kTileRowPairs; ++p) {
      DecodedPair& dp = out.pair[i][p];
      const uint8_t* r0 = w + size_t(2 * p) * w_stride;
      uint16_t d0, d1;
      if constexpr (has_min(kType)) {
        uint16_t m0, m1;
        dp.q = pair_i(q1_values<kType>(r0, b0 + i, &d0, &m0),
                      q1_values<kType>(r0 + w_stride, b0 + i, &d1, &m1));
        mins[2 * p] = gguf::fp16_to_fp32(m0);
        mins[2 * p + 1] = gguf::fp16_to_fp32(m1);
        dp.start = _mm512_setzero_si512();
      } else {
        dp.q =
            pair_i(q0_values<kType>(r0, b0 + i, &d0), q0_values<kType>(r0 + w_stride, b0 + i, &d1));
        dp.start = _mm512_sub_epi32(_mm512_setzero_si512(),
                                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), bias, dp.q));
      }
      dp.d = pair_ps(d0, d1);
    }
    out.mins[i] = _mm_loadu_ps(mins);
  }
}

// A chunk's activations, block-major ([block][token]): the 32 bytes of each block as dpbusd
// takes them (Q8_0 blocks offset by +128 to unsigned), and the block's scale (and Q8_1's sum
// term) as floats. Packed once per matmul (pack_q0_tiles) into one buffer, chunk after chunk,
// each chunk's region sized for kTileMaxTokens tokens: qs [block][token][32], d, then s.
struct ChunkActs {
  int64_t n_tok = 0;
  uint8_t* qs = nullptr;
  float *d = nullptr, *s = nullptr;
};

size_t chunk_region_bytes(bool min, int64_t n_blocks) {
  return size_t(n_blocks * kTileMaxTokens) * (32 + 4 * (min ? 2 : 1));
}

ChunkActs chunk_view(bool min, int64_t n_blocks, int64_t n_tok, int64_t c, const uint8_t* buf) {
  ChunkActs v;
  v.n_tok = min64(n_tok - c * kTileMaxTokens, kTileMaxTokens);
  auto* base = const_cast<uint8_t*>(buf) + size_t(c) * chunk_region_bytes(min, n_blocks);
  v.qs = base;
  v.d = reinterpret_cast<float*>(base + size_t(n_blocks * kTileMaxTokens) * 32);
  v.s = min ? v.d + n_blocks * kTileMaxTokens : nullptr;
  return v;
}

template <TensorType kType>
void pack_chunk(const uint8_t* act, size_t act_stride, int64_t n_tok, int64_t n_blocks,
                ChunkActs& out) {
  constexpr bool kMin = has_min(kType);
  const __m256i bias = _mm256_set1_epi8(char(0x80));
  for (int64_t t = 0; t < n_tok; ++t) {
    const uint8_t* row = act + size_t(t) * act_stride;
    for (int64_t b = 0; b < n_blocks; ++b) {
      const size_t at = size_t(b * n_tok + t);
      __m256i* q = reinterpret_cast<__m256i*>(out.qs + at * 32);
      if constexpr (kMin) {
        const auto* a = reinterpret_cast<const BlockQ8_1*>(row) + b;
        _mm256_storeu_si256(q, load32(a->qs));
        out.d[at] = gguf::fp16_to_fp32(a->d);
        out.s[at] = gguf::fp16_to_fp32(a->s);
      } else {
        const auto* a = reinterpret_cast<const BlockQ8_0*>(row) + b;
        _mm256_storeu_si256(q, _mm256_xor_si256(load32(a->qs), bias));
        out.d[at] = gguf::fp16_to_fp32(a->d);
      }
    }
  }
}

// The running sums of one row group x token: eight lanes per row, and the min terms.
struct TileAcc {
  __m512 acc[kTileRowPairs];
  __m128 summ;
};

// kRT tokens against decoded blocks [0, nb) of block range starting at b0, continuing the sums
// in `st` (fresh when first), then writing the outputs when last.
template <TensorType kType, int kRT>
void tile_pass(const DecodedBlocks& wd, int64_t b0, int nb, const ChunkActs& ca, int64_t t0,
               TileAcc* st, bool first, bool last, float* y, int64_t ldy) {
  constexpr bool kMin = has_min(kType);
  __m512 acc[kTileRowPairs][kRT];
  [[maybe_unused]] __m128 summ[kRT];
  for (int t = 0; t < kRT; ++t) {
    for (int p = 0; p < kTileRowPairs; ++p) acc[p][t] = first ? _mm512_setzero_ps() : st[t].acc[p];
    summ[t] = first ? _mm_setzero_ps() : st[t].summ;
  }
  for (int i = 0; i < nb; ++i) {
    const size_t at = size_t((b0 + i) * ca.n_tok + t0);
    for (int t = 0; t < kRT; ++t) {
      const __m512i av = _mm512_broadcast_i64x4(load32(ca.qs + (at + size_t(t)) * 32));
      if constexpr (kMin)
        summ[t] = _mm_fmadd_ps(wd.mins[i], _mm_set1_ps(ca.s[at + size_t(t)]), summ[t]);
      const __m512 dav = _mm512_set1_ps(ca.d[at + size_t(t)]);
      for (int p = 0; p < kTileRowPairs; ++p) {
        const DecodedPair& dp = wd.pair[i][p];
        const __m512i s = kMin ? _mm512_dpbusd_epi32(dp.start, dp.q, av)
                               : _mm512_dpbusd_epi32(dp.start, av, dp.q);
        acc[p][t] = _mm512_fmadd_ps(_mm512_mul_ps(dp.d, dav), _mm512_cvtepi32_ps(s), acc[p][t]);
      }
    }
  }
  for (int t = 0; t < kRT; ++t) {
    if (!last) {
      for (int p = 0; p < kTileRowPairs; ++p) st[t].acc[p] = acc[p][t];
      st[t].summ = summ[t];
      continue;
    }
    [[maybe_unused]] float sm[4];
    if constexpr (kMin) _mm_storeu_ps(sm, summ[t]);
    for (int p = 0; p < kTileRowPairs; ++p) {
      float lo = hsum(_mm512_castps512_ps256(acc[p][t]));
      float hi = hsum(_mm512_extractf32x8_ps(acc[p][t], 1));
      if constexpr (kMin) lo += sm[2 * p], hi += sm[2 * p + 1];
      y[t * ldy + 2 * p] = lo;
      y[t * ldy + 2 * p + 1] = hi;
    }
  }
}

// Rows [0, rows) (a multiple of 2 x kTileRowPairs) against n_tok tokens: per chunk of at most
// kTileMaxTokens tokens (packed once per matmul) and per group of rows, each kTileBlocks-block
// slice of the rows is decoded once and run against every token of the chunk, the sums carried
// between slices.
template <TensorType kType>
void tile_rows(int64_t n, const uint8_t* w, size_t w_stride, int64_t rows, const uint8_t* packed,
               int64_t n_tok, float* y, int64_t ldy) {
  DecodedBlocks wd;
  TileAcc st[kTileMaxTokens];
  const int64_t n_blocks = n / kQK;
  for (int64_t c0 = 0; c0 < n_tok; c0 += kTileMaxTokens) {
    const int64_t c1 = min64(n_tok, c0 + kTileMaxTokens);
    const ChunkActs ca = chunk_view(has_min(kType), n_blocks, n_tok, c0 / kTileMaxTokens, packed);
    for (int64_t r = 0; r < rows; r += 2 * kTileRowPairs) {
      const uint8_t* wr = w + size_t(r) * w_stride;
      for (int64_t b0 = 0; b0 < n_blocks; b0 += kTileBlocks) {
        const int nb = int(min64(kTileBlocks, n_blocks - b0));
        decode_blocks<kType>(wr, w_stride, b0, nb, wd);
        const bool first = b0 == 0, last = b0 + nb == n_blocks;
        int64_t t = 0;
        for (; t + kTileTokens <= c1 - c0; t += kTileTokens)
          tile_pass<kType, kTileTokens>(wd, b0, nb, ca, t, st + t, first, last,
                                        y + (c0 + t) * ldy + r, ldy);
        with_static_count<kTileTokens - 1>(int(c1 - c0 - t), [&](auto k) {
          tile_pass<kType, decltype(k)::value>(wd, b0, nb, ca, t, st + t, first, last,
                                               y + (c0 + t) * ldy + r, ldy);
        });
      }
    }
  }
}

using TileRows = void (*)(int64_t, const uint8_t*, size_t, int64_t, const uint8_t*, int64_t, float*,
                          int64_t);
// The tile kernel for t; nullptr for the types without tiles.
TileRows tile_kernel(TensorType t) {
  switch (t) {
    case TensorType::kQ8_0:
      return tile_rows<TensorType::kQ8_0>;
    case TensorType::kQ5_0:
      return tile_rows<TensorType::kQ5_0>;
    case TensorType::kQ4_0:
      return tile_rows<TensorType::kQ4_0>;
    case TensorType::kQ4_1:
      return tile_rows<TensorType::kQ4_1>;
    case TensorType::kQ5_1:
      return tile_rows<TensorType::kQ5_1>;
    default:
      return nullptr;
  }
}
#endif

}  // namespace

size_t q0_tiles_bytes(TensorType t, int64_t n, int64_t n_tok) {
#if defined(__AVX512F__) && defined(__AVX512VNNI__)
  if (!tile_kernel(t) || n % kQK != 0) return 0;
  const int64_t chunks = (n_tok + kTileMaxTokens - 1) / kTileMaxTokens;
  return size_t(chunks) * chunk_region_bytes(has_min(t), n / kQK);
#else
  (void)t, (void)n, (void)n_tok;
  return 0;
#endif
}

void pack_q0_tiles(TensorType t, int64_t n, const uint8_t* act, size_t act_stride, int64_t n_tok,
                   int64_t c, uint8_t* out) {
#if defined(__AVX512F__) && defined(__AVX512VNNI__)
  const int64_t n_blocks = n / kQK;
  ChunkActs ca = chunk_view(has_min(t), n_blocks, n_tok, c, out);
  const uint8_t* a = act + size_t(c * kTileMaxTokens) * act_stride;
  if (has_min(t))
    pack_chunk<TensorType::kQ4_1>(a, act_stride, ca.n_tok, n_blocks, ca);
  else
    pack_chunk<TensorType::kQ8_0>(a, act_stride, ca.n_tok, n_blocks, ca);
#else
  (void)t, (void)n, (void)act, (void)act_stride, (void)n_tok, (void)c, (void)out;
#endif
}

int64_t matmul_rows_tiled(TensorType t, int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                          const uint8_t* packed, int64_t n_tok, float* y, int64_t ldy) {
#if defined(__AVX512F__) && defined(__AVX512VNNI__)
  const TileRows tile = tile_kernel(t);
  if (!tile) return 0;
  const int64_t done = rows - rows % (2 * kTileRowPairs);
  tile(n, w, w_stride, done, packed, n_tok, y, ldy);
  return done;
#else
  (void)t, (void)n, (void)w, (void)w_stride, (void)rows, (void)packed, (void)n_tok, (void)y;
  (void)ldy;
  return 0;
#endif
}

}  // namespace gavel::tensor::GAVEL_ISA_NS
