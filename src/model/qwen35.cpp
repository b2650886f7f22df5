// Arch `qwen35`: model-spec §4. Per layer (pre-norm, norms already hold 1+w in GGUF):
//   x += mixer(rms_norm(x, attn_norm));  x += mlp(rms_norm(x, post_attention_norm))
// where the mixer is a Gated DeltaNet (delta_net.h) or gated full attention:
//   attn_q packs [query | gate] per head; q/k per-head RMSNorm; partial NeoX (IMROPE for text)
//   RoPE on the first n_rot dims; GQA over an f16 KV cache; out = attn * sigmoid(gate) -> wo.
// The sequence state is the KV cache of the attention layers plus, per DeltaNet layer, the
// conv window and the fp32 delta-rule state; clone() copies all of it (prefix reuse).
#include "model/qwen35.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "gguf/fp16.h"
#include "gguf/quants.h"
#include "model/attention.h"
#include "model/debug_dump.h"
#include "model/delta_net.h"
#include "model/kv_state.h"
#include "model/weights.h"
#include "tensor/exact_order.h"
#include "tensor/matmul.h"
#include "tensor/ops.h"
#include "tensor/quants.h"

namespace gavel::model {

namespace dn = delta_net;

std::string Qwen35Layout::pattern() const {
  std::string s;
  for (int i = 0; i < n_layer; ++i) {
    if (i && i % 4 == 0) s += ' ';
    s += recurrent[size_t(i)] ? 'L' : 'A';
  }
  return s;
}

Result<Qwen35Layout> qwen35_layout(const gguf::File& f) {
  GAVEL_ASSIGN(const std::string arch, f.get_string("general.architecture"));
  const std::string p = arch + ".";
  Qwen35Layout o;
  GAVEL_ASSIGN(const int64_t blocks, f.get_int(p + "block_count"));
  int64_t nextn = 0;
  if (f.has(p + "nextn_predict_layers")) {
    GAVEL_ASSIGN(nextn, f.get_int(p + "nextn_predict_layers"));
  }
  if (blocks <= 0 || blocks > 4096 || nextn < 0 || nextn >= blocks)
    return Error{fmt::format("{}: {}block_count {} / nextn_predict_layers {} out of range",
                             f.path(), p, blocks, nextn)};
  o.n_layer = int(blocks - nextn);
  o.n_nextn = int(nextn);
  if (f.has(p + "attention.recurrent_layers")) {
    GAVEL_ASSIGN(const std::vector<int64_t> flags,
                 f.get_int_array(p + "attention.recurrent_layers"));
    if (int64_t(flags.size()) < o.n_layer)
      return Error{fmt::format("{}: {}attention.recurrent_layers has {} entries, need {}", f.path(),
                               p, flags.size(), o.n_layer)};
    for (int i = 0; i < o.n_layer; ++i) o.recurrent.push_back(flags[size_t(i)] != 0);
  } else {
    int64_t interval = 4;
    if (f.has(p + "full_attention_interval")) {
      GAVEL_ASSIGN(interval, f.get_int(p + "full_attention_interval"));
    }
    if (interval <= 0 || interval > 4096)
      return Error{
          fmt::format("{}: {}full_attention_interval {} out of range", f.path(), p, interval)};
    for (int i = 0; i < o.n_layer; ++i) o.recurrent.push_back((i + 1) % interval != 0);
  }
  auto get = [&](const char* key, int& out) -> Status {
    GAVEL_ASSIGN(const int64_t v, f.get_int(p + key));
    if (v <= 0 || v > (int64_t(1) << 24))
      return Error{fmt::format("{}: {}{} = {} is out of range", f.path(), p, key, v)};
    out = int(v);
    return Status::Ok();
  };
  GAVEL_TRY(get("ssm.conv_kernel", o.conv_kernel));
  GAVEL_TRY(get("ssm.state_size", o.d_state));
  GAVEL_TRY(get("ssm.group_count", o.n_group));
  GAVEL_TRY(get("ssm.time_step_rank", o.dt_rank));
  GAVEL_TRY(get("ssm.inner_size", o.d_inner));
  if (o.dt_rank % o.n_group != 0 || o.d_inner % o.dt_rank != 0)
    return Error{
        fmt::format("{}: ssm.time_step_rank {} must be a multiple of ssm.group_count {} "
                    "and divide ssm.inner_size {}",
                    f.path(), o.dt_rank, o.n_group, o.d_inner)};
  if (f.has(p + "rope.dimension_sections")) {
    GAVEL_ASSIGN(const std::vector<int64_t> sec, f.get_int_array(p + "rope.dimension_sections"));
    for (int64_t v : sec) {
      if (v < 0 || v > 4096)
        return Error{
            fmt::format("{}: {}rope.dimension_sections value {} out of range", f.path(), p, v)};
      o.rope_sections.push_back(int(v));
    }
    o.rope_sections.resize(4, 0);
  }
  return o;
}

namespace {

class Qwen35State : public SequenceState {
 public:
  Qwen35State(int n_attn, int n_ctx, int kv_dim, const dn::Shape& s, int n_dn)
      : kv_(std::make_unique<KvState>(n_attn, n_ctx, kv_dim)), dn_(size_t(n_dn)) {
    n_ctx_ = n_ctx;
    for (auto& d : dn_) d.reset(s);
  }
  std::unique_ptr<SequenceState> clone() const override {
    auto c = std::unique_ptr<Qwen35State>(new Qwen35State());
    c->n_past_ = n_past_;
    c->n_ctx_ = n_ctx_;
    c->kv_.reset(static_cast<KvState*>(kv_->clone().release()));
    c->dn_ = dn_;
    return c;
  }
  // The recurrent state holds no history, so only a no-op truncation succeeds.
  bool truncate(int n) override { return n == n_past_; }

  KvState& kv() { return *kv_; }
  dn::LayerState& dn(int i) { return dn_[size_t(i)]; }
  void advance(int n) {
    n_past_ += n;
    kv_->advance(n);
  }

 private:
  Qwen35State() = default;
  std::unique_ptr<KvState> kv_;
  std::vector<dn::LayerState> dn_;
};

class Qwen35 : public Model {
 public:
  explicit Qwen35(tensor::ThreadPool& pool) : pool_(pool) {}
  Status load(const gguf::File& f);
  const HParams& hparams() const override { return hp_; }
  bool can_rewind() const override { return false; }
  std::unique_ptr<SequenceState> new_state(int n_ctx) const override {
    return std::make_unique<Qwen35State>(n_attn_, n_ctx, hp_.n_head_kv * hp_.head_dim, shape_,
                                         n_dn_);
  }
  Status forward(SequenceState& state, std::span<const int32_t> tokens,
                 std::span<const int> logit_rows, float* logits) override;

 private:
  struct Layer {
    bool recurrent = false;
    int index = 0;  // among layers of its kind (KV layer or DeltaNet state slot)
    std::vector<float> attn_norm, post_norm;
    // full attention
    tensor::Matrix wq, wk, wv, wo;
    std::vector<float> q_norm, k_norm;
    // Gated DeltaNet
    tensor::Matrix wqkv, wz, wbeta, walpha, wout;
    std::vector<float> conv, ssm_a, dt_bias, ssm_norm;
    // MLP
    tensor::Matrix w_gate, w_up, w_down;
  };
  Status forward_chunk(Qwen35State& st, std::span<const int32_t> tokens,
                       std::span<const int> logit_rows, float* logits);
  void mm(const tensor::Matrix& w, const float* in, int ld, int n, float* out, int ldo,
          tensor::PackedInput& pk, bool& fresh);
  void attention_layer(Qwen35State& st, const Layer& L, int n, int n_past);
  void delta_net_layer(Qwen35State& st, const Layer& L, int n);

  tensor::ThreadPool& pool_;
  HParams hp_;
  Qwen35Layout layout_;
  dn::Shape shape_;
  int n_attn_ = 0, n_dn_ = 0;
  std::vector<bool> rope_zero_;  // frequency i takes IMROPE's 4th position (0 for text)
  tensor::Matrix tok_embd_, output_;
  std::vector<float> output_norm_;
  std::vector<Layer> layers_;
  // Scratch, sized for the largest chunk seen.
  std::vector<float> x_, cur_, qg_, q_, k_, v_, gate_, att_, up_, ffg_, cos_, sin_;
  std::vector<float> mixed_, z_, beta_, alpha_, y_;
  std::vector<uint16_t> q16_;
  tensor::PackedInput packed_, packed2_;
};

Status Qwen35::load(const gguf::File& f) {
  GAVEL_ASSIGN(hp_, read_hparams(f));
  GAVEL_ASSIGN(layout_, qwen35_layout(f));
  hp_.n_layer = layout_.n_layer;  // MTP / nextn blocks are stored but never run
  const HParams& h = hp_;
  shape_.n_k_heads = layout_.n_group;
  shape_.n_v_heads = layout_.dt_rank;
  shape_.d_k = layout_.d_state;
  shape_.d_v = layout_.d_inner / layout_.dt_rank;
  shape_.conv_kernel = layout_.conv_kernel;
  if (!shape_.valid())
    return Error{fmt::format("{}: invalid Gated DeltaNet shape (ssm.* keys)", f.path())};
  if (!layout_.rope_sections.empty()) {
    const auto& s = layout_.rope_sections;
    const int sect_dims = s[0] + s[1] + s[2] + s[3];
    if (sect_dims > 0) {
      for (int i = 0; i < h.n_rot / 2; ++i) {
        const int sector = i % sect_dims;
        const bool thw = (sector % 3 == 1 && sector < 3 * s[1]) ||
                         (sector % 3 == 2 && sector < 3 * s[2]) ||
                         (sector % 3 == 0 && sector < 3 * s[0]);
        rope_zero_.push_back(!thw);
      }
    }
  }
  const int q_dim = h.n_head * h.head_dim, kv_dim = h.n_head_kv * h.head_dim;
  const int C = shape_.conv_channels(), Vd = shape_.value_dim(), Hv = shape_.n_v_heads;
  GAVEL_ASSIGN(tok_embd_, matrix(f, "token_embd.weight", h.n_embd, h.n_vocab));
  if (f.tensor("output.weight")) {
    GAVEL_ASSIGN(output_, matrix(f, "output.weight", h.n_embd, h.n_vocab));
  } else {
    output_ = tok_embd_;  // tied (Qwen3.5-4B and smaller)
  }
  GAVEL_ASSIGN(output_norm_, vector_f32(f, "output_norm.weight", h.n_embd));
  layers_.resize(size_t(h.n_layer));
  for (int i = 0; i < h.n_layer; ++i) {
    Layer& L = layers_[size_t(i)];
    const std::string p = fmt::format("blk.{}.", i);
    L.recurrent = layout_.recurrent[size_t(i)];
    L.index = L.recurrent ? n_dn_++ : n_attn_++;
    GAVEL_ASSIGN(L.attn_norm, vector_f32(f, p + "attn_norm.weight", h.n_embd));
    GAVEL_ASSIGN(L.post_norm, vector_f32(f, p + "post_attention_norm.weight", h.n_embd));
    if (L.recurrent) {
      GAVEL_ASSIGN(L.wqkv, matrix(f, p + "attn_qkv.weight", h.n_embd, C));
      GAVEL_ASSIGN(L.wz, matrix(f, p + "attn_gate.weight", h.n_embd, Vd));
      GAVEL_ASSIGN(L.wbeta, matrix(f, p + "ssm_beta.weight", h.n_embd, Hv));
      GAVEL_ASSIGN(L.walpha, matrix(f, p + "ssm_alpha.weight", h.n_embd, Hv));
      GAVEL_ASSIGN(L.wout, matrix(f, p + "ssm_out.weight", Vd, h.n_embd));
      GAVEL_ASSIGN(L.conv, vector_f32(f, p + "ssm_conv1d.weight", int64_t(C) * shape_.conv_kernel));
      const gguf::TensorInfo* cw = f.tensor(p + "ssm_conv1d.weight");
      if (cw->ne.size() != 2 || cw->ne[0] != shape_.conv_kernel)
        return Error{fmt::format("{}: tensor '{}ssm_conv1d.weight' must be {{{}, {}}}", f.path(), p,
                                 shape_.conv_kernel, C)};
      GAVEL_ASSIGN(L.ssm_a, vector_f32(f, p + "ssm_a", Hv));
      GAVEL_ASSIGN(L.dt_bias, vector_f32(f, p + "ssm_dt.bias", Hv));
      GAVEL_ASSIGN(L.ssm_norm, vector_f32(f, p + "ssm_norm.weight", shape_.d_v));
    } else {
      GAVEL_ASSIGN(L.wq, matrix(f, p + "attn_q.weight", h.n_embd, 2 * q_dim));
      GAVEL_ASSIGN(L.wk, matrix(f, p + "attn_k.weight", h.n_embd, kv_dim));
      GAVEL_ASSIGN(L.wv, matrix(f, p + "attn_v.weight", h.n_embd, kv_dim));
      GAVEL_ASSIGN(L.wo, matrix(f, p + "attn_output.weight", q_dim, h.n_embd));
      GAVEL_ASSIGN(L.q_norm, vector_f32(f, p + "attn_q_norm.weight", h.head_dim));
      GAVEL_ASSIGN(L.k_norm, vector_f32(f, p + "attn_k_norm.weight", h.head_dim));
    }
    GAVEL_ASSIGN(L.w_gate, matrix(f, p + "ffn_gate.weight", h.n_embd, h.n_ff));
    GAVEL_ASSIGN(L.w_up, matrix(f, p + "ffn_up.weight", h.n_embd, h.n_ff));
    GAVEL_ASSIGN(L.w_down, matrix(f, p + "ffn_down.weight", h.n_ff, h.n_embd));
  }
  return Status::Ok();
}

Status Qwen35::forward(SequenceState& state, std::span<const int32_t> tokens,
                       std::span<const int> logit_rows, float* logits) {
  auto* st = dynamic_cast<Qwen35State*>(&state);
  if (!st) return Error{"forward: sequence state belongs to another architecture"};
  const int n = int(tokens.size());
  if (st->n_past() + int64_t(n) > st->n_ctx())
    return Error{fmt::format("{} tokens (with {} already in the sequence) exceed the context of {}",
                             n, st->n_past(), st->n_ctx())};
  GAVEL_TRY(check_tokens(tokens, hp_.n_vocab));
  for (size_t i = 0; i < logit_rows.size(); ++i)
    if (logit_rows[i] < 0 || logit_rows[i] >= n || (i && logit_rows[i] <= logit_rows[i - 1]))
      return Error{fmt::format("logit row {} invalid for a batch of {} tokens", logit_rows[i], n)};
  size_t next_row = 0;
  for (int c0 = 0; c0 < n; c0 += kForwardChunk) {
    const int c1 = std::min(n, c0 + kForwardChunk);
    std::vector<int> rows;
    const size_t first_row = next_row;
    while (next_row < logit_rows.size() && logit_rows[next_row] < c1)
      rows.push_back(logit_rows[next_row++] - c0);
    GAVEL_TRY(forward_chunk(*st, tokens.subspan(size_t(c0), size_t(c1 - c0)), rows,
                            logits + first_row * size_t(hp_.n_vocab)));
  }
  return Status::Ok();
}

// W times the rows of `in`, reusing `pk` while it still holds `in` in W's activation format.
void Qwen35::mm(const tensor::Matrix& w, const float* in, int ld, int n, float* out, int ldo,
                tensor::PackedInput& pk, bool& fresh) {
  const tensor::ActType act = tensor::traits(w.type).act;
  if (!fresh || pk.act != act) tensor::pack_input(pool_, act, in, ld, n, w.cols, pk);
  fresh = true;
  tensor::matmul_packed(pool_, w, pk, out, ldo);
}

Status Qwen35::forward_chunk(Qwen35State& st, std::span<const int32_t> tokens,
                             std::span<const int> logit_rows, float* logits) {
  const HParams& h = hp_;
  const int n = int(tokens.size()), n_past = st.n_past(), E = h.n_embd;
  if (n_attn_ > 0) st.kv().reserve(n_past + n);
  x_.resize(size_t(n) * E);
  cur_.resize(size_t(n) * E);
  ffg_.resize(size_t(n) * h.n_ff);
  up_.resize(size_t(n) * h.n_ff);
  for (int t = 0; t < n; ++t) {
    const uint8_t* row = tok_embd_.data + size_t(tokens[size_t(t)]) * tok_embd_.row_bytes;
    GAVEL_TRY(gguf::dequantize_row(tok_embd_.type, row, &x_[size_t(t) * E], E));
  }
  int il = 0;
  auto dumpt = [&](const char* name, const float* d, int cols) {
    if (dump_dir()) dump_tensor(fmt::format("{}-{}", name, il), d, n, cols, cols);
  };
  for (const Layer& L : layers_) {
    for (int t = 0; t < n; ++t)
      tensor::rms_norm(&x_[size_t(t) * E], L.attn_norm.data(), &cur_[size_t(t) * E], E, h.rms_eps);
    dumpt("attn_norm", cur_.data(), E);
    dump_layer_index() = il;
    if (L.recurrent) {
      delta_net_layer(st, L, n);
      dumpt("linear_attn_out", cur_.data(), E);
    } else {
      attention_layer(st, L, n, n_past);
      dumpt("attn_output", cur_.data(), E);
    }
    tensor::add(x_.data(), cur_.data(), int64_t(n) * E);  // mixers leave their output in cur_
    dumpt("attn_residual", x_.data(), E);

    for (int t = 0; t < n; ++t)
      tensor::rms_norm(&x_[size_t(t) * E], L.post_norm.data(), &cur_[size_t(t) * E], E, h.rms_eps);
    dumpt("attn_post_norm", cur_.data(), E);
    bool fresh = false;
    mm(L.w_gate, cur_.data(), E, n, ffg_.data(), h.n_ff, packed_, fresh);
    mm(L.w_up, cur_.data(), E, n, up_.data(), h.n_ff, packed_, fresh);
    pool_.parallel_for(n, [&](int t) {
      tensor::swiglu_ordered(&ffg_[size_t(t) * h.n_ff], &up_[size_t(t) * h.n_ff], h.n_ff);
    });
    fresh = false;
    mm(L.w_down, ffg_.data(), h.n_ff, n, cur_.data(), E, packed2_, fresh);
    dumpt("ffn_out", cur_.data(), E);
    tensor::add(x_.data(), cur_.data(), int64_t(n) * E);
    dumpt("l_out", x_.data(), E);
    ++il;
  }
  st.advance(n);

  if (logit_rows.empty()) return Status::Ok();
  const int m = int(logit_rows.size());
  std::vector<float> hsel(size_t(m) * E);
  for (int i = 0; i < m; ++i)
    tensor::rms_norm(&x_[size_t(logit_rows[size_t(i)]) * E], output_norm_.data(),
                     &hsel[size_t(i) * E], E, h.rms_eps);
  tensor::pack_input(pool_, tensor::traits(output_.type).act, hsel.data(), E, m, E, packed_);
  tensor::matmul_packed(pool_, output_, packed_, logits, h.n_vocab);
  return Status::Ok();
}

void Qwen35::delta_net_layer(Qwen35State& st, const Layer& L, int n) {
  const int E = hp_.n_embd, C = shape_.conv_channels(), Vd = shape_.value_dim();
  const int Hv = shape_.n_v_heads;
  mixed_.resize(size_t(n) * C);
  z_.resize(size_t(n) * Vd);
  beta_.resize(size_t(n) * Hv);
  alpha_.resize(size_t(n) * Hv);
  y_.resize(size_t(n) * Vd);
  bool fresh = false;
  mm(L.wqkv, cur_.data(), E, n, mixed_.data(), C, packed_, fresh);
  mm(L.wz, cur_.data(), E, n, z_.data(), Vd, packed_, fresh);
  mm(L.wbeta, cur_.data(), E, n, beta_.data(), Hv, packed_, fresh);
  mm(L.walpha, cur_.data(), E, n, alpha_.data(), Hv, packed_, fresh);
  if (dump_dir()) {
    dump_tensor(fmt::format("linear_attn_qkv_mixed-{}", dump_layer_index()), mixed_.data(), n, C,
                C);
    dump_tensor(fmt::format("z-{}", dump_layer_index()), z_.data(), n, Vd, Vd);
  }
  const dn::LayerWeights w{L.conv.data(), L.ssm_a.data(), L.dt_bias.data(), L.ssm_norm.data()};
  const dn::ParallelFor par = [this](int tasks, const std::function<void(int, int)>& fn) {
    pool_.parallel_for(tasks, [&](int i) { fn(i, i + 1); });
  };
  dn::mix(shape_, w, hp_.rms_eps, mixed_.data(), z_.data(), alpha_.data(), beta_.data(), n,
          st.dn(L.index), y_.data(), dn::RuleForm::kAuto, par);
  if (dump_dir())
    dump_tensor(fmt::format("final_output-{}", dump_layer_index()), y_.data(), n, Vd, Vd);
  fresh = false;
  mm(L.wout, y_.data(), Vd, n, cur_.data(), E, packed2_, fresh);
}

void Qwen35::attention_layer(Qwen35State& st, const Layer& L, int n, int n_past) {
  const HParams& h = hp_;
  const int E = h.n_embd, hd = h.head_dim, q_dim = h.n_head * hd, kv_dim = h.n_head_kv * hd;
  const int half = h.n_rot / 2;
  qg_.resize(size_t(n) * 2 * q_dim);
  q_.resize(size_t(n) * q_dim);
  gate_.resize(size_t(n) * q_dim);
  k_.resize(size_t(n) * kv_dim);
  v_.resize(size_t(n) * kv_dim);
  att_.resize(size_t(n) * q_dim);
  cos_.resize(size_t(n) * half);
  sin_.resize(size_t(n) * half);
  bool fresh = false;
  mm(L.wq, cur_.data(), E, n, qg_.data(), 2 * q_dim, packed_, fresh);
  mm(L.wk, cur_.data(), E, n, k_.data(), kv_dim, packed_, fresh);
  mm(L.wv, cur_.data(), E, n, v_.data(), kv_dim, packed_, fresh);
  KvState& kv = st.kv();
  for (int t = 0; t < n; ++t) {
    float* c = &cos_[size_t(t) * half];
    float* s = &sin_[size_t(t) * half];
    tensor::rope_angles(n_past + t, h.n_rot, h.rope_base, nullptr, c, s);
    for (size_t i = 0; i < rope_zero_.size() && int(i) < half; ++i)
      if (rope_zero_[i]) c[i] = 1.0f, s[i] = 0.0f;
    for (int hh = 0; hh < h.n_head; ++hh) {
      // Per head: hd query values, then hd gate values.
      const float* src = &qg_[size_t(t) * 2 * q_dim + size_t(hh) * 2 * hd];
      float* q = &q_[size_t(t) * q_dim + size_t(hh) * hd];
      tensor::rms_norm(src, L.q_norm.data(), q, hd, h.rms_eps);
      tensor::rope_neox(q, h.n_rot, c, s);
      std::copy(src + hd, src + 2 * hd, &gate_[size_t(t) * q_dim + size_t(hh) * hd]);
    }
    for (int hh = 0; hh < h.n_head_kv; ++hh) {
      float* k = &k_[size_t(t) * kv_dim + size_t(hh) * hd];
      tensor::rms_norm(k, L.k_norm.data(), k, hd, h.rms_eps);
      tensor::rope_neox(k, h.n_rot, c, s);
    }
    uint16_t* kd = kv.k(L.index, n_past + t);
    uint16_t* vd = kv.v(L.index, n_past + t);
    for (int i = 0; i < kv_dim; ++i) {
      kd[i] = gguf::fp32_to_fp16(k_[size_t(t) * kv_dim + i]);
      vd[i] = gguf::fp32_to_fp16(v_[size_t(t) * kv_dim + i]);
    }
  }
  causal_attention(pool_, kv, L.index, {h.n_head, h.n_head_kv, h.head_dim}, q_.data(), n, n_past,
                   att_.data(), q16_);
  for (size_t i = 0; i < size_t(n) * q_dim; ++i) att_[i] *= 1.0f / (1.0f + std::exp(-gate_[i]));
  fresh = false;
  mm(L.wo, att_.data(), q_dim, n, cur_.data(), E, packed2_, fresh);
}

}  // namespace

Result<std::unique_ptr<Model>> load_qwen35(const gguf::File& f, tensor::ThreadPool& pool) {
  auto m = std::make_unique<Qwen35>(pool);
  GAVEL_TRY(m->load(f));
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace gavel::model
