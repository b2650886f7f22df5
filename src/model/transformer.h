// The dense pre-norm transformer shared by llama, qwen2 and qwen3: RMSNorm, GQA attention
// with RoPE, SwiGLU MLP. The per-architecture files only choose the Variant.
#pragma once

#include <memory>
#include <vector>

#include "model/kv_state.h"
#include "model/model.h"
#include "tensor/matmul.h"

namespace gavel::model {

enum class RopeLayout { kNorm, kNeox };  // interleaved pairs (GGUF llama) / rotate-half

struct Variant {
  RopeLayout rope = RopeLayout::kNeox;
  bool qkv_bias = false;    // qwen2
  bool qk_norm = false;     // qwen3: per-head RMSNorm of Q and K before RoPE
  bool rope_freqs = false;  // llama: optional rope_freqs.weight divisors (llama3 scaling)
};

class DenseTransformer : public Model {
 public:
  static Result<std::unique_ptr<Model>> load(const gguf::File& f, tensor::ThreadPool& pool,
                                             const Variant& v);
  const HParams& hparams() const override { return hp_; }
  std::unique_ptr<SequenceState> new_state(int n_ctx) const override;
  Status forward(SequenceState& state, std::span<const int32_t> tokens,
                 std::span<const int> logit_rows, float* logits) override;
  Status forward_decode(std::span<SequenceState* const> states, std::span<const int32_t> tokens,
                        float* logits) override;

 private:
  struct Layer {
    std::vector<float> attn_norm, ffn_norm, bq, bk, bv, bo, q_norm, k_norm;
    tensor::Matrix wq, wk, wv, wo, w_gate, w_up, w_down;
  };
  DenseTransformer(tensor::ThreadPool& pool) : pool_(pool) {}
  // Token t belongs to sts[0] (one sequence: a prompt chunk) or to sts[t] (one token for each
  // of several sequences, computed as each alone would be).
  Status forward_chunk(std::span<KvState* const> sts, std::span<const int32_t> tokens,
                       std::span<const int> logit_rows, float* logits);

  tensor::ThreadPool& pool_;
  HParams hp_;
  Variant var_;
  tensor::Matrix tok_embd_, output_;
  std::vector<float> output_norm_, rope_freqs_;
  std::vector<Layer> layers_;
  // Scratch reused across calls (sized for the largest chunk seen).
  std::vector<float> x_, cur_, work_, cos_, sin_;
  std::vector<uint16_t> q16_;
  tensor::PackedInput packed_, packed2_;
};

}  // namespace gavel::model
