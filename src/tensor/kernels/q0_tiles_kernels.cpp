// Each level's tiles for the Q8_0/Q5_0/Q4_0 and Q4_1/Q5_1 matrices (matmul_rows_tiled): many
// outputs per weight pass, each in the float order of the one-output kernels of
// quant_kernels.cpp (tests/tensor compares every output bit for bit).
#include "tensor/kernels/isa_namespace.h"
// clang-format off
#include <immintrin.h>
// clang-format on

#include <algorithm>
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

constexpr bool has_min(TensorType t) { return t == TensorType::kQ4_1 || t == TensorType::kQ5_1; }

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
constexpr int kTileRowPairs = 2, kTileTokens = 8, kTileRows = 2 * kTileRowPairs;
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

constexpr size_t kPackSlack = 0;
constexpr int64_t min_tile_tokens(TensorType) { return 0; }
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

#else
#if !defined(__AVX2__) || !defined(__FMA__)
#error "the tile kernels need AVX2 and FMA (every level of src/tensor/CMakeLists.txt has them)"
#endif
// Tiles of kTileRows weight rows x kTileTokens tokens, each output in the float order of
// dot_q0 / dot_q41_q51 (quant_kernels.cpp): per block the exact integer dot in eight lanes
// (lane k: the products of elements 4k..4k+3), acc = fma(d_w * d_a, lane, acc), one hsum at
// the end. AVX2 has no VNNI, and vpmaddubsw on an offset Q8_0 operand would saturate, so Q8_0's
// operands are both widened to int16 and multiplied by vpmaddwd, which is exact for any bytes:
// two vpmaddwd and a vpaddd give a block's lanes with no sign juggling per output (the 4- and
// 5-bit weights: byte_weights below). The weights are widened once per slice of blocks
// (DecodedBlocks); the activations are packed once per matmul (pack_q0_tiles), Q8_0's as bytes
// in widen_pairs' order (half the bytes to stream; vpmovsxbw widens them as they are loaded);
// the tile's eight scale products of a block come from two multiplies.
constexpr int kTileRows = 2, kTileTokens = 4;
// Weight blocks decoded per pass, tiles of rows whose decoded slices are kept together (in L1:
// each token group's activations are loaded from L2 once for all of them), and tokens whose
// running sums are kept between slices. Measured with bench_kernels at 1024 columns.
constexpr int kTileBlocks = 16, kTileBunch = 4, kTileMaxTokens = kQ0TileChunkTokens;
// Activation bytes per sweep over a task's rows (counted at 64 a block): they stay in L2 while
// the rows stream by.
constexpr int64_t kSweepBytes = int64_t(512) << 10;

// The 4- and 5-bit weights take another route: as unsigned bytes (Q4_0/Q5_0 offset by 8/16, as
// stored) they go to vpmaddubsw, which cannot saturate with them (31 x 128 x 2 < 2^15), and
// vpmaddwd by ones gives the lanes. The offset's term (-8 or -16 x the activations' lane sums)
// and the float conversion's magic number come in one vpaddd of a vector packed with the
// activations: lane + 0x4B400000 read as a float is 1.5 x 2^23 + lane exactly (|lane| < 2^22),
// and subtracting 1.5 x 2^23 gives float(lane) exactly, on a port the multiplies do not use.
constexpr bool byte_weights(TensorType t) { return t != TensorType::kQ8_0; }
constexpr int weight_offset(TensorType t) {
  return t == TensorType::kQ4_0 ? 8 : t == TensorType::kQ5_0 ? 16 : 0;
}
constexpr int act_bytes(TensorType t) { return t == TensorType::kQ8_0 ? 32 : 64; }
constexpr int kMagic = 0x4B400000;
constexpr float kMagicF = 12582912.0f;

// A block's 32 bytes (signed) as int16: lo holds elements 4k and 4k + 1 in lanes 2k and 2k + 1,
// hi elements 4k + 2 and 4k + 3, so vpmaddwd(lo_w, lo_a) + vpmaddwd(hi_w, hi_a) has lane k = the
// exact sum of the products of elements 4k..4k + 3. pair_order: the bytes of lo, then those of
// hi.
inline __m256i pair_order(__m256i v) {
  const __m256i order = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0, 1,
                                         4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
  return _mm256_permute4x64_epi64(_mm256_shuffle_epi8(v, order), _MM_SHUFFLE(3, 1, 2, 0));
}
inline void widen_pairs(__m256i v, __m256i* lo, __m256i* hi) {
  const __m256i s = pair_order(v);
  *lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(s));
  *hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(s, 1));
}

// Block b of a weight row as bytes (Q8_0 signed, the others as stored: 0..15 or 0..31), its scale
// and (Q4_1/Q5_1) its min.
template <TensorType kType>
inline __m256i w_values(const uint8_t* wp, int64_t b, uint16_t* d, uint16_t* m) {
  if constexpr (kType == TensorType::kQ4_0 || kType == TensorType::kQ5_0) {
    using B = std::conditional_t<kType == TensorType::kQ4_0, BlockQ4_0, BlockQ5_0>;
    const auto* w = reinterpret_cast<const B*>(wp) + b;
    std::memcpy(d, &w->d, 2);
    *m = 0;
    __m256i q = nibbles(w->qs);
    if constexpr (kType == TensorType::kQ5_0)
      q = _mm256_or_si256(q, _mm256_and_si256(bits_to_bytes(w->qh), _mm256_set1_epi8(0x10)));
    return q;
  } else if constexpr (has_min(kType)) {
    return q1_values<kType>(wp, b, d, m);
  } else {
    *m = 0;
    return q0_values<kType>(wp, b, d);
  }
}

// One block of a tile's rows, decoded: the widened values, and the scales (and mins) as floats
// in lane kTileTokens * r + t, the lane of the tile's scale product for row r and token t.
struct alignas(32) DecodedBlock {
  __m256i q[kTileRows][2];
  __m256 d[kTileRows];  // row r's scale in every lane
  __m256 m;             // the mins (Q4_1/Q5_1), row r's in lanes kTileTokens * r + t
};
struct DecodedBlocks {
  DecodedBlock blk[kTileBlocks];
};

template <TensorType kType>
void decode_blocks(const uint8_t* w, size_t w_stride, int64_t b0, int nb, DecodedBlocks& out) {
  for (int i = 0; i < nb; ++i) {
    DecodedBlock& db = out.blk[i];
    uint16_t d[kTileRows], m[kTileRows];
    for (int r = 0; r < kTileRows; ++r) {
      const __m256i q = w_values<kType>(w + size_t(r) * w_stride, b0 + i, &d[r], &m[r]);
      if constexpr (byte_weights(kType))
        db.q[r][0] = q;
      else
        widen_pairs(q, &db.q[r][0], &db.q[r][1]);
    }
    alignas(32) float mv[8];
    for (int r = 0; r < kTileRows; ++r) {
      const float mr = gguf::fp16_to_fp32(m[r]);
      db.d[r] = _mm256_set1_ps(gguf::fp16_to_fp32(d[r]));
      for (int t = 0; t < kTileTokens; ++t) mv[kTileTokens * r + t] = mr;
    }
    db.m = _mm256_load_ps(mv);
  }
}

// A chunk's activations in groups of kTileTokens tokens, each group block-major so that a tile
// pass reads one contiguous run ([group][block][token]): act_bytes per block (Q8_0: the 32 bytes
// in pair_order; the others: the bytes, then Q4_0/Q5_0's start vector (the magic number less the
// offset's term)), its scale (and Q8_1's sum term) as floats, 0 for the tokens past the
// chunk's end. Packed once per matmul (pack_q0_tiles) into one buffer, chunk after chunk, each
// chunk's region sized for kTileMaxTokens tokens: qs, d, then s.
struct ChunkActs {
  int64_t n_tok = 0, n_blocks = 0;
  uint8_t* qs = nullptr;
  float *d = nullptr, *s = nullptr;
  // Where token t's block b is, in units of one token-block.
  size_t at(int64_t b, int64_t t) const {
    return size_t(((t / kTileTokens) * n_blocks + b) * kTileTokens + t % kTileTokens);
  }
};

constexpr size_t kPackSlack = 63;  // the packed buffer is used from a 64-byte boundary
// Below 8 tokens Q8_0's tiles do not repay widening the weights: the four-token dots of
// quant_kernels.cpp are faster there (bench_kernels, 1024 x 1024: at 4 and 6 tokens 30.6 and
// 27.1 GMAC/s against the tiles' 24.9 and 26.6; at 8 a tie, from 10 the tiles win).
constexpr int64_t min_tile_tokens(TensorType t) { return t == TensorType::kQ8_0 ? 8 : 0; }
size_t chunk_region_bytes(bool min, int64_t n_blocks) {
  return size_t(n_blocks * kTileMaxTokens) * (64 + 4 * (min ? 2 : 1));
}

ChunkActs chunk_view(bool min, int64_t n_blocks, int64_t n_tok, int64_t c, const uint8_t* buf) {
  ChunkActs v;
  v.n_tok = min64(n_tok - c * kTileMaxTokens, kTileMaxTokens);
  v.n_blocks = n_blocks;
  // From the buffer's first 64-byte boundary: no activation load splits a cache line.
  const uintptr_t p = reinterpret_cast<uintptr_t>(buf);
  auto* base = reinterpret_cast<uint8_t*>((p + kPackSlack) & ~uintptr_t(kPackSlack)) +
               size_t(c) * chunk_region_bytes(min, n_blocks);
  v.qs = base;
  v.d = reinterpret_cast<float*>(base + size_t(n_blocks * kTileMaxTokens) * 64);
  v.s = min ? v.d + n_blocks * kTileMaxTokens : nullptr;
  return v;
}

template <TensorType kType>
void pack_chunk(const uint8_t* act, size_t act_stride, int64_t n_tok, int64_t n_blocks,
                ChunkActs& out) {
  for (int64_t t = 0; t < n_tok; ++t) {
    const uint8_t* row = act + size_t(t) * act_stride;
    for (int64_t b = 0; b < n_blocks; ++b) {
      const size_t at = out.at(b, t);
      __m256i lo, hi;
      if constexpr (has_min(kType)) {
        const auto* a = reinterpret_cast<const BlockQ8_1*>(row) + b;
        lo = load32(a->qs);
        hi = _mm256_set1_epi32(kMagic);
        out.d[at] = gguf::fp16_to_fp32(a->d);
        out.s[at] = gguf::fp16_to_fp32(a->s);
      } else {
        const auto* a = reinterpret_cast<const BlockQ8_0*>(row) + b;
        if constexpr (byte_weights(kType)) {
          lo = load32(a->qs);
          const __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), lo),
                                                 _mm256_set1_epi16(1));
          hi = _mm256_sub_epi32(_mm256_set1_epi32(kMagic),
                                _mm256_mullo_epi32(sums, _mm256_set1_epi32(weight_offset(kType))));
        } else {
          lo = pair_order(load32(a->qs));
        }
        out.d[at] = gguf::fp16_to_fp32(a->d);
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.qs + at * act_bytes(kType)), lo);
      if constexpr (act_bytes(kType) == 64)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.qs + at * 64 + 32), hi);
    }
  }
  // The last group's missing tokens: zero scales (their lanes of a tile's products are unused).
  for (int64_t t = n_tok; t % kTileTokens != 0; ++t)
    for (int64_t b = 0; b < n_blocks; ++b) {
      out.d[out.at(b, t)] = 0.f;
      if constexpr (has_min(kType)) out.s[out.at(b, t)] = 0.f;
    }
}

// The running sums of one tile's outputs: eight lanes per output, and the min terms (lane
// kTileTokens * r + t).
struct TileAcc {
  __m256 acc[kTileRows][kTileTokens];
  __m256 summ;
};

// The tile's kTileTokens tokens' floats at p, repeated for each row (lane kTileTokens * r + t).
inline __m256 act_floats(const float* p) {
  return _mm256_broadcast_ps(reinterpret_cast<const __m128*>(p));
}

// kRT tokens against decoded blocks [0, nb) of the block range starting at b0, continuing the
// sums in `st`.
template <TensorType kType, int kRT>
void tile_pass(const DecodedBlocks& wd, int64_t b0, int nb, const ChunkActs& ca, int64_t t0,
               TileAcc& st) {
  constexpr bool kMin = has_min(kType);
  __m256 acc[kTileRows][kRT];
  [[maybe_unused]] __m256 summ = st.summ;
  for (int r = 0; r < kTileRows; ++r)
    for (int t = 0; t < kRT; ++t) acc[r][t] = st.acc[r][t];
  // d_w * d_a for the tile's outputs, each rounded as the one-output kernels round it, formed
  // ahead of the dot products and broadcast from memory: a load, where a shuffle would compete
  // with vpmovsxbw and vpaddd for their port (and a register, which the loop has none to spare).
  [[maybe_unused]] alignas(32) float prod[kTileBlocks][8];
  {
    static_assert(kTileRows == 2);
    for (int i = 0; i < nb; ++i) {
      const __m256 da = act_floats(ca.d + ca.at(b0 + i, t0));
      _mm256_store_ps(prod[i], _mm256_blend_ps(_mm256_mul_ps(wd.blk[i].d[0], da),
                                               _mm256_mul_ps(wd.blk[i].d[1], da), 0xF0));
    }
  }
  for (int i = 0; i < nb; ++i) {
    const DecodedBlock& wb = wd.blk[i];
    const size_t at = ca.at(b0 + i, t0);
    if constexpr (kMin) summ = _mm256_fmadd_ps(wb.m, act_floats(ca.s + at), summ);
    for (int t = 0; t < kRT; ++t) {
      const uint8_t* a = ca.qs + (at + size_t(t)) * act_bytes(kType);
      if constexpr (byte_weights(kType)) {
        const __m256i lo = load32(a), hi = load32(a + 32);
        for (int r = 0; r < kTileRows; ++r) {
          const __m256i s = _mm256_add_epi32(
              _mm256_madd_epi16(_mm256_maddubs_epi16(wb.q[r][0], lo), _mm256_set1_epi16(1)), hi);
          const __m256 f = _mm256_sub_ps(_mm256_castsi256_ps(s), _mm256_set1_ps(kMagicF));
          acc[r][t] =
              _mm256_fmadd_ps(_mm256_broadcast_ss(&prod[i][kTileTokens * r + t]), f, acc[r][t]);
        }
        continue;
      }
      const __m256i lo = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)));
      const __m256i hi =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + 16)));
      for (int r = 0; r < kTileRows; ++r) {
        const __m256i s =
            _mm256_add_epi32(_mm256_madd_epi16(wb.q[r][0], lo), _mm256_madd_epi16(wb.q[r][1], hi));
        acc[r][t] = _mm256_fmadd_ps(_mm256_broadcast_ss(&prod[i][kTileTokens * r + t]),
                                    _mm256_cvtepi32_ps(s), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < kTileRows; ++r)
    for (int t = 0; t < kRT; ++t) st.acc[r][t] = acc[r][t];
  if constexpr (kMin) st.summ = summ;
}

// The outputs of n_t tokens' finished sums.
template <TensorType kType>
void tile_store(const TileAcc& st, int n_t, float* y, int64_t ldy) {
  [[maybe_unused]] alignas(32) float sm[8];
  if constexpr (has_min(kType)) _mm256_store_ps(sm, st.summ);
  for (int t = 0; t < n_t; ++t)
    for (int r = 0; r < kTileRows; ++r) {
      if constexpr (has_min(kType))
        y[t * ldy + r] = hsum(st.acc[r][t]) + sm[kTileTokens * r + t];
      else
        y[t * ldy + r] = hsum(st.acc[r][t]);
    }
}

// Rows [0, rows) (a multiple of kTileRows) against n_tok tokens: per chunk of at most
// kTileMaxTokens tokens (packed once per matmul), per sweep of its tokens and per kTileBunch
// tiles of rows, each kTileBlocks-block slice of the rows is decoded once and run against every
// token of the sweep, the sums carried between slices.
template <TensorType kType>
void tile_rows(int64_t n, const uint8_t* w, size_t w_stride, int64_t rows, const uint8_t* packed,
               int64_t n_tok, float* y, int64_t ldy) {
  DecodedBlocks wd[kTileBunch];
  TileAcc st[kTileBunch][kTileMaxTokens / kTileTokens];
  const int64_t n_blocks = n / kQK;
  for (int64_t c0 = 0; c0 < n_tok; c0 += kTileMaxTokens) {
    const int64_t c1 = min64(n_tok, c0 + kTileMaxTokens);
    const ChunkActs ca = chunk_view(has_min(kType), n_blocks, n_tok, c0 / kTileMaxTokens, packed);
    const int64_t sweep =
        std::max<int64_t>(kTileTokens, kSweepBytes / (n_blocks * 64 * kTileTokens) * kTileTokens);
    for (int64_t s0 = 0; s0 < c1 - c0; s0 += sweep)
      for (int64_t r = 0; r < rows; r += kTileRows * kTileBunch) {
        const int np = int(min64(kTileBunch, (rows - r) / kTileRows));
        for (int64_t b0 = 0; b0 < n_blocks; b0 += kTileBlocks) {
          const int nb = int(min64(kTileBlocks, n_blocks - b0));
          for (int p = 0; p < np; ++p)
            decode_blocks<kType>(w + size_t(r + p * kTileRows) * w_stride, w_stride, b0, nb, wd[p]);
          const bool first = b0 == 0, last = b0 + nb == n_blocks;
          for (int64_t t = s0; t < min64(c1 - c0, s0 + sweep); t += kTileTokens) {
            const int n_t = int(min64(kTileTokens, c1 - c0 - t));
            for (int p = 0; p < np; ++p) {
              TileAcc& sg = st[p][t / kTileTokens];
              if (first) sg = TileAcc{};
              if (n_t == kTileTokens)
                tile_pass<kType, kTileTokens>(wd[p], b0, nb, ca, t, sg);
              else
                with_static_count<kTileTokens - 1>(n_t, [&](auto k) {
                  tile_pass<kType, decltype(k)::value>(wd[p], b0, nb, ca, t, sg);
                });
              if (last) tile_store<kType>(sg, n_t, y + (c0 + t) * ldy + r + p * kTileRows, ldy);
            }
          }
        }
      }
  }
}
#endif

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

}  // namespace

size_t q0_tiles_bytes(TensorType t, int64_t n, int64_t n_tok) {
  if (!tile_kernel(t) || n % kQK != 0 || n_tok < min_tile_tokens(t)) return 0;
  const int64_t chunks = (n_tok + kTileMaxTokens - 1) / kTileMaxTokens;
  return size_t(chunks) * chunk_region_bytes(has_min(t), n / kQK) + kPackSlack;
}

void pack_q0_tiles(TensorType t, int64_t n, const uint8_t* act, size_t act_stride, int64_t n_tok,
                   int64_t c, uint8_t* out) {
  const int64_t n_blocks = n / kQK;
  ChunkActs ca = chunk_view(has_min(t), n_blocks, n_tok, c, out);
  const uint8_t* a = act + size_t(c * kTileMaxTokens) * act_stride;
#if defined(__AVX512F__) && defined(__AVX512VNNI__)
  if (has_min(t))
    pack_chunk<TensorType::kQ4_1>(a, act_stride, ca.n_tok, n_blocks, ca);
  else
    pack_chunk<TensorType::kQ8_0>(a, act_stride, ca.n_tok, n_blocks, ca);
#else
  switch (t) {  // the AVX2 tiles' layout depends on the weights' type
    case TensorType::kQ8_0:
      return pack_chunk<TensorType::kQ8_0>(a, act_stride, ca.n_tok, n_blocks, ca);
    case TensorType::kQ5_0:
      return pack_chunk<TensorType::kQ5_0>(a, act_stride, ca.n_tok, n_blocks, ca);
    case TensorType::kQ4_0:
      return pack_chunk<TensorType::kQ4_0>(a, act_stride, ca.n_tok, n_blocks, ca);
    default:  // Q4_1, Q5_1
      return pack_chunk<TensorType::kQ4_1>(a, act_stride, ca.n_tok, n_blocks, ca);
  }
#endif
}

int64_t matmul_rows_tiled(TensorType t, int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                          const uint8_t* packed, int64_t n_tok, float* y, int64_t ldy) {
  const TileRows tile = tile_kernel(t);
  if (!tile) return 0;
  const int64_t done = rows - rows % kTileRows;
  tile(n, w, w_stride, done, packed, n_tok, y, ldy);
  return done;
}

}  // namespace gavel::tensor::GAVEL_ISA_NS
