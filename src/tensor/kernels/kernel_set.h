// The table of kernels one ISA level provides (src/tensor/kernels/*.cpp are compiled once per
// level, see src/tensor/CMakeLists.txt), and the facts of llama.cpp's kernel choice at that
// level. Internal to the tensor layer: other layers call the functions of exact_order.h,
// quants.h and ops.h, which dispatch to the active set.
#pragma once

#include <cstdint>

#include "tensor/exact_order.h"
#include "tensor/isa.h"
#include "tensor/quant_types.h"
#include "tensor/quants.h"

namespace gavel::tensor {

struct KernelSet {
  Isa isa;
  // Lanes of llama.cpp's F32/F16 SIMD type at this level (GGML_F32_EPR, tinyBLAS's KN): the
  // width of every ordered float reduction (exact_order.h).
  int f32_lanes;
  BatchRule batch;

  // exact_order.h
  float (*dot_f32_ordered)(DotOrder order, int64_t n, const float* a, const float* b);
  float (*dot_f16_ordered)(DotOrder order, int64_t n, const uint16_t* a, const uint16_t* b);
  int64_t (*matmul_f16_gemm_rows)(int64_t n, const uint16_t* w, size_t w_stride, int64_t rows,
                                  const float* act, size_t act_stride, int64_t n_tok, float* y,
                                  int64_t ldy);
  void (*f16_to_f32_row)(const uint16_t* x, float* y, int64_t n);
  void (*f32_to_f16_row)(const float* x, uint16_t* y, int64_t n);
  void (*pv_f16_ordered)(DotOrder order, int64_t n, const uint16_t* p, const uint16_t* v,
                         int64_t ldv, int dim, float* out);
  float (*exp_simd)(float x);
  void (*exp_ordered)(const float* x, float* y, int64_t n);
  void (*softmax_ordered)(float* x, int64_t n);
  void (*silu_ordered)(float* x, int64_t n);
  void (*swiglu_ordered)(float* g, const float* u, int64_t n);

  // quants.h
  void (*quantize_act_row)(ActType a, const float* x, void* dst, int64_t n);
  float (*vec_dot)(TensorType t, int64_t n, const void* w, const void* act);
  void (*vec_dot_multi)(TensorType t, int64_t n, const void* w, const void* const* act, int n_act,
                        float* out);
  int64_t (*vec_dot_rows)(TensorType t, int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                          const void* act, float* out);
  size_t (*q0_tiles_bytes)(TensorType t, int64_t n, int64_t n_tok);
  void (*pack_q0_tiles)(TensorType t, int64_t n, const uint8_t* act, size_t act_stride,
                        int64_t n_tok, int64_t c, uint8_t* out);
  int64_t (*matmul_rows_tiled)(TensorType t, int64_t n, const uint8_t* w, size_t w_stride,
                               int64_t rows, const uint8_t* packed, int64_t n_tok, float* y,
                               int64_t ldy);
  size_t (*q8k_lanes_bytes)(int64_t n, int64_t n_tok);
  void (*pack_q8k_lanes)(int64_t n, const uint8_t* act, size_t act_stride, int64_t n_tok,
                         int64_t g0, int64_t g1, uint8_t* out);
  void (*matmul_q4k_lanes)(int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                           const uint8_t* lanes, int64_t n_tok, float* y, int64_t ldy);
  float (*vec_dot_q4k_repacked)(int64_t n, const void* w, const void* act, bool gemm);
  void (*vec_dot_q4k_repacked_gemv_multi)(int64_t n, const void* w, const void* const* act,
                                          int n_act, float* out);
  void (*vec_dot_q4k_repacked_gemm)(int64_t n, const void* w, const void* const* act, int n_act,
                                    float* out);
  float (*vec_dot_kquant_tiled)(TensorType t, int64_t n, const void* w, const void* act);
  void (*vec_dot_kquant_tiled_multi)(TensorType t, int64_t n, const void* w, const void* const* act,
                                     int n_act, float* out);

  // ops.h
  void (*rope_norm)(float* x, int n_rot, const float* cos_v, const float* sin_v);
  void (*rope_neox)(float* x, int n_rot, const float* cos_v, const float* sin_v);
  void (*delta_rule_step)(float* state, int d_k, int d_v, const float* q, const float* k,
                          const float* v, float decay, float beta, float scale, float* out);
  void (*ssm_conv_token)(const float* rows, const float* wt, int kernel, int64_t channels,
                         int lanes, float* out);
};

// The active set (init_kernels() / set_isa()).
const KernelSet& kernels();
// The set compiled for `isa` (whether or not this CPU can run it).
const KernelSet& kernel_set(Isa isa);

}  // namespace gavel::tensor
