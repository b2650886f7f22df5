// Arch `qwen3` (dense): per-head RMSNorm of Q and K (shared [head_dim] weights) before NeoX
// RoPE; head_dim comes from qwen3.attention.key_length and may differ from n_embd / n_head.
#include "model/transformer.h"

namespace gavel::model {

Result<std::unique_ptr<Model>> load_qwen3(const gguf::File& f, tensor::ThreadPool& pool) {
  Variant v;
  v.rope = RopeLayout::kNeox;
  v.qk_norm = true;
  return DenseTransformer::load(f, pool, v);
}

}  // namespace gavel::model
