// Element-wise ops whose rounding depends on the level's instructions: the compiler contracts
// RoPE's `a*b - c*d` into a fused multiply-add when the level has FMA, as it does when it
// compiles ggml for that level, and the delta rule's update is ggml_vec_mad_f32's fused form.
#include <cmath>

#include "tensor/kernels/isa_namespace.h"
#include "tensor/kernels/kernel_decls.h"

namespace gavel::tensor::GAVEL_ISA_NS {

void rope_norm(float* x, int n_rot, const float* c, const float* s) {
  for (int i = 0; i < n_rot / 2; ++i) {
    const float x0 = x[2 * i], x1 = x[2 * i + 1];
    x[2 * i] = x0 * c[i] - x1 * s[i];
    x[2 * i + 1] = x0 * s[i] + x1 * c[i];
  }
}

void rope_neox(float* x, int n_rot, const float* c, const float* s) {
  const int h = n_rot / 2;
  for (int i = 0; i < h; ++i) {
    const float x0 = x[i], x1 = x[i + h];
    x[i] = x0 * c[i] - x1 * s[i];
    x[i + h] = x0 * s[i] + x1 * c[i];
  }
}

void delta_rule_step(float* state, int dk, int dv, const float* q, const float* k, const float* v,
                     float decay, float beta, float scale, float* out) {
  // Row j of the state is column j of S; each row is independent, so decay, read, update and
  // output happen in one pass over the state. The arithmetic is that of llama.cpp's fused CPU
  // gated_delta_net op: scale the state, dot in ggml_vec_dot_f32's order, fused rank-1 update.
  for (int j = 0; j < dv; ++j) {
    float* row = state + size_t(j) * size_t(dk);
    for (int i = 0; i < dk; ++i) row[i] *= decay;
    const float pred = GAVEL_ISA_NS::dot_f32_ordered(DotOrder::kGemv, dk, row, k);
    const float d = (v[j] - pred) * beta;
    for (int i = 0; i < dk; ++i) row[i] = std::fma(k[i], d, row[i]);
    out[j] = GAVEL_ISA_NS::dot_f32_ordered(DotOrder::kGemv, dk, row, q) * scale;
  }
}

}  // namespace gavel::tensor::GAVEL_ISA_NS
