#include "tensor/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/isa.h"
#include "tensor/kernels/kernel_set.h"

namespace gavel::tensor {

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += double(x[i] * x[i]);
  const float mean = float(sum / double(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (w) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void rope_angles(int64_t pos, int n_rot, float base, const float* freq_factors, float* cos_out,
                 float* sin_out) {
  const float theta_scale = std::pow(base, -2.0f / float(n_rot));
  float theta = float(pos);
  for (int i = 0; i < n_rot / 2; ++i) {
    const float ff = freq_factors ? freq_factors[i] : 1.0f;
    const float t = theta / ff;
    cos_out[i] = std::cos(t);
    sin_out[i] = std::sin(t);
    theta *= theta_scale;
  }
}

void rope_norm(float* x, int n_rot, const float* c, const float* s) {
  kernels().rope_norm(x, n_rot, c, s);
}

void rope_neox(float* x, int n_rot, const float* c, const float* s) {
  kernels().rope_neox(x, n_rot, c, s);
}

void delta_rule_step(float* state, int d_k, int d_v, const float* q, const float* k, const float* v,
                     float decay, float beta, float scale, float* out) {
  kernels().delta_rule_step(state, d_k, d_v, q, k, v, decay, beta, scale, out);
}

void ssm_conv_token(const float* rows, const float* wt, int kernel, int64_t channels, float* out,
                    int lanes) {
  kernels().ssm_conv_token(rows, wt, kernel, channels, lanes > 0 ? lanes : autovec_lanes(), out);
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace gavel::tensor
