// Gated DeltaNet (Qwen3.5 linear attention) kernels over plain float buffers.
//
// Everything here is the per-token math that follows the input projections of a DeltaNet
// layer: short causal conv + SiLU with a carried window, L2-normalised q/k, decay and beta
// gates, the gated delta rule (recurrent and chunked forms, identical up to rounding) and the
// gated RMSNorm. Heads are independent, so the delta-rule entry points take a head range and a
// caller may split heads across threads.
//
// Layouts (all row-major, token-major, fp32):
//   mixed / conv output  [T][C]      C = 2*H_k*d_k + H_v*d_v, per row [q | k | v]
//   conv weight          [C][K]      GGUF ssm_conv1d {K, C}; tap K-1 multiplies the current token
//   conv window          [K-1][C]    the last K-1 pre-conv rows, oldest first
//   g, beta              [T][H_v]
//   delta-rule state     [H_v][d_v][d_k]  i.e. per head the TRANSPOSE of S (row j = S[:, j]),
//                                         so every update is a contiguous dot/axpy over d_k
//   output               [T][H_v*d_v]
// V head h reads Q/K head h % H_k: GGUF stores V heads tiled (model-spec §4.9.5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace gavel::model::delta_net {

struct Shape {
  int n_k_heads = 0;    // H_k  (qwen35.ssm.group_count)
  int n_v_heads = 0;    // H_v  (qwen35.ssm.time_step_rank)
  int d_k = 0;          // key head dim (qwen35.ssm.state_size)
  int d_v = 0;          // value head dim (ssm.inner_size / H_v)
  int conv_kernel = 0;  // K (qwen35.ssm.conv_kernel)

  int key_dim() const { return n_k_heads * d_k; }
  int value_dim() const { return n_v_heads * d_v; }
  int conv_channels() const { return 2 * key_dim() + value_dim(); }
  int k_head_of(int v_head) const { return v_head % n_k_heads; }
  size_t conv_state_floats() const { return size_t(conv_kernel - 1) * conv_channels(); }
  size_t ssm_state_floats() const { return size_t(n_v_heads) * d_v * d_k; }
  bool valid() const;  // positive dims, H_v a multiple of H_k, kernel >= 1
};

// Recurrent state of one DeltaNet layer for one sequence; zero at sequence start. Copying it
// is the save/restore.
struct LayerState {
  std::vector<float> conv;  // [K-1][C]
  std::vector<float> ssm;   // [H_v][d_v][d_k]
  void reset(const Shape& s);
};

// Runs fn(begin, end) over [0, n), possibly split across threads. The default runs it once.
using ParallelFor = std::function<void(int n, const std::function<void(int, int)>& fn)>;

// out[t][c] = silu(sum_j w[c][j] * x'[t-K+1+j][c]) where x' is the window followed by x;
// afterwards the window holds the last K-1 rows of x'. out may alias x.
void conv1d_silu(const float* x, int64_t n_tokens, int channels, const float* weight, int kernel,
                 float* window, float* out);

// x /= sqrt(sum(x^2) + eps): llama.cpp's build_gdn_l2_norm and HF/FLA l2norm.
void l2_normalize(float* x, int n, float eps);

// Per V head: g = ssm_a * softplus(alpha + dt_bias) (ssm_a = -exp(A_log) as stored in GGUF),
// beta = sigmoid(b).
void gates(const float* alpha, const float* b, const float* ssm_a, const float* dt_bias,
           int n_v_heads, float* g, float* beta);

// One token block of inputs for the delta rule. Row t of q/k/v/g/beta starts at ptr + t*stride.
struct RuleInputs {
  const float* q = nullptr;  // L2-normalised, NOT yet scaled by 1/sqrt(d_k)
  const float* k = nullptr;  // L2-normalised
  const float* v = nullptr;
  const float* g = nullptr;     // log decay, <= 0
  const float* beta = nullptr;  // in (0, 1)
  int64_t n_tokens = 0;
  int64_t qkv_stride = 0;  // floats between tokens of q, k and v (C for the conv output)
  int64_t gate_stride = 0;  // floats between tokens of g and beta (H_v)
};

// Token-by-token gated delta rule for V heads [h0, h1): per token and head,
//   S <- exp(g) S;  d = beta (v - S^T k);  S <- S + k d^T;  o = S^T q / sqrt(d_k).
// state: [H_v][d_v][d_k] (see above), updated in place; out row t starts at out + t*out_stride.
void delta_rule_recurrent(const Shape& s, const RuleInputs& in, float* state, float* out,
                          int64_t out_stride, int h0, int h1);

// The same recurrence evaluated chunk-parallel (WY form, chunk tokens at a time): within a chunk
// the corrections solve a unit-lower-triangular system, the state is touched once per chunk.
void delta_rule_chunked(const Shape& s, const RuleInputs& in, float* state, float* out,
                        int64_t out_stride, int h0, int h1, int chunk = 64);

// o <- (w * o / rms(o)) * silu(z) over one head of d values; rms uses eps inside the sqrt.
void gated_rms_norm(float* o, const float* z, const float* w, int d, float eps);

// The weights the core needs (already dequantised to f32).
struct LayerWeights {
  const float* conv = nullptr;     // [C][K]
  const float* ssm_a = nullptr;    // [H_v]
  const float* dt_bias = nullptr;  // [H_v]
  const float* norm = nullptr;     // [d_v]
};

enum class RuleForm { kRecurrent, kChunked, kAuto };

// Everything between the input projections and ssm_out for n_tokens tokens of one sequence:
// mixed [T][C] (pre-conv; overwritten), z [T][H_v*d_v], alpha and b [T][H_v] (raw
// projections); writes y [T][H_v*d_v] ready for ssm_out. kAuto picks the chunked form for
// long blocks.
void mix(const Shape& s, const LayerWeights& w, float eps, float* mixed, const float* z,
         const float* alpha, const float* b, int64_t n_tokens, LayerState& state, float* y,
         RuleForm form = RuleForm::kAuto, const ParallelFor& par = {});

}  // namespace gavel::model::delta_net
