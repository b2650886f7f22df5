#include "model/kv_state.h"

#include <algorithm>

namespace gavel::model {

KvState::KvState(int n_layer, int n_ctx, int kv_dim) : kv_dim_(kv_dim) {
  n_ctx_ = n_ctx;
  k_.resize(size_t(n_layer));
  v_.resize(size_t(n_layer));
}

void KvState::reserve(int n) {
  const size_t need = size_t(n) * size_t(kv_dim_);
  if (!k_.empty() && k_[0].size() >= need) return;
  // Exactly what is used: the vectors' capacity grows geometrically (few copies as a decoded
  // sequence grows token by token), and capacity never written costs no memory (PageAllocator).
  for (auto& b : k_) b.resize(need);
  for (auto& b : v_) b.resize(need);
}

std::unique_ptr<SequenceState> KvState::clone() const {
  auto c = std::make_unique<KvState>(int(k_.size()), n_ctx_, kv_dim_);
  c->n_past_ = n_past_;
  c->reserve(n_past_);
  const size_t used = size_t(n_past_) * kv_dim_;
  for (size_t l = 0; l < k_.size(); ++l) {
    std::copy(k_[l].begin(), k_[l].begin() + used, c->k_[l].begin());
    std::copy(v_[l].begin(), v_[l].begin() + used, c->v_[l].begin());
  }
  return c;
}

bool KvState::truncate(int n) {
  if (n < 0 || n > n_past_) return false;
  n_past_ = n;
  return true;
}

}  // namespace gavel::model
