#include "tensor/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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

float exp_poly(float x) {
  // exp(x) = 2^n * p(b), n = round(x / ln2), b = x - n ln2 (ln2 split in two), p a degree-5
  // polynomial (the Arm optimized-routines coefficients that ggml's SIMD kernels use); each
  // step is one fused multiply-add so the result is bit-identical to the 16-lane version.
  const float shift = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, shift);
  const float n = z - shift;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  if (std::fabs(n) > 192.f) return n <= 0.f ? 0.f : std::numeric_limits<float>::infinity();
  const float u = b * b;
  const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                    std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                           u, std::fma(0x1.ffffecp-1f, b, 1.0f));
  return std::ldexp(j, int(n));
}

void swiglu(float* g, const float* u, int64_t n) {
  // 16-element chunks use the polynomial exp, the tail libm's expf (as ggml on AVX-512).
  int64_t i = 0;
  for (; i + 15 < n; i += 16)
    for (int64_t k = i; k < i + 16; ++k) g[k] = g[k] / (1.0f + exp_poly(0.0f - g[k])) * u[k];
  for (; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

namespace {
// Float sum of 16 values in the pairwise order of a 512-bit horizontal add.
float sum16(const float* v) {
#if defined(__AVX512F__)
  return _mm512_reduce_add_ps(_mm512_loadu_ps(v));
#else
  float a[8], b[4], c[2];
  for (int i = 0; i < 8; ++i) a[i] = v[i] + v[i + 8];
  for (int i = 0; i < 4; ++i) b[i] = a[i] + a[i + 4];
  for (int i = 0; i < 2; ++i) c[i] = b[i] + b[i + 2];
  return c[0] + c[1];
#endif
}
}  // namespace

void softmax(float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  int64_t i0 = 0;
  for (; i0 + 15 < n; i0 += 16) {
    for (int64_t k = i0; k < i0 + 16; ++k) x[k] = exp_poly(x[k] - mx);
    sum += double(sum16(x + i0));
  }
  for (int64_t i = i0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += double(x[i]);
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace gavel::tensor
