#include "model/transformer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "gguf/fp16.h"
#include "gguf/quants.h"
#include "model/attention.h"
#include "model/debug_dump.h"
#include "model/weights.h"
#include "tensor/exact_order.h"
#include "tensor/ops.h"
#include "tensor/quants.h"

namespace gavel::model {

namespace {
// Tokens from which per-token work is worth handing to the pool (decoding steps stay inline).
constexpr int kMinParallelTokens = 16;
}  // namespace

Result<std::unique_ptr<Model>> DenseTransformer::load(const gguf::File& f, tensor::ThreadPool& pool,
                                                      const Variant& v) {
  std::unique_ptr<DenseTransformer> m(new DenseTransformer(pool));
  GAVEL_ASSIGN(m->hp_, read_hparams(f));
  m->var_ = v;
  const HParams& h = m->hp_;
  const int q_dim = h.n_head * h.head_dim, kv_dim = h.n_head_kv * h.head_dim;
  GAVEL_ASSIGN(m->tok_embd_, matrix(f, "token_embd.weight", h.n_embd, h.n_vocab));
  if (f.tensor("output.weight")) {
    GAVEL_ASSIGN(m->output_, matrix(f, "output.weight", h.n_embd, h.n_vocab));
  } else {
    m->output_ = m->tok_embd_;  // tied embeddings
  }
  GAVEL_ASSIGN(m->output_norm_, vector_f32(f, "output_norm.weight", h.n_embd));
  if (v.rope_freqs && f.tensor("rope_freqs.weight")) {
    GAVEL_ASSIGN(m->rope_freqs_, vector_f32(f, "rope_freqs.weight", h.n_rot / 2));
  }
  m->layers_.resize(size_t(h.n_layer));
  for (int i = 0; i < h.n_layer; ++i) {
    Layer& L = m->layers_[size_t(i)];
    const std::string p = fmt::format("blk.{}.", i);
    GAVEL_ASSIGN(L.attn_norm, vector_f32(f, p + "attn_norm.weight", h.n_embd));
    GAVEL_ASSIGN(L.ffn_norm, vector_f32(f, p + "ffn_norm.weight", h.n_embd));
    GAVEL_ASSIGN(L.wq, matrix(f, p + "attn_q.weight", h.n_embd, q_dim));
    GAVEL_ASSIGN(L.wk, matrix(f, p + "attn_k.weight", h.n_embd, kv_dim));
    GAVEL_ASSIGN(L.wv, matrix(f, p + "attn_v.weight", h.n_embd, kv_dim));
    GAVEL_ASSIGN(L.wo, matrix(f, p + "attn_output.weight", q_dim, h.n_embd));
    GAVEL_ASSIGN(L.w_gate, matrix(f, p + "ffn_gate.weight", h.n_embd, h.n_ff));
    GAVEL_ASSIGN(L.w_up, matrix(f, p + "ffn_up.weight", h.n_embd, h.n_ff));
    GAVEL_ASSIGN(L.w_down, matrix(f, p + "ffn_down.weight", h.n_ff, h.n_embd));
    if (v.qkv_bias) {
      GAVEL_ASSIGN(L.bq, vector_f32(f, p + "attn_q.bias", q_dim));
      GAVEL_ASSIGN(L.bk, vector_f32(f, p + "attn_k.bias", kv_dim));
      GAVEL_ASSIGN(L.bv, vector_f32(f, p + "attn_v.bias", kv_dim));
    }
    if (f.tensor(p + "attn_output.bias")) {
      GAVEL_ASSIGN(L.bo, vector_f32(f, p + "attn_output.bias", h.n_embd));
    }
    if (v.qk_norm) {
      GAVEL_ASSIGN(L.q_norm, vector_f32(f, p + "attn_q_norm.weight", h.head_dim));
      GAVEL_ASSIGN(L.k_norm, vector_f32(f, p + "attn_k_norm.weight", h.head_dim));
    }
  }
  return std::unique_ptr<Model>(std::move(m));
}

std::unique_ptr<SequenceState> DenseTransformer::new_state(int n_ctx) const {
  return std::make_unique<KvState>(hp_.n_layer, n_ctx, hp_.n_head_kv * hp_.head_dim);
}

Status DenseTransformer::forward(SequenceState& state, std::span<const int32_t> tokens,
                                 std::span<const int> logit_rows, float* logits) {
  auto* st = dynamic_cast<KvState*>(&state);
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
    GAVEL_TRY(forward_chunk(std::span(&st, 1), tokens.subspan(size_t(c0), size_t(c1 - c0)), rows,
                            logits + first_row * size_t(hp_.n_vocab)));
  }
  return Status::Ok();
}

Status DenseTransformer::forward_decode(std::span<SequenceState* const> states,
                                        std::span<const int32_t> tokens, float* logits) {
  std::vector<KvState*> sts;
  for (SequenceState* state : states) {
    auto* st = dynamic_cast<KvState*>(state);
    if (!st) return Error{"forward_decode: sequence state belongs to another architecture"};
    sts.push_back(st);
  }
  // Chunks of at most kForwardChunk sequences (scratch is sized by the chunk).
  for (size_t c0 = 0; c0 < sts.size(); c0 += size_t(kForwardChunk)) {
    const size_t c1 = std::min(sts.size(), c0 + size_t(kForwardChunk));
    std::vector<int> rows(c1 - c0);
    std::iota(rows.begin(), rows.end(), 0);
    GAVEL_TRY(forward_chunk(std::span(sts).subspan(c0, c1 - c0), tokens.subspan(c0, c1 - c0), rows,
                            logits + c0 * size_t(hp_.n_vocab)));
  }
  return Status::Ok();
}

Status DenseTransformer::forward_chunk(std::span<KvState* const> sts,
                                       std::span<const int32_t> tokens,
                                       std::span<const int> logit_rows, float* logits) {
  const HParams& h = hp_;
  const int n = int(tokens.size());
  // One sequence (a prompt chunk), or one token for each of n sequences (decoding), which must
  // give each the bits of decoding it alone: every matmul then picks its kernels as for one
  // token, and attention runs per sequence.
  const bool decode = sts.size() > 1;
  const tensor::KernelChoice choice =
      decode ? tensor::KernelChoice::kPerToken : tensor::KernelChoice::kBatch;
  auto state_of = [&](int t) -> KvState& { return *sts[decode ? size_t(t) : 0]; };
  auto pos_of = [&](int t) { return decode ? sts[size_t(t)]->n_past() : sts[0]->n_past() + t; };
  const int E = h.n_embd, hd = h.head_dim, q_dim = h.n_head * hd, kv_dim = h.n_head_kv * hd;
  const int half = h.n_rot / 2;
  if (decode)
    for (KvState* st : sts) st->reserve(st->n_past() + 1);
  else
    sts[0]->reserve(sts[0]->n_past() + n);
  x_.resize(size_t(n) * E);
  cur_.resize(size_t(n) * E);
  // Q, K, V and the attention output live only until the output projection, the FFN's gate
  // and up only after it: they share one buffer (peak RSS).
  const size_t attn_floats = size_t(n) * size_t(2 * q_dim + 2 * kv_dim);
  work_.resize(std::max(attn_floats, size_t(n) * size_t(2 * h.n_ff)));
  float* const q_ = work_.data();
  float* const k_ = q_ + size_t(n) * q_dim;
  float* const v_ = k_ + size_t(n) * kv_dim;
  float* const att_ = v_ + size_t(n) * kv_dim;
  float* const gate_ = work_.data();
  float* const up_ = gate_ + size_t(n) * h.n_ff;
  cos_.resize(size_t(n) * half);
  sin_.resize(size_t(n) * half);

  for (int t = 0; t < n; ++t) {
    const uint8_t* row = tok_embd_.data + size_t(tokens[size_t(t)]) * tok_embd_.row_bytes;
    GAVEL_TRY(gguf::dequantize_row(tok_embd_.type, row, &x_[size_t(t) * E], E));
    tensor::rope_angles(pos_of(t), h.n_rot, h.rope_base,
                        rope_freqs_.empty() ? nullptr : rope_freqs_.data(), &cos_[size_t(t) * half],
                        &sin_[size_t(t) * half]);
  }

  // Multiplies W by the rows of `in` (ld = row stride), reusing `pk` when it already holds
  // `in` in W's activation format.
  int rows = n;  // rows going through the rest of the layer (see the last layer below)
  auto mm = [&](const tensor::Matrix& w, const float* in, int ld, float* out, int ldo,
                tensor::PackedInput& pk, bool& fresh) {
    const tensor::ActType act = tensor::traits(w.type).act;
    if (!fresh || pk.act != act) tensor::pack_input(pool_, act, in, ld, rows, w.cols, pk);
    fresh = true;
    tensor::matmul_packed(pool_, w, pk, out, ldo, choice);
  };
  // Per-token work (norms, RoPE, the KV rows) split over the pool for prompt chunks: run on the
  // calling thread alone it left the other threads idle for a few percent of a prefill.
  auto per_token = [&](int count, const std::function<void(int)>& fn) {
    if (count >= kMinParallelTokens)
      pool_.parallel_for(count, fn);
    else
      for (int t = 0; t < count; ++t) fn(t);
  };
  auto add_bias = [&](float* y, const std::vector<float>& b, int dim) {
    if (b.empty()) return;
    for (int t = 0; t < n; ++t) tensor::add(y + size_t(t) * dim, b.data(), dim);
  };

  const bool dump = dump_dir() != nullptr;
  auto dumpt = [&](const char* name, int l, const float* d, int cols) {
    if (dump) dump_tensor(l < 0 ? name : fmt::format("{}-{}", name, l), d, rows, cols, cols);
  };
  for (int l = 0; l < h.n_layer; ++l) {
    const Layer& L = layers_[size_t(l)];
    per_token(n, [&](int t) {
      tensor::rms_norm(&x_[size_t(t) * E], L.attn_norm.data(), &cur_[size_t(t) * E], E, h.rms_eps);
    });
    dumpt("attn_norm", l, cur_.data(), E);
    bool fresh = false;
    mm(L.wq, cur_.data(), E, q_, q_dim, packed_, fresh);
    mm(L.wk, cur_.data(), E, k_, kv_dim, packed_, fresh);
    mm(L.wv, cur_.data(), E, v_, kv_dim, packed_, fresh);
    add_bias(q_, L.bq, q_dim);
    add_bias(k_, L.bk, kv_dim);
    add_bias(v_, L.bv, kv_dim);
    per_token(n, [&](int t) {
      const float* c = &cos_[size_t(t) * half];
      const float* s = &sin_[size_t(t) * half];
      for (int hh = 0; hh < h.n_head + h.n_head_kv; ++hh) {
        const bool is_q = hh < h.n_head;
        float* x = is_q ? &q_[size_t(t) * q_dim + size_t(hh) * hd]
                        : &k_[size_t(t) * kv_dim + size_t(hh - h.n_head) * hd];
        if (var_.qk_norm)
          tensor::rms_norm(x, (is_q ? L.q_norm : L.k_norm).data(), x, hd, h.rms_eps);
        if (var_.rope == RopeLayout::kNorm)
          tensor::rope_norm(x, h.n_rot, c, s);
        else
          tensor::rope_neox(x, h.n_rot, c, s);
      }
      uint16_t* kd = state_of(t).k(l, pos_of(t));
      uint16_t* vd = state_of(t).v(l, pos_of(t));
      for (int i = 0; i < kv_dim; ++i) {
        kd[i] = gguf::fp32_to_fp16(k_[size_t(t) * kv_dim + i]);
        vd[i] = gguf::fp32_to_fp16(v_[size_t(t) * kv_dim + i]);
      }
    });
    dumpt("Qcur", l, q_, q_dim);
    dumpt("Kcur", l, k_, kv_dim);
    dumpt("Vcur", l, v_, kv_dim);
    const AttentionShape shape{h.n_head, h.n_head_kv, h.head_dim};
    if (decode)
      for (int t = 0; t < n; ++t)
        causal_attention(pool_, *sts[size_t(t)], l, shape, &q_[size_t(t) * q_dim], 1,
                         sts[size_t(t)]->n_past(), &att_[size_t(t) * q_dim], q16_);
    else
      causal_attention(pool_, *sts[0], l, shape, q_, n, sts[0]->n_past(), att_, q16_);
    dumpt("kqv_out", l, att_, q_dim);
    fresh = false;
    mm(L.wo, att_, q_dim, cur_.data(), E, packed2_, fresh);
    add_bias(cur_.data(), L.bo, E);
    dumpt("attn_out", l, cur_.data(), E);
    if (l == h.n_layer - 1) {
      // As llama.cpp (inp_out_ids): the last layer's FFN and the output head run only for the
      // rows whose logits are read, so their matmuls see that many tokens and pick their
      // kernels (and float orders) by that count. logit_rows ascend, so rows move down in place.
      rows = int(logit_rows.size());
      for (int i = 0; i < rows; ++i) {
        const size_t r = size_t(logit_rows[size_t(i)]);
        if (r == size_t(i)) continue;
        std::copy_n(&cur_[r * E], E, &cur_[size_t(i) * E]);
        std::copy_n(&x_[r * E], E, &x_[size_t(i) * E]);
      }
      if (rows == 0) break;
    }
    tensor::add(x_.data(), cur_.data(), int64_t(rows) * E);
    dumpt("ffn_inp", l, x_.data(), E);

    per_token(rows, [&](int t) {
      tensor::rms_norm(&x_[size_t(t) * E], L.ffn_norm.data(), &cur_[size_t(t) * E], E, h.rms_eps);
    });
    dumpt("ffn_norm", l, cur_.data(), E);
    fresh = false;
    mm(L.w_gate, cur_.data(), E, gate_, h.n_ff, packed_, fresh);
    mm(L.w_up, cur_.data(), E, up_, h.n_ff, packed_, fresh);
    pool_.parallel_for(rows, [&](int t) {
      tensor::swiglu_ordered(&gate_[size_t(t) * h.n_ff], &up_[size_t(t) * h.n_ff], h.n_ff);
    });
    fresh = false;
    mm(L.w_down, gate_, h.n_ff, cur_.data(), E, packed2_, fresh);
    dumpt("ffn_out", l, cur_.data(), E);
    tensor::add(x_.data(), cur_.data(), int64_t(rows) * E);
    dumpt("l_out", l, x_.data(), E);
  }
  if (decode)
    for (KvState* st : sts) st->advance(1);
  else
    sts[0]->advance(n);

  if (rows == 0) return Status::Ok();
  // rows == logit_rows.size(): row i of x_ is batch row logit_rows[i].
  std::vector<float> hsel(size_t(rows) * E);
  for (int i = 0; i < rows; ++i)
    tensor::rms_norm(&x_[size_t(i) * E], output_norm_.data(), &hsel[size_t(i) * E], E, h.rms_eps);
  tensor::pack_input(pool_, tensor::traits(output_.type).act, hsel.data(), E, rows, E, packed_);
  tensor::matmul_packed(pool_, output_, packed_, logits, h.n_vocab, choice);
  return Status::Ok();
}

}  // namespace gavel::model
