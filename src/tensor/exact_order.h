// Float reductions in the exact order of llama.cpp's CPU kernels.
//
// A quantized model re-rounds its activations to int8 before every matmul, so a last-bit
// difference anywhere (a sum taken in another order) flips some roundings and grows into a
// difference the size of the quantization noise itself (~0.05 in next-token log-probs on small
// models). Matching llama.cpp therefore means matching its float summation order, which
// depends on the SIMD width the library was built for (both are built -march=native) and on
// the kernel ggml picks:
//   * kGemm: llamafile's tinyBLAS, used for prompt batches (>= 2 tokens) when the reduction
//     length is a multiple of the lane count and the output rows a multiple of 4: one
//     accumulator of W lanes (fused multiply-add), then a horizontal sum;
//   * kGemv: ggml_vec_dot_f16/f32, used for a single token: four accumulators of W lanes
//     over steps of 4W, a pairwise reduction, the tail added in double.
// W is the lane count of the active kernel set (tensor/isa.h): 8 at the AVX2 level, 16 at the
// AVX-512 level, as in llama.cpp built for each.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gavel::tensor {

// W: the F32 lanes of the active ISA level.
int simd_lanes();

enum class DotOrder { kGemv, kGemm };

// The order ggml uses for a matmul with m output rows, reduction length k and n tokens.
inline DotOrder dot_order(int64_t m, int64_t k, int64_t n_tokens) {
  return (n_tokens >= 2 && k % simd_lanes() == 0 && m % 4 == 0) ? DotOrder::kGemm : DotOrder::kGemv;
}

float dot_f32_ordered(DotOrder order, int64_t n, const float* a, const float* b);
float dot_f16_ordered(DotOrder order, int64_t n, const uint16_t* a, const uint16_t* b);

// Rows [0, r) of an F16 weight matrix (row i at w + i * w_stride) against n_tok activation rows
// given as floats (their fp16 values; token j at act + j * act_stride), in the kGemm order:
// y[j * ldy + i] = dot_f16_ordered(kGemm, n, row i, token j) bit for bit, in tiles of rows x
// tokens. Returns r (a multiple of the tile height, 4; 0 where n is not a lane multiple).
int64_t matmul_f16_gemm_rows(int64_t n, const uint16_t* w, size_t w_stride, int64_t rows,
                             const float* act, size_t act_stride, int64_t n_tok, float* y,
                             int64_t ldy);
// y[i] = fp16 x[i] as float; y[i] = x[i] rounded to fp16 (gguf::fp32_to_fp16's bits).
void f16_to_f32_row(const uint16_t* x, float* y, int64_t n);
void f32_to_f16_row(const float* x, uint16_t* y, int64_t n);

// out[d] = sum_j p[j] * v[j * ldv + d] for d < dim, j < n (f16 p and v), each output summed
// over j in `order` exactly as ggml's (transposed-V) KQV product does.
void pv_f16_ordered(DotOrder order, int64_t n, const uint16_t* p, const uint16_t* v, int64_t ldv,
                    int dim, float* out);

// ggml's SIMD expf (the Arm optimized-routines polynomial) for the build's lane width.
float exp_simd(float x);
// y[i] = exp_simd(x[i]) for i in [0, n), W lanes at a time.
void exp_ordered(const float* x, float* y, int64_t n);
// In place x[i] = exp(x[i] - max) / sum over [0, n), summed as ggml_vec_soft_max_f32 does.
void softmax_ordered(float* x, int64_t n);
// x[i] = silu(x[i]) in place as ggml_vec_silu_f32 (SIMD chunks of W, libm expf for the tail).
void silu_ordered(float* x, int64_t n);
// g[i] = silu(g[i]) * u[i] as ggml_vec_swiglu_f32 (SIMD chunks of W, libm expf for the tail).
void swiglu_ordered(float* g, const float* u, int64_t n);

}  // namespace gavel::tensor
