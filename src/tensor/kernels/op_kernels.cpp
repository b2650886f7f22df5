// Element-wise ops whose rounding depends on the level's instructions: the compiler contracts
// RoPE's `a*b - c*d` into a fused multiply-add when the level has FMA, as it does when it
// compiles ggml for that level, and the delta rule's update is ggml_vec_mad_f32's fused form.
#include <cmath>
#include <cstddef>

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

namespace {

// ggml's ssm_conv sums each output's taps with a scalar loop (`sumf += s * c`) that GCC
// vectorizes as an in-order reduction: chunks of W taps, then one chunk of W/2, take rounded
// products added one by one; the last taps run in the scalar epilogue, where the multiply-add is
// contracted (fused). Read from the machine code of llama.cpp built natively: W is the f32 lanes
// of the vectors GCC chose (8 for AVX2, and for AVX-512 where -march=native prefers 256 bits; 16
// where it prefers 512). So a kernel of 4 taps is unfused at W = 8 and fused at W = 16.
constexpr int unfused_taps(int kernel, int w) {
  return kernel / w * w + (kernel % w >= w / 2 ? w / 2 : 0);
}

// out[c] += x[c] * w[c] with the product rounded first.
__attribute__((optimize("fp-contract=off"))) void add_rounded_products(float* out, const float* x,
                                                                       const float* w, int64_t n) {
  for (int64_t c = 0; c < n; ++c) {
    const float p = x[c] * w[c];
    out[c] = out[c] + p;
  }
}

}  // namespace

void ssm_conv_token(const float* rows, const float* wt, int kernel, int64_t channels, int lanes,
                    float* out) {
  const size_t C = size_t(channels);
  for (size_t c = 0; c < C; ++c) out[c] = 0.0f;
  const int unfused = unfused_taps(kernel, lanes);
  for (int j = 0; j < kernel; ++j) {
    const float* x = rows + size_t(j) * C;
    const float* w = wt + size_t(j) * C;
    if (j < unfused) {
      add_rounded_products(out, x, w, channels);
    } else {
      for (size_t c = 0; c < C; ++c) out[c] = std::fma(x[c], w[c], out[c]);
    }
  }
}

}  // namespace gavel::tensor::GAVEL_ISA_NS
