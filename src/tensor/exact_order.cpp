// The public entry points dispatch to the active ISA level (tensor/kernels/).
#include "tensor/exact_order.h"

#include "tensor/kernels/kernel_set.h"

namespace gavel::tensor {

int simd_lanes() { return kernels().f32_lanes; }

float dot_f32_ordered(DotOrder order, int64_t n, const float* a, const float* b) {
  return kernels().dot_f32_ordered(order, n, a, b);
}
float dot_f16_ordered(DotOrder order, int64_t n, const uint16_t* a, const uint16_t* b) {
  return kernels().dot_f16_ordered(order, n, a, b);
}
void pv_f16_ordered(DotOrder order, int64_t n, const uint16_t* p, const uint16_t* v, int64_t ldv,
                    int dim, float* out) {
  kernels().pv_f16_ordered(order, n, p, v, ldv, dim, out);
}
int64_t matmul_f16_gemm_rows(int64_t n, const uint16_t* w, size_t w_stride, int64_t rows,
                             const float* act, size_t act_stride, int64_t n_tok, float* y,
                             int64_t ldy) {
  return kernels().matmul_f16_gemm_rows(n, w, w_stride, rows, act, act_stride, n_tok, y, ldy);
}
void f16_to_f32_row(const uint16_t* x, float* y, int64_t n) { kernels().f16_to_f32_row(x, y, n); }
void f32_to_f16_row(const float* x, uint16_t* y, int64_t n) { kernels().f32_to_f16_row(x, y, n); }
float exp_simd(float x) { return kernels().exp_simd(x); }
void exp_ordered(const float* x, float* y, int64_t n) { kernels().exp_ordered(x, y, n); }
void softmax_ordered(float* x, int64_t n) { kernels().softmax_ordered(x, n); }
void silu_ordered(float* x, int64_t n) { kernels().silu_ordered(x, n); }
void swiglu_ordered(float* g, const float* u, int64_t n) { kernels().swiglu_ordered(g, u, n); }

}  // namespace gavel::tensor
