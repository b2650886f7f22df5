// Causal grouped-query attention over an f16 KV cache, with llama.cpp's CPU numerics
// (non-flash path): Q rounded to f16, KQ = K·Q, softmax(scale · KQ) as ggml_soft_max, the
// probabilities rounded to f16, then KQV = Vᵀ·P, each product summed in the order ggml's
// kernel for that batch size uses (tensor/exact_order.h).
#pragma once

#include <cstdint>
#include <vector>

#include "model/kv_state.h"
#include "tensor/thread_pool.h"

namespace gavel::model {

struct AttentionShape {
  int n_head = 0, n_head_kv = 0, head_dim = 0;
};

// q: n rows of n_head * head_dim (the new tokens at positions n_past..n_past+n-1, already in
// the cache), rounded to f16 in place (no float copy of the rounded queries); out: n rows of
// n_head * head_dim. Query head h reads KV head h / (n_head / n_head_kv). q16 is scratch.
void causal_attention(tensor::ThreadPool& pool, const KvState& st, int layer,
                      const AttentionShape& shape, float* q, int n, int n_past, float* out,
                      std::vector<uint16_t>& q16);

}  // namespace gavel::model
