// Row-level conversions and dot products. `*_ref` functions are the plain scalar definitions
// (the ground truth every SIMD kernel is tested against); the unsuffixed ones dispatch to the
// active ISA level's kernels (tensor/isa.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/quant_types.h"

namespace gavel::tensor {

// Converts an f32 activation row to the activation format `a` (ggml semantics, x86 path).
void quantize_act_row(ActType a, const float* x, void* dst, int64_t n);
void quantize_act_row_ref(ActType a, const float* x, void* dst, int64_t n);

// Dot product of a weight row of type t with an activation row in traits(t).act format.
float vec_dot_ref(TensorType t, int64_t n, const void* w, const void* act);
float vec_dot(TensorType t, int64_t n, const void* w, const void* act);
// n_act tokens against one row: out[i] = vec_dot(t, n, w, act[i]), faster for
// Q8_0/Q5_0/Q4_0/Q4_1/Q5_1/Q4_K/Q5_K/Q6_K (the row decoded once per group of tokens).
void vec_dot_multi(TensorType t, int64_t n, const void* w, const void* const* act, int n_act,
                   float* out);
// Q4_K matrices in the repacked GEMM order with the tokens in the vector lanes (16 per vector
// at AVX-512, 8 at AVX2): q8k_lanes_bytes(n, n_tok) is the size of n_tok Q8_K activation rows
// interleaved by pack_q8k_lanes (token groups [g0, g1) of 16, so threads can split the
// packing), 0 where the level has no such kernel; matmul_q4k_lanes then computes y[t * ldy + i] =
// vec_dot_q4k_repacked(n, row i, token t, gemm=true) bit for bit for every row and token < n_tok.
inline constexpr int kQ8KLaneTokens = 16;  // tokens per group of the interleaved layout
size_t q8k_lanes_bytes(int64_t n, int64_t n_tok);
void pack_q8k_lanes(int64_t n, const uint8_t* act, size_t act_stride, int64_t n_tok, int64_t g0,
                    int64_t g1, uint8_t* out);
void matmul_q4k_lanes(int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                      const uint8_t* lanes, int64_t n_tok, float* y, int64_t ldy);
// Rows [0, r) of a weight matrix (row i at w + i * w_stride) against one activation row:
// out[i] = vec_dot(t, n, row i, act), bit for bit, several rows per pass (one-token decoding).
// Returns r (a multiple of the rows per pass; 0 for types without this form: Q8_0/Q5_0/Q4_0
// have it), the caller computes the rest.
int64_t vec_dot_rows(TensorType t, int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                     const void* act, float* out);
// Tiles of rows x tokens for Q8_0/Q5_0/Q4_0/Q4_1/Q5_1 (both levels). The activations are
// packed once per matmul: q0_tiles_bytes(t, n, n_tok) is their size (0 where the active level
// has no tile kernel for t, or no faster one for so few tokens), pack_q0_tiles packs chunk c
// (tokens [c, c + 1) x kQ0TileChunkTokens of the rows at act + j * act_stride, so threads can split
// the packing). matmul_rows_tiled then computes rows [0, r) of a weight matrix (row i at w + i *
// w_stride): y[j * ldy + i] = vec_dot(t, n, row i, token j), bit for bit, and returns r (a multiple
// of the tile height); the caller computes the rest.
inline constexpr int kQ0TileChunkTokens = 256;
size_t q0_tiles_bytes(TensorType t, int64_t n, int64_t n_tok);
void pack_q0_tiles(TensorType t, int64_t n, const uint8_t* act, size_t act_stride, int64_t n_tok,
                   int64_t c, uint8_t* out);
int64_t matmul_rows_tiled(TensorType t, int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                          const uint8_t* packed, int64_t n_tok, float* y, int64_t ldy);

// How llama.cpp, at the active ISA level, picks its matmul kernel by batch size. Every kernel
// choice of the engine follows from these numbers (and so does its exact-split rule,
// engine::LoadedModel::exact_split).
struct BatchRule {
  int gemm_min_tokens;          // tinyBLAS (F32/F16/Q8_0/...) from this many tokens, else vec_dot
  int kquant_tiled_min_tokens;  // ggml's tiled K-quant matmul from this many tokens
  int repack_rows;              // Q4_K matrices whose row count is a multiple of this are repacked
  int repack_group;             // the repacked GEMM takes tokens in groups of this many
};
BatchRule batch_rule();

// Q4_K weight rows in the order of ggml's repacked q4_K_8x8 kernels, which llama.cpp uses
// for Q4_K matrices whose row count is a multiple of batch_rule().repack_rows: `gemm` for the
// tokens of a batch that fill groups of batch_rule().repack_group, the GEMV order for the rest.
float vec_dot_q4k_repacked(int64_t n, const void* w, const void* act, bool gemm);
// The GEMV order for n_act tokens at once: out[t] = vec_dot_q4k_repacked(n, w, act[t], false),
// the row decoded once for several tokens (batched decoding, a batch's last n % 4 tokens).
void vec_dot_q4k_repacked_gemv_multi(int64_t n, const void* w, const void* const* act, int n_act,
                                     float* out);
// The GEMM order for n_act tokens at once (a multiple of the group, as ggml groups them):
// out[t] = vec_dot_q4k_repacked(n, w, act[t], true), faster.
void vec_dot_q4k_repacked_gemm(int64_t n, const void* w, const void* const* act, int n_act,
                               float* out);
bool q4k_is_repacked(int64_t rows);

// Q4_K/Q5_K/Q6_K rows in the order of ggml's tiled K-quant matmul, which llama.cpp uses for
// batches of >= batch_rule().kquant_tiled_min_tokens over K-quant matrices it has not repacked.
float vec_dot_kquant_tiled(TensorType t, int64_t n, const void* w, const void* act);
// The same for n_act tokens: out[i] = vec_dot_kquant_tiled(t, n, w, act[i]), faster for Q6_K.
void vec_dot_kquant_tiled_multi(TensorType t, int64_t n, const void* w, const void* const* act,
                                int n_act, float* out);
bool kquant_is_tiled(TensorType t, int64_t rows, int64_t n_tok);

}  // namespace gavel::tensor
