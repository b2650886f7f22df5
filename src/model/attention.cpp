#include "model/attention.h"

#include <algorithm>
#include <cmath>

#include "gguf/fp16.h"
#include "tensor/exact_order.h"

namespace gavel::model {

void causal_attention(tensor::ThreadPool& pool, const KvState& st, int layer,
                      const AttentionShape& shape, float* q, int n, int n_past, float* out,
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
  tensor::f32_to_f16_row(q, q16.data(), int64_t(q16.size()));
  // The queries' fp16 values as floats, for the F16 GEMM tiles of the KQ product.
  const bool kq_tiled = kq_order == tensor::DotOrder::kGemm;
  if (kq_tiled) tensor::f16_to_f32_row(q16.data(), q, int64_t(q16.size()));
  const float* qf_data = q;
  // Queries per task: a multiple of the AVX-512 F16 tile (6 tokens), so the KQ and KQV tiles
  // have no remainder (16 -> 24: pp2048 1-3% faster). The outputs do not depend on it.
  constexpr int kTokChunk = 24;
  const int n_chunks = (n + kTokChunk - 1) / kTokChunk;
  const uint16_t* k0 = st.k(layer, 0);
  const uint16_t* v0 = st.v(layer, 0);
  // KQV as ggml computes it, V^T (head_dim rows of cache length) times P: with the F16 GEMM
  // tiles, V is transposed once per layer and kv head, zero-padded to whole lanes (a zero
  // probability adds an exact zero, as a masked cache cell does in ggml).
  const int lanes = tensor::simd_lanes();
  const bool pv_tiles = kqv_order == tensor::DotOrder::kGemm && hd % 4 == 0;
  const int n_all = n_past + n, n_all_pad = (n_all + lanes - 1) / lanes * lanes;
  thread_local std::vector<uint16_t> vt;
  if (pv_tiles) {
    vt.assign(size_t(shape.n_head_kv) * size_t(hd) * size_t(n_all_pad), 0);
    uint16_t* vt_data = vt.data();
    pool.parallel_for(shape.n_head_kv * hd / 4, [&](int task) {
      const int kvh = task / (hd / 4), d0 = task % (hd / 4) * 4;
      for (int d = d0; d < d0 + 4; ++d) {
        uint16_t* row = vt_data + (size_t(kvh) * size_t(hd) + size_t(d)) * size_t(n_all_pad);
        const uint16_t* col = v0 + size_t(kvh) * size_t(hd) + size_t(d);
        for (int j = 0; j < n_all; ++j) row[j] = col[size_t(j) * size_t(kv_dim)];
      }
    });
  }
  const uint16_t* vt_data = vt.data();
  pool.parallel_for(shape.n_head * n_chunks, [&](int task) {
    const int head = task / n_chunks, chunk = task % n_chunks;
    const int kvh = head / group;
    const int t0 = chunk * kTokChunk, t1 = std::min(n, (chunk + 1) * kTokChunk);
    const uint16_t* kh = k0 + size_t(kvh) * size_t(hd);
    thread_local std::vector<float> s, kq, pq;
    thread_local std::vector<uint16_t> p16;
    s.resize(size_t(n_past + n));
    p16.resize(size_t(n_all_pad));  // n_all_pad >= n_pad >= n_past + n
    // KQ for the whole chunk as one tiled product over the keys the last query sees (the
    // earlier queries' extra, masked columns are computed and not read).
    const int n_keys = n_past + t1;
    int64_t tiled_keys = 0;
    if (kq_tiled) {
      kq.resize(size_t(t1 - t0) * size_t(n_keys));
      tiled_keys = tensor::matmul_f16_gemm_rows(
          hd, kh, size_t(kv_dim), n_keys,
          qf_data + size_t(t0) * size_t(q_dim) + size_t(head) * size_t(hd), size_t(q_dim), t1 - t0,
          kq.data(), n_keys);
    }
    const int n_pad = (n_keys + lanes - 1) / lanes * lanes;
    if (pv_tiles) pq.assign(size_t(t1 - t0) * size_t(n_pad), 0.f);
    for (int t = t0; t < t1; ++t) {
      const int n_valid = n_past + t + 1;
      const uint16_t* qt = &q16[size_t(t) * size_t(q_dim) + size_t(head) * size_t(hd)];
      const float* kqt = kq.data() + size_t(t - t0) * size_t(n_keys);
      int j = 0;
      for (; j < std::min<int64_t>(n_valid, tiled_keys); ++j) s[size_t(j)] = kqt[j] * scale;
      for (; j < n_valid; ++j)
        s[size_t(j)] =
            tensor::dot_f16_ordered(kq_order, hd, kh + size_t(j) * size_t(kv_dim), qt) * scale;
      tensor::softmax_ordered(s.data(), n_valid);
      tensor::f32_to_f16_row(s.data(), p16.data(), n_valid);
      if (pv_tiles) {  // this query's probabilities; the product runs after the last query
        tensor::f16_to_f32_row(p16.data(), pq.data() + size_t(t - t0) * size_t(n_pad), n_valid);
        continue;
      }
      tensor::pv_f16_ordered(kqv_order, n_valid, p16.data(), v0 + size_t(kvh) * size_t(hd), kv_dim,
                             hd, &out[size_t(t) * size_t(q_dim) + size_t(head) * size_t(hd)]);
    }
    if (pv_tiles) {
      const uint16_t* vth = vt_data + size_t(kvh) * size_t(hd) * size_t(n_all_pad);
      const int64_t done = tensor::matmul_f16_gemm_rows(
          n_pad, vth, size_t(n_all_pad), hd, pq.data(), size_t(n_pad), t1 - t0,
          &out[size_t(t0) * size_t(q_dim) + size_t(head) * size_t(hd)], q_dim);
      // Rows no whole tile covers (hd % 3 of them with AVX2's 3-row tiles), in the same order;
      // the probabilities are fp16 values, so the round trip is exact.
      for (int t = t0; t < t1 && done < hd; ++t) {
        tensor::f32_to_f16_row(pq.data() + size_t(t - t0) * size_t(n_pad), p16.data(), n_pad);
        for (int64_t d = done; d < hd; ++d)
          out[size_t(t) * size_t(q_dim) + size_t(head) * size_t(hd) + size_t(d)] =
              tensor::dot_f16_ordered(tensor::DotOrder::kGemm, n_pad,
                                      vth + size_t(d) * size_t(n_all_pad), p16.data());
      }
    }
  });
}

}  // namespace gavel::model
