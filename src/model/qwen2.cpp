// Arch `qwen2` (Qwen2 / Qwen2.5): Q/K/V biases, NeoX RoPE, no Q/K permutation.
#include "model/transformer.h"

namespace gavel::model {

Result<std::unique_ptr<Model>> load_qwen2(const gguf::File& f, tensor::ThreadPool& pool) {
  Variant v;
  v.rope = RopeLayout::kNeox;
  v.qkv_bias = true;
  return DenseTransformer::load(f, pool, v);
}

}  // namespace gavel::model
