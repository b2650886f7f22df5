// Row-level conversions and dot products. `*_ref` functions are the plain scalar definitions
// (the ground truth every SIMD kernel is tested against); the unsuffixed ones dispatch to the
// fastest kernel compiled in.
#pragma once

#include <cstdint>

#include "tensor/quant_types.h"

namespace gavel::tensor {

// Dequantizes n elements (a whole number of blocks). Returns false for unsupported types.
bool dequantize_row(TensorType t, const void* src, float* dst, int64_t n);

// Converts an f32 activation row to the activation format `a` (ggml semantics, x86 path).
void quantize_act_row(ActType a, const float* x, void* dst, int64_t n);
void quantize_act_row_ref(ActType a, const float* x, void* dst, int64_t n);

// Dot product of a weight row of type t with an activation row in traits(t).act format.
float vec_dot_ref(TensorType t, int64_t n, const void* w, const void* act);
float vec_dot(TensorType t, int64_t n, const void* w, const void* act);
// n_act tokens against one row: out[i] = vec_dot(t, n, w, act[i]), faster for Q8_0/Q5_0/Q4_0.
void vec_dot_multi(TensorType t, int64_t n, const void* w, const void* const* act, int n_act,
                   float* out);

// Q4_K weight rows in the order of ggml's repacked q4_K_8x8 kernels, which llama.cpp uses
// on AVX2 for Q4_K matrices whose row count is a multiple of 8: `gemm` for the tokens of a
// batch that fill groups of 4, the GEMV order for the rest (falls back to vec_dot without
// AVX2, where ggml does not repack either).
float vec_dot_q4k_repacked(int64_t n, const void* w, const void* act, bool gemm);
// The GEMM order for n_act tokens at once (a multiple of 4, as ggml groups them):
// out[t] = vec_dot_q4k_repacked(n, w, act[t], true), faster.
void vec_dot_q4k_repacked_gemm(int64_t n, const void* w, const void* const* act, int n_act,
                               float* out);
inline bool q4k_is_repacked(int64_t rows) {
#if defined(__AVX2__)
  return rows % 8 == 0;
#else
  (void)rows;
  return false;
#endif
}

// Q4_K/Q5_K/Q6_K rows in the order of ggml's tiled K-quant matmul, which llama.cpp uses on
// AVX2 for batches of >= 8 tokens over K-quant matrices it has not repacked.
float vec_dot_kquant_tiled(TensorType t, int64_t n, const void* w, const void* act);
// The same for n_act tokens: out[i] = vec_dot_kquant_tiled(t, n, w, act[i]), faster for Q6_K.
void vec_dot_kquant_tiled_multi(TensorType t, int64_t n, const void* w, const void* const* act,
                                int n_act, float* out);
inline bool kquant_is_tiled(TensorType t, int64_t rows, int64_t n_tok) {
#if defined(__AVX2__)
  const bool k = t == TensorType::kQ6_K || t == TensorType::kQ5_K ||
                 (t == TensorType::kQ4_K && !q4k_is_repacked(rows));
  return k && n_tok >= 8;
#else
  (void)t, (void)rows, (void)n_tok;
  return false;
#endif
}

}  // namespace gavel::tensor
