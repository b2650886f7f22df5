// Gated DeltaNet kernels: the recurrent form against a plain double-precision recurrence, the
// chunked form against the recurrent one, and save/restore of the carried state.
#include "model/delta_net.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace dn = gavel::model::delta_net;

namespace {

struct Block {
  dn::Shape s;
  int64_t T = 0;
  std::vector<float> qkv;  // [T][C] after conv: q, k normalised
  std::vector<float> g, beta;  // [T][H_v]
  dn::RuleInputs in() const {
    dn::RuleInputs r;
    r.q = qkv.data();
    r.k = qkv.data() + s.key_dim();
    r.v = qkv.data() + 2 * s.key_dim();
    r.g = g.data();
    r.beta = beta.data();
    r.n_tokens = T;
    r.qkv_stride = s.conv_channels();
    r.gate_stride = s.n_v_heads;
    return r;
  }
};

dn::Shape shape(int hk, int hv, int dk, int dv) {
  dn::Shape s;
  s.n_k_heads = hk;
  s.n_v_heads = hv;
  s.d_k = dk;
  s.d_v = dv;
  s.conv_kernel = 4;
  return s;
}

// g in [g_lo, 0]: g_lo near 0 keeps memory long, which is where chunking error would show.
Block random_block(const dn::Shape& s, int64_t T, uint32_t seed, float g_lo = -1.5f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_real_distribution<float> ud(0.0f, 1.0f);
  Block b;
  b.s = s;
  b.T = T;
  const int C = s.conv_channels();
  b.qkv.resize(size_t(T) * C);
  for (auto& x : b.qkv) x = nd(rng);
  for (int64_t t = 0; t < T; ++t) {
    for (int h = 0; h < 2 * s.n_k_heads; ++h) {
      dn::l2_normalize(b.qkv.data() + t * C + size_t(h) * s.d_k, s.d_k, 1e-6f);
    }
  }
  b.g.resize(size_t(T) * s.n_v_heads);
  b.beta.resize(b.g.size());
  for (auto& x : b.g) x = g_lo * ud(rng);
  for (auto& x : b.beta) x = 0.05f + 0.9f * ud(rng);
  return b;
}

// Textbook recurrence on S[i][j] (d_k x d_v) in double, V head h reading K head h % H_k.
void naive_rule(const Block& b, std::vector<double>& S, std::vector<double>& out) {
  const auto& s = b.s;
  const int C = s.conv_channels(), dk = s.d_k, dv = s.d_v;
  out.assign(size_t(b.T) * s.value_dim(), 0.0);
  for (int h = 0; h < s.n_v_heads; ++h) {
    const int kh = h % s.n_k_heads;
    double* St = S.data() + size_t(h) * dk * dv;
    for (int64_t t = 0; t < b.T; ++t) {
      const float* q = b.qkv.data() + t * C + size_t(kh) * dk;
      const float* k = b.qkv.data() + t * C + s.key_dim() + size_t(kh) * dk;
      const float* v = b.qkv.data() + t * C + 2 * s.key_dim() + size_t(h) * dv;
      const double e = std::exp(double(b.g[t * s.n_v_heads + h]));
      const double beta = b.beta[t * s.n_v_heads + h];
      for (int i = 0; i < dk * dv; ++i) St[i] *= e;
      for (int j = 0; j < dv; ++j) {
        double m = 0;
        for (int i = 0; i < dk; ++i) m += St[i * dv + j] * k[i];
        const double d = beta * (v[j] - m);
        for (int i = 0; i < dk; ++i) St[i * dv + j] += k[i] * d;
      }
      for (int j = 0; j < dv; ++j) {
        double o = 0;
        for (int i = 0; i < dk; ++i) o += St[i * dv + j] * q[i];
        out[t * s.value_dim() + size_t(h) * dv + j] = o / std::sqrt(double(dk));
      }
    }
  }
}

// max |a-b| / max(|b|), the error relative to the output's scale.
template <class A, class B>
double rel_err(const A& a, const B& b) {
  double num = 0, den = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::abs(double(a[i]) - double(b[i])));
    den = std::max(den, std::abs(double(b[i])));
  }
  return num / den;
}

std::vector<float> run(const Block& b, std::vector<float>& state, bool chunked, int chunk = 64) {
  std::vector<float> out(size_t(b.T) * b.s.value_dim(), 0.0f);
  if (chunked) {
    dn::delta_rule_chunked(b.s, b.in(), state.data(), out.data(), b.s.value_dim(), 0,
                           b.s.n_v_heads, chunk);
  } else {
    dn::delta_rule_recurrent(b.s, b.in(), state.data(), out.data(), b.s.value_dim(), 0,
                             b.s.n_v_heads);
  }
  return out;
}

// The state in the naive [h][i][j] layout, from the kernel's [h][j][i].
std::vector<double> untranspose(const dn::Shape& s, const std::vector<float>& st) {
  std::vector<double> r(st.size());
  for (int h = 0; h < s.n_v_heads; ++h)
    for (int j = 0; j < s.d_v; ++j)
      for (int i = 0; i < s.d_k; ++i)
        r[(size_t(h) * s.d_k + i) * s.d_v + j] = st[(size_t(h) * s.d_v + j) * s.d_k + i];
  return r;
}

TEST(DeltaNet, RecurrentMatchesDoubleReference) {
  const auto s = shape(2, 4, 32, 24);  // H_v = 2 H_k: exercises the tiled head mapping
  const auto b = random_block(s, 50, 1);
  std::vector<float> st(s.ssm_state_floats(), 0.0f);
  const auto out = run(b, st, false);
  std::vector<double> S(st.size(), 0.0), ref;
  naive_rule(b, S, ref);
  EXPECT_LT(rel_err(out, ref), 1e-5);
  EXPECT_LT(rel_err(untranspose(s, st), S), 1e-5);
}

TEST(DeltaNet, TiledHeadMappingIsNotGrouped) {
  // A V head must read K head h % H_k (GGUF order), not h / (H_v/H_k) (HF order): with
  // H_k = 2, H_v = 4, V head 1 reads K head 1 under tiling but K head 0 under grouping.
  const auto s = shape(2, 4, 16, 16);
  EXPECT_EQ(s.k_head_of(1), 1);
  EXPECT_EQ(s.k_head_of(2), 0);
  auto b = random_block(s, 8, 2);
  std::vector<float> st(s.ssm_state_floats(), 0.0f);
  const auto out = run(b, st, false);
  // Perturb K head 1's keys; V heads 1 and 3 must change, V heads 0 and 2 must not.
  for (int64_t t = 0; t < b.T; ++t) {
    float* k1 = b.qkv.data() + t * s.conv_channels() + s.key_dim() + s.d_k;
    std::reverse(k1, k1 + s.d_k);
  }
  std::vector<float> st2(s.ssm_state_floats(), 0.0f);
  const auto out2 = run(b, st2, false);
  for (int h = 0; h < 4; ++h) {
    double diff = 0;
    for (int64_t t = 0; t < b.T; ++t)
      for (int j = 0; j < s.d_v; ++j) {
        const size_t i = t * s.value_dim() + size_t(h) * s.d_v + j;
        diff = std::max(diff, double(std::abs(out[i] - out2[i])));
      }
    if (h % 2 == 1) {
      EXPECT_GT(diff, 1e-3) << "V head " << h;
    } else {
      EXPECT_EQ(diff, 0.0) << "V head " << h;
    }
  }
}

TEST(DeltaNet, ChunkedMatchesRecurrent) {
  const auto s = shape(2, 4, 64, 64);
  for (int64_t T : {1, 7, 63, 64, 65, 128, 200, 333}) {
    for (int chunk : {64, 16}) {
      for (float g_lo : {-1.5f, -0.01f}) {
        const auto b = random_block(s, T, uint32_t(T * 7 + chunk), g_lo);
        std::vector<float> st_r(s.ssm_state_floats(), 0.0f), st_c(s.ssm_state_floats(), 0.0f);
        const auto out_r = run(b, st_r, false);
        const auto out_c = run(b, st_c, true, chunk);
        EXPECT_LT(rel_err(out_c, out_r), 1e-5) << "T=" << T << " chunk=" << chunk << " g_lo=" << g_lo;
        EXPECT_LT(rel_err(st_c, st_r), 1e-5) << "T=" << T << " chunk=" << chunk << " g_lo=" << g_lo;
      }
    }
  }
}

TEST(DeltaNet, ChunkedContinuesFromNonzeroState) {
  // Chunk boundaries that do not line up with the split: 100 tokens then 77.
  const auto s = shape(1, 2, 32, 32);
  const auto whole = random_block(s, 177, 9, -0.2f);
  std::vector<float> st_w(s.ssm_state_floats(), 0.0f);
  const auto out_w = run(whole, st_w, false);
  Block a = whole, b = whole;
  const int C = s.conv_channels(), H = s.n_v_heads;
  a.T = 100;
  b.T = 77;
  b.qkv.assign(whole.qkv.begin() + 100 * C, whole.qkv.end());
  b.g.assign(whole.g.begin() + 100 * H, whole.g.end());
  b.beta.assign(whole.beta.begin() + 100 * H, whole.beta.end());
  std::vector<float> st(s.ssm_state_floats(), 0.0f);
  run(a, st, true);
  const auto out_b = run(b, st, true);
  std::vector<float> tail(out_w.begin() + 100 * s.value_dim(), out_w.end());
  EXPECT_LT(rel_err(out_b, tail), 1e-5);
  EXPECT_LT(rel_err(st, st_w), 1e-5);
}

TEST(DeltaNet, ConvMatchesNaiveAndCarriesWindow) {
  const int C = 10, K = 4, T = 9;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  std::vector<float> x(T * C), w(C * K);
  for (auto& v : x) v = nd(rng);
  for (auto& v : w) v = nd(rng);
  std::vector<float> win(size_t(K - 1) * C, 0.0f), out(T * C);
  dn::conv1d_silu(x.data(), T, C, w.data(), K, win.data(), out.data());
  for (int t = 0; t < T; ++t)
    for (int c = 0; c < C; ++c) {
      double acc = 0;
      for (int j = 0; j < K; ++j) {
        const int src = t - (K - 1) + j;  // tap K-1 is the current token
        if (src >= 0) acc += double(w[c * K + j]) * x[src * C + c];
      }
      const double ref = acc / (1 + std::exp(-acc));
      EXPECT_NEAR(out[t * C + c], ref, 1e-5) << t << "," << c;
    }
  // Window = last K-1 inputs.
  for (int r = 0; r < K - 1; ++r)
    for (int c = 0; c < C; ++c) EXPECT_EQ(win[r * C + c], x[(T - (K - 1) + r) * C + c]);
  // Split 2 + 7 (shorter than the window, then longer) equals the whole, in place (out == x).
  std::vector<float> win2(size_t(K - 1) * C, 0.0f), y = x;
  dn::conv1d_silu(y.data(), 2, C, w.data(), K, win2.data(), y.data());
  dn::conv1d_silu(y.data() + 2 * C, T - 2, C, w.data(), K, win2.data(), y.data() + 2 * C);
  for (int i = 0; i < T * C; ++i) EXPECT_FLOAT_EQ(y[i], out[i]);
  EXPECT_EQ(win2, win);
}

TEST(DeltaNet, GatesAndNorms) {
  // ssm_a is stored negative (-exp(A_log)), so g <= 0 and the decay exp(g) is in (0, 1].
  const float alpha[3] = {-3.0f, 0.5f, 30.0f}, b[3] = {0.0f, 2.0f, -2.0f};
  const float a[3] = {-0.5f, -2.0f, -1.0f}, dt[3] = {0.1f, -0.2f, 0.0f};
  float g[3], beta[3];
  dn::gates(alpha, b, a, dt, 3, g, beta);
  EXPECT_NEAR(g[0], -0.5 * std::log1p(std::exp(-2.9)), 1e-6);
  EXPECT_NEAR(g[1], -2.0 * std::log1p(std::exp(0.3)), 1e-6);
  EXPECT_FLOAT_EQ(g[2], -30.0f);  // softplus is the identity above 20
  EXPECT_FLOAT_EQ(beta[0], 0.5f);
  EXPECT_NEAR(beta[1], 1 / (1 + std::exp(-2.0)), 1e-7);

  float x[4] = {3, 0, 4, 0};
  dn::l2_normalize(x, 4, 1e-6f);
  EXPECT_NEAR(x[0], 3 / std::sqrt(25 + 1e-6), 1e-7);
  EXPECT_NEAR(x[2], 4 / std::sqrt(25 + 1e-6), 1e-7);
  float zero[4] = {0, 0, 0, 0};  // eps inside the sqrt keeps a zero vector finite
  dn::l2_normalize(zero, 4, 1e-6f);
  EXPECT_EQ(zero[0], 0.0f);

  float o[4] = {1, -2, 3, -4};
  const float z[4] = {0.5f, -1, 2, 0}, w[4] = {1, 2, 0.5f, 3};
  dn::gated_rms_norm(o, z, w, 4, 1e-6f);
  const double rms = std::sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6);
  const double src[4] = {1, -2, 3, -4};
  for (int j = 0; j < 4; ++j) {
    const double silu = z[j] / (1 + std::exp(-double(z[j])));
    EXPECT_NEAR(o[j], src[j] / rms * w[j] * silu, 1e-6);
  }
}

// Full layer core: prefix, save, a different continuation, restore, the real continuation.
TEST(DeltaNet, MixStateSaveRestoreEqualsWholeSequence) {
  const auto s = shape(2, 4, 16, 16);
  const int C = s.conv_channels(), H = s.n_v_heads, Vd = s.value_dim();
  const int64_t T = 150, P = 90;
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  auto randv = [&](size_t n, float sc) {
    std::vector<float> v(n);
    for (auto& x : v) x = sc * nd(rng);
    return v;
  };
  const auto mixed = randv(size_t(T) * C, 1.0f), z = randv(size_t(T) * Vd, 1.0f);
  const auto alpha = randv(size_t(T) * H, 1.0f), bb = randv(size_t(T) * H, 1.0f);
  const auto conv = randv(size_t(C) * s.conv_kernel, 0.5f), norm = randv(s.d_v, 1.0f);
  std::vector<float> ssm_a(H), dt = randv(H, 0.5f);
  for (int h = 0; h < H; ++h) ssm_a[h] = -std::exp(0.3f * nd(rng));
  dn::LayerWeights w{conv.data(), ssm_a.data(), dt.data(), norm.data()};

  for (auto form : {dn::RuleForm::kRecurrent, dn::RuleForm::kChunked}) {
    dn::LayerState whole;
    whole.reset(s);
    auto m = mixed;
    std::vector<float> y_whole(size_t(T) * Vd);
    dn::mix(s, w, 1e-6f, m.data(), z.data(), alpha.data(), bb.data(), T, whole, y_whole.data(),
            form);

    dn::LayerState st;
    st.reset(s);
    auto m2 = mixed;
    std::vector<float> y(size_t(T) * Vd);
    dn::mix(s, w, 1e-6f, m2.data(), z.data(), alpha.data(), bb.data(), P, st, y.data(), form);
    const dn::LayerState saved = st;
    // Detour: feed other tokens, which changes the state.
    auto junk = randv(size_t(20) * C, 1.0f);
    std::vector<float> yj(size_t(20) * Vd);
    dn::mix(s, w, 1e-6f, junk.data(), z.data(), alpha.data(), bb.data(), 20, st, yj.data(), form);
    EXPECT_NE(st.ssm, saved.ssm);
    st = saved;
    dn::mix(s, w, 1e-6f, m2.data() + P * C, z.data() + P * Vd, alpha.data() + P * H,
            bb.data() + P * H, T - P, st, y.data() + P * Vd, form);
    EXPECT_LT(rel_err(y, y_whole), 1e-5);
    EXPECT_LT(rel_err(st.ssm, whole.ssm), 1e-5);
    EXPECT_EQ(st.conv, whole.conv);
  }
}

TEST(DeltaNet, MixParallelHeadsMatchesSerial) {
  const auto s = shape(2, 4, 16, 8);
  const int C = s.conv_channels(), H = s.n_v_heads, Vd = s.value_dim();
  const int64_t T = 70;
  std::mt19937 rng(11);
  std::normal_distribution<float> nd;
  std::vector<float> mixed(T * C), z(T * Vd), alpha(T * H), bb(T * H), conv(C * 4), norm(s.d_v),
      a(H), dt(H);
  for (auto* v : {&mixed, &z, &alpha, &bb, &conv, &norm, &dt})
    for (auto& x : *v) x = nd(rng);
  for (auto& x : a) x = -1.0f;
  dn::LayerWeights w{conv.data(), a.data(), dt.data(), norm.data()};
  dn::LayerState s1, s2;
  s1.reset(s);
  s2.reset(s);
  auto m1 = mixed, m2 = mixed;
  std::vector<float> y1(T * Vd), y2(T * Vd);
  dn::mix(s, w, 1e-6f, m1.data(), z.data(), alpha.data(), bb.data(), T, s1, y1.data());
  int calls = 0;
  dn::ParallelFor par = [&](int n, const std::function<void(int, int)>& fn) {
    for (int i = 0; i < n; ++i, ++calls) fn(i, i + 1);  // one head per "thread"
  };
  dn::mix(s, w, 1e-6f, m2.data(), z.data(), alpha.data(), bb.data(), T, s2, y2.data(),
          dn::RuleForm::kAuto, par);
  EXPECT_EQ(calls, H);
  EXPECT_EQ(y1, y2);
  EXPECT_EQ(s1.ssm, s2.ssm);
}

}  // namespace
