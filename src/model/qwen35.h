// Arch `qwen35` (Qwen3.5 dense hybrid): Gated DeltaNet layers interleaved with gated
// full-attention layers. Metadata helpers live here so `gavel info` can show the layer pattern
// without loading weights.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gavel/status.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "tensor/thread_pool.h"

namespace gavel::model {

Result<std::unique_ptr<Model>> load_qwen35(const gguf::File& f, tensor::ThreadPool& pool);

struct Qwen35Layout {
  int n_layer = 0;                // decoder layers run (block_count - nextn_predict_layers)
  int n_nextn = 0;                // MTP layers stored after them (never run)
  std::vector<bool> recurrent;    // per layer: Gated DeltaNet (true) or full attention
  int conv_kernel = 0, d_state = 0, n_group = 0, dt_rank = 0, d_inner = 0;  // ssm.* keys
  std::vector<int> rope_sections;  // rope.dimension_sections (4 values; empty if absent)
  // "LLLA LLLA ..." (L = linear attention, A = full attention), grouped by 4.
  std::string pattern() const;
};

// Reads the qwen35 layer layout: `qwen35.attention.recurrent_layers` (bool array) when present,
// else layer i is full attention iff (i + 1) % full_attention_interval == 0 (default 4, as
// llama.cpp).
Result<Qwen35Layout> qwen35_layout(const gguf::File& f);

}  // namespace gavel::model
