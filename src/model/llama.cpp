// Arch `llama` (Llama 2/3, SmolLM2): GGUF stores Q/K rows permuted for interleaved ("NORM")
// RoPE; llama3 frequency scaling comes as the optional rope_freqs.weight divisors.
#include <fmt/format.h>

#include "model/transformer.h"
#include "model/weights.h"

namespace gavel::model {

Result<std::unique_ptr<Model>> load_llama(const gguf::File& f, tensor::ThreadPool& pool) {
  Variant v;
  v.rope = RopeLayout::kNorm;
  v.rope_freqs = true;
  GAVEL_ASSIGN(const HParams h, read_hparams(f));
  if (h.n_rot != h.head_dim)
    return Error{fmt::format("{}: llama.rope.dimension_count {} must equal the head dim {}",
                             f.path(), h.n_rot, h.head_dim)};
  return DenseTransformer::load(f, pool, v);
}

}  // namespace gavel::model
