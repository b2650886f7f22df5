#include "model/delta_net.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/debug_dump.h"
#include "tensor/exact_order.h"
#include "tensor/ops.h"

namespace gavel::model::delta_net {
namespace {

// 8-wide float vectors via the GCC/Clang vector extension: float reductions are not
// auto-vectorised without -ffast-math, and these loops are the whole cost of the delta rule.
typedef float V8 __attribute__((vector_size(32)));
// Without AVX these helpers pass V8 in memory; they are internal and inlined, so the ABI note
// GCC emits for them (-Wpsabi) does not apply.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

inline V8 load8(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, V8 v) { std::memcpy(p, &v, sizeof v); }
inline float hsum(V8 v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

float dot(const float* a, const float* b, int n) {
  V8 acc0 = {}, acc1 = {};
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 += load8(a + i) * load8(b + i);
    acc1 += load8(a + i + 8) * load8(b + i + 8);
  }
  for (; i + 8 <= n; i += 8) acc0 += load8(a + i) * load8(b + i);
  float s = hsum(acc0 + acc1);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// y += a * x
void axpy(float* y, const float* x, float a, int n) {
  int i = 0;
  const V8 av = {a, a, a, a, a, a, a, a};
  for (; i + 8 <= n; i += 8) store8(y + i, load8(y + i) + av * load8(x + i));
  for (; i < n; ++i) y[i] += a * x[i];
}

// y = a * y + b * x

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
// ggml_softplus: identity above 20.
inline float softplus(float x) { return x > 20.0f ? x : std::log(1.0f + std::exp(x)); }

void run_heads(const ParallelFor& par, int n, const std::function<void(int, int)>& fn) {
  if (par) {
    par(n, fn);
  } else {
    fn(0, n);
  }
}

}  // namespace

bool Shape::valid() const {
  return n_k_heads > 0 && n_v_heads > 0 && d_k > 0 && d_v > 0 && conv_kernel >= 1 &&
         n_v_heads % n_k_heads == 0;
}

void LayerState::reset(const Shape& s) {
  conv.assign(s.conv_state_floats(), 0.0f);
  ssm.assign(s.ssm_state_floats(), 0.0f);
}

void conv1d_silu(const float* x, int64_t n_tokens, int channels, const float* weight, int kernel,
                 float* window, float* out) {
  const int hist = kernel - 1;
  const size_t C = size_t(channels);
  // ext = [window; x]: row t + j of ext is tap j of output t. Built by copy, so out may alias x.
  std::vector<float> ext((size_t(hist) + size_t(n_tokens)) * C);
  std::memcpy(ext.data(), window, size_t(hist) * C * sizeof(float));
  std::memcpy(ext.data() + size_t(hist) * C, x, size_t(n_tokens) * C * sizeof(float));
  std::vector<float> raw_dump;
  std::vector<float> wt(size_t(kernel) * C);  // taps transposed to [K][C] for contiguous rows
  for (size_t c = 0; c < C; ++c)
    for (int j = 0; j < kernel; ++j) wt[size_t(j) * C + c] = weight[c * kernel + j];
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* ot = out + t * channels;
    tensor::ssm_conv_token(ext.data() + size_t(t) * C, wt.data(), kernel, channels, ot);
    if (dump_dir()) raw_dump.insert(raw_dump.end(), ot, ot + C);
    tensor::silu_ordered(ot, channels);
  }
  if (dump_dir())
    dump_tensor("conv_output_raw-" + std::to_string(dump_layer_index()), raw_dump.data(),
                int(n_tokens), channels, channels);
  std::memcpy(window, ext.data() + size_t(n_tokens) * C, size_t(hist) * C * sizeof(float));
}

// llama.cpp's build_gdn_l2_norm: rms_norm(x, eps / n) * (1 / sqrt(n)), i.e. x / sqrt(|x|^2 + eps).
void l2_normalize(float* x, int n, float eps) {
  const float fn = float(n);
  tensor::rms_norm(x, nullptr, x, n, eps / fn);
  const float s = 1.0f / std::sqrt(fn);
  for (int i = 0; i < n; ++i) x[i] *= s;
}

void gates(const float* alpha, const float* b, const float* ssm_a, const float* dt_bias,
           int n_v_heads, float* g, float* beta) {
  for (int h = 0; h < n_v_heads; ++h) {
    g[h] = ssm_a[h] * softplus(alpha[h] + dt_bias[h]);
    beta[h] = sigmoid(b[h]);
  }
}

void delta_rule_recurrent(const Shape& s, const RuleInputs& in, float* state, float* out,
                          int64_t out_stride, int h0, int h1) {
  const int dk = s.d_k, dv = s.d_v;
  const float scale = 1.0f / std::sqrt(float(dk));
  for (int h = h0; h < h1; ++h) {
    const int kh = s.k_head_of(h);
    float* st = state + size_t(h) * dv * dk;
    for (int64_t t = 0; t < in.n_tokens; ++t) {
      const float* q = in.q + t * in.qkv_stride + size_t(kh) * dk;
      const float* k = in.k + t * in.qkv_stride + size_t(kh) * dk;
      const float* v = in.v + t * in.qkv_stride + size_t(h) * dv;
      const float decay = std::exp(in.g[t * in.gate_stride + h]);
      const float beta = in.beta[t * in.gate_stride + h];
      float* o = out + t * out_stride + size_t(h) * dv;
      tensor::delta_rule_step(st, dk, dv, q, k, v, decay, beta, scale, o);
    }
  }
}

void delta_rule_chunked(const Shape& s, const RuleInputs& in, float* state, float* out,
                        int64_t out_stride, int h0, int h1, int chunk) {
  const int dk = s.d_k, dv = s.d_v;
  const float scale = 1.0f / std::sqrt(float(dk));
  chunk = std::max(1, chunk);
  std::vector<float> G(chunk), A(size_t(chunk) * chunk), QK(size_t(chunk) * chunk);
  std::vector<float> U(size_t(chunk) * dv), W(size_t(chunk) * dk), OQ(size_t(chunk) * dv);
  std::vector<float> ucol(chunk);
  for (int h = h0; h < h1; ++h) {
    const int kh = s.k_head_of(h);
    float* st = state + size_t(h) * dv * dk;
    for (int64_t t0 = 0; t0 < in.n_tokens; t0 += chunk) {
      const int L = int(std::min<int64_t>(chunk, in.n_tokens - t0));
      auto qp = [&](int r) { return in.q + (t0 + r) * in.qkv_stride + size_t(kh) * dk; };
      auto kp = [&](int r) { return in.k + (t0 + r) * in.qkv_stride + size_t(kh) * dk; };
      auto vp = [&](int r) { return in.v + (t0 + r) * in.qkv_stride + size_t(h) * dv; };
      auto bt = [&](int r) { return in.beta[(t0 + r) * in.gate_stride + h]; };
      float acc = 0.0f;
      for (int r = 0; r < L; ++r) {
        acc += in.g[(t0 + r) * in.gate_stride + h];
        G[r] = acc;
      }
      // A[r][s] = beta_r (k_r.k_s) e^{G_r-G_s} (s<r); QK[r][s] = (q_r.k_s) e^{G_r-G_s} (s<=r).
      for (int r = 0; r < L; ++r) {
        for (int c = 0; c <= r; ++c) {
          const float e = std::exp(G[r] - G[c]);
          if (c < r) A[size_t(r) * chunk + c] = bt(r) * dot(kp(r), kp(c), dk) * e;
          QK[size_t(r) * chunk + c] = dot(qp(r), kp(c), dk) * e * scale;
        }
      }
      // Forward substitution of (I + A) [U0 | W] = [beta v | beta Gamma k].
      for (int r = 0; r < L; ++r) {
        float* u = U.data() + size_t(r) * dv;
        float* w = W.data() + size_t(r) * dk;
        const float* v = vp(r);
        const float* k = kp(r);
        const float b = bt(r), bg = b * std::exp(G[r]);
        for (int j = 0; j < dv; ++j) u[j] = b * v[j];
        for (int i = 0; i < dk; ++i) w[i] = bg * k[i];
        for (int c = 0; c < r; ++c) {
          const float a = A[size_t(r) * chunk + c];
          axpy(u, U.data() + size_t(c) * dv, -a, dv);
          axpy(w, W.data() + size_t(c) * dk, -a, dk);
        }
      }
      // U = U0 - W S0 and the inter-chunk output term Gamma_r S0^T q_r, both read the old state.
      for (int j = 0; j < dv; ++j) {
        const float* row = st + size_t(j) * dk;
        for (int r = 0; r < L; ++r) {
          U[size_t(r) * dv + j] -= dot(row, W.data() + size_t(r) * dk, dk);
          OQ[size_t(r) * dv + j] = std::exp(G[r]) * scale * dot(row, qp(r), dk);
        }
      }
      // Intra-chunk output: o_r = OQ_r + sum_{s<=r} QK[r][s] U_s.
      for (int r = 0; r < L; ++r) {
        float* o = out + (t0 + r) * out_stride + size_t(h) * dv;
        std::memcpy(o, OQ.data() + size_t(r) * dv, dv * sizeof(float));
        for (int c = 0; c <= r; ++c)
          axpy(o, U.data() + size_t(c) * dv, QK[size_t(r) * chunk + c], dv);
      }
      // State: S = Gamma_{L-1} S0 + sum_s e^{G_{L-1}-G_s} k_s U_s^T (row j: over k_s).
      const float glast = std::exp(G[L - 1]);
      for (int r = 0; r < L; ++r) ucol[r] = std::exp(G[L - 1] - G[r]);
      for (int j = 0; j < dv; ++j) {
        float* row = st + size_t(j) * dk;
        for (int i = 0; i < dk; ++i) row[i] *= glast;
        for (int r = 0; r < L; ++r) axpy(row, kp(r), ucol[r] * U[size_t(r) * dv + j], dk);
      }
    }
  }
}

// rms_norm(o) * w * silu(z), each step rounded as llama.cpp's graph (rms_norm, mul, silu, mul).
void gated_rms_norm(float* o, const float* z, const float* w, int d, float eps) {
  tensor::rms_norm(o, w, o, d, eps);
  thread_local std::vector<float> sz;
  sz.assign(z, z + d);
  tensor::silu_ordered(sz.data(), d);
  for (int j = 0; j < d; ++j) o[j] *= sz[size_t(j)];
}

void mix(const Shape& s, const LayerWeights& w, float eps, float* mixed, const float* z,
         const float* alpha, const float* b, int64_t n_tokens, LayerState& state, float* y,
         RuleForm form, const ParallelFor& par) {
  const int C = s.conv_channels(), Hv = s.n_v_heads, Hk = s.n_k_heads;
  conv1d_silu(mixed, n_tokens, C, w.conv, s.conv_kernel, state.conv.data(), mixed);
  auto dump = [&](const char* name, const float* d, int cols, int ld) {
    if (dump_dir())
      dump_tensor(std::string(name) + "-" + std::to_string(dump_layer_index()), d, int(n_tokens),
                  cols, ld);
  };
  dump("conv_output_silu", mixed, C, C);
  std::vector<float> g(size_t(n_tokens) * Hv), beta(size_t(n_tokens) * Hv);
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* row = mixed + t * C;
    for (int hk = 0; hk < 2 * Hk; ++hk) l2_normalize(row + size_t(hk) * s.d_k, s.d_k, eps);
    gates(alpha + t * Hv, b + t * Hv, w.ssm_a, w.dt_bias, Hv, g.data() + t * Hv,
          beta.data() + t * Hv);
  }
  dump("q_conv_predelta", mixed, s.key_dim(), C);
  dump("k_conv_predelta", mixed + s.key_dim(), s.key_dim(), C);
  dump("gate", g.data(), Hv, Hv);
  dump("beta_sigmoid", beta.data(), Hv, Hv);
  RuleInputs in;
  in.q = mixed;
  in.k = mixed + s.key_dim();
  in.v = mixed + 2 * s.key_dim();
  in.g = g.data();
  in.beta = beta.data();
  in.n_tokens = n_tokens;
  in.qkv_stride = C;
  in.gate_stride = Hv;
  // kAuto = the recurrence: it is what llama.cpp's fused CPU op computes, so only it gives
  // the same bits; the chunked form agrees to float rounding (tests) and stays available.
  const bool chunked = form == RuleForm::kChunked;
  const int64_t ys = s.value_dim();
  run_heads(par, Hv, [&](int h0, int h1) {
    if (chunked) {
      delta_rule_chunked(s, in, state.ssm.data(), y, ys, h0, h1);
    } else {
      delta_rule_recurrent(s, in, state.ssm.data(), y, ys, h0, h1);
    }
    if (h0 == 0 && h1 == Hv) dump("attn_output", y, int(ys), int(ys));
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int h = h0; h < h1; ++h) {
        const size_t off = t * ys + size_t(h) * s.d_v;
        gated_rms_norm(y + off, z + off, w.norm, s.d_v, eps);
      }
    }
  });
}

}  // namespace gavel::model::delta_net
