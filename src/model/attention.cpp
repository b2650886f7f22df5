#include "model/attention.h"

#include <algorithm>
#include <cmath>

#include "gguf/fp16.h"
#include "tensor/exact_order.h"

namespace gavel::model {

void causal_attention(tensor::ThreadPool& pool, const KvState& st, int layer,
                      const AttentionShape& shape, const float* q, int n, int n_past, float* out,
                      std::vector<uint16_t>& q16) {
  const int hd = shape.head_dim, q_dim = shape.n_head * hd;
  const int group = shape.n_head / shape.n_head_kv, kv_dim = st.kv_dim();
  const float scale = 1.0f / std::sqrt(float(hd));
  // ggml's KQ product has n_kv (cache) rows and the KQV product head_dim rows; both are
  // multiples of 4, so the order depends on the batch size and the reduction lengths only.
  const int64_t n_kv_rows = 256;
  const tensor::DotOrder kq_order = tensor::dot_order(n_kv_rows, hd, n);
  const tensor::DotOrder kqv_order =
      tensor::dot_order(hd, tensor::simd_lanes(), n);  // n_kv is padded to a lane multiple
  q16.resize(size_t(n) * size_t(q_dim));
  for (size_t i = 0; i < q16.size(); ++i) q16[i] = gguf::fp32_to_fp16(q[i]);
  constexpr int kTokChunk = 16;
  const int n_chunks = (n + kTokChunk - 1) / kTokChunk;
  const uint16_t* k0 = st.k(layer, 0);
  const uint16_t* v0 = st.v(layer, 0);
  pool.parallel_for(shape.n_head * n_chunks, [&](int task) {
    const int head = task / n_chunks, chunk = task % n_chunks;
    const int kvh = head / group;
    thread_local std::vector<float> s;
    thread_local std::vector<uint16_t> p16;
    s.resize(size_t(n_past + n));
    p16.resize(size_t(n_past + n));
    for (int t = chunk * kTokChunk; t < std::min(n, (chunk + 1) * kTokChunk); ++t) {
      const int n_valid = n_past + t + 1;
      const uint16_t* qt = &q16[size_t(t) * size_t(q_dim) + size_t(head) * size_t(hd)];
      for (int j = 0; j < n_valid; ++j)
        s[size_t(j)] =
            tensor::dot_f16_ordered(
                kq_order, hd, k0 + size_t(j) * size_t(kv_dim) + size_t(kvh) * size_t(hd), qt) *
            scale;
      tensor::softmax_ordered(s.data(), n_valid);
      for (int j = 0; j < n_valid; ++j) p16[size_t(j)] = gguf::fp32_to_fp16(s[size_t(j)]);
      tensor::pv_f16_ordered(kqv_order, n_valid, p16.data(), v0 + size_t(kvh) * size_t(hd), kv_dim,
                             hd, &out[size_t(t) * size_t(q_dim) + size_t(head) * size_t(hd)]);
    }
  });
}

}  // namespace gavel::model
