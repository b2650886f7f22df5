// Per-sequence KV cache for attention layers. K and V are stored as fp16 rows (one row of
// n_head_kv * head_dim per position), the same precision llama.cpp uses by default
// (type_k = type_v = f16): this both halves the memory and keeps logits within ~1e-3 of it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/page_allocator.h"
#include "model/model.h"

namespace gavel::model {

class KvState : public SequenceState {
 public:
  KvState(int n_layer, int n_ctx, int kv_dim);
  std::unique_ptr<SequenceState> clone() const override;
  bool truncate(int n) override;

  int kv_dim() const { return kv_dim_; }
  uint16_t* k(int layer, int pos) { return k_[layer].data() + size_t(pos) * kv_dim_; }
  uint16_t* v(int layer, int pos) { return v_[layer].data() + size_t(pos) * kv_dim_; }
  const uint16_t* k(int layer, int pos) const { return k_[layer].data() + size_t(pos) * kv_dim_; }
  const uint16_t* v(int layer, int pos) const { return v_[layer].data() + size_t(pos) * kv_dim_; }
  void advance(int n) { n_past_ += n; }
  // Makes room for positions [0, n) (n <= n_ctx); storage grows on demand.
  void reserve(int n);

 private:
  int kv_dim_;
  // One buffer per layer, straight from the kernel (core/page_allocator.h).
  using Buffer = std::vector<uint16_t, PageAllocator<uint16_t>>;
  std::vector<Buffer> k_, v_;
};

}  // namespace gavel::model
