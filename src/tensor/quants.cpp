// The public quantized kernels dispatch to the active ISA level (tensor/kernels/).
#include "tensor/quants.h"

#include "tensor/kernels/kernel_set.h"

namespace gavel::tensor {

BatchRule batch_rule() { return kernels().batch; }

void quantize_act_row(ActType a, const float* x, void* dst, int64_t n) {
  kernels().quantize_act_row(a, x, dst, n);
}
float vec_dot(TensorType t, int64_t n, const void* w, const void* act) {
  return kernels().vec_dot(t, n, w, act);
}
void vec_dot_multi(TensorType t, int64_t n, const void* w, const void* const* act, int n_act,
                   float* out) {
  kernels().vec_dot_multi(t, n, w, act, n_act, out);
}
size_t q8k_lanes_bytes(int64_t n, int64_t n_tok) { return kernels().q8k_lanes_bytes(n, n_tok); }
void pack_q8k_lanes(int64_t n, const uint8_t* act, size_t act_stride, int64_t n_tok, int64_t g0,
                    int64_t g1, uint8_t* out) {
  kernels().pack_q8k_lanes(n, act, act_stride, n_tok, g0, g1, out);
}
void matmul_q4k_lanes(int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                      const uint8_t* lanes, int64_t n_tok, float* y, int64_t ldy) {
  kernels().matmul_q4k_lanes(n, w, w_stride, rows, lanes, n_tok, y, ldy);
}
int64_t vec_dot_rows(TensorType t, int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                     const void* act, float* out) {
  return kernels().vec_dot_rows(t, n, w, w_stride, rows, act, out);
}
size_t q0_tiles_bytes(TensorType t, int64_t n, int64_t n_tok) {
  return kernels().q0_tiles_bytes(t, n, n_tok);
}
void pack_q0_tiles(TensorType t, int64_t n, const uint8_t* act, size_t act_stride, int64_t n_tok,
                   int64_t c, uint8_t* out) {
  kernels().pack_q0_tiles(t, n, act, act_stride, n_tok, c, out);
}
int64_t matmul_rows_tiled(TensorType t, int64_t n, const uint8_t* w, size_t w_stride, int64_t rows,
                          const uint8_t* packed, int64_t n_tok, float* y, int64_t ldy) {
  return kernels().matmul_rows_tiled(t, n, w, w_stride, rows, packed, n_tok, y, ldy);
}
float vec_dot_q4k_repacked(int64_t n, const void* w, const void* act, bool gemm) {
  return kernels().vec_dot_q4k_repacked(n, w, act, gemm);
}
void vec_dot_q4k_repacked_gemv_multi(int64_t n, const void* w, const void* const* act, int n_act,
                                     float* out) {
  kernels().vec_dot_q4k_repacked_gemv_multi(n, w, act, n_act, out);
}
void vec_dot_q4k_repacked_gemm(int64_t n, const void* w, const void* const* act, int n_act,
                               float* out) {
  kernels().vec_dot_q4k_repacked_gemm(n, w, act, n_act, out);
}
bool q4k_is_repacked(int64_t rows) { return rows % kernels().batch.repack_rows == 0; }

float vec_dot_kquant_tiled(TensorType t, int64_t n, const void* w, const void* act) {
  return kernels().vec_dot_kquant_tiled(t, n, w, act);
}
void vec_dot_kquant_tiled_multi(TensorType t, int64_t n, const void* w, const void* const* act,
                                int n_act, float* out) {
  kernels().vec_dot_kquant_tiled_multi(t, n, w, act, n_act, out);
}
bool kquant_is_tiled(TensorType t, int64_t rows, int64_t n_tok) {
  const bool k = t == TensorType::kQ6_K || t == TensorType::kQ5_K ||
                 (t == TensorType::kQ4_K && !q4k_is_repacked(rows));
  return k && n_tok >= kernels().batch.kquant_tiled_min_tokens;
}

}  // namespace gavel::tensor
