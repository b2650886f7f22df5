// Elementwise and row operations of the forward pass, all in fp32 (reductions that ggml
// accumulates in double are accumulated in double here too).
#pragma once

#include <cstdint>

namespace gavel::tensor {

// y = x / sqrt(mean(x^2) + eps) * w  (w may be null). x and y may alias.
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);

// Rotary embedding tables for one position: cos/sin for n_rot/2 frequencies, with
// theta_i = pos * base^(-2i/n_rot) / freq_factors[i] computed as ggml does (iterated product).
void rope_angles(int64_t pos, int n_rot, float base, const float* freq_factors, float* cos_out,
                 float* sin_out);
// Rotates one head in place. NORM pairs (2i, 2i+1); NeoX pairs (i, i + n_rot/2).
void rope_norm(float* x, int n_rot, const float* cos_v, const float* sin_v);
void rope_neox(float* x, int n_rot, const float* cos_v, const float* sin_v);

// One token of the gated delta rule for one head, as llama.cpp's fused CPU gated_delta_net op:
// state is [d_v][d_k], row j holding column j of S. Per row: S_j *= decay; d = beta (v_j -
// S_j.k); S_j += d k; out_j = (S_j.q) * scale, the dots in ggml_vec_dot_f32's order.
void delta_rule_step(float* state, int d_k, int d_v, const float* q, const float* k, const float* v,
                     float decay, float beta, float scale, float* out);

// One token of llama.cpp's ssm_conv (the short causal convolution before the delta rule):
// out[c] = sum_j rows[j * channels + c] * wt[j * channels + c] over j < kernel, taps in
// order, each multiply-add rounded as ggml's kernel built for the active level rounds it
// (rounded products for the vectorized taps, fused for the scalar tail).
// The vectorized taps are as wide as autovec_lanes() (tensor/isa.h); `lanes` overrides it (tests).
void ssm_conv_token(const float* rows, const float* wt, int kernel, int64_t channels, float* out,
                    int lanes = 0);

// softmax / swiglu / exp in llama.cpp's exact float order: tensor/exact_order.h.
// y += x
void add(float* y, const float* x, int64_t n);

}  // namespace gavel::tensor
