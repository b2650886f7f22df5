// The activation formats the matmul quantizes its input to, and per-type traits. The weight
// block layouts are the gguf layer's (gguf/quants.h, docs/model-spec.md §7.2); weights are only
// ever read in those formats, nothing here builds a dequantized copy of a model.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/quants.h"

namespace gavel::tensor {

using gguf::TensorType;

using gguf::kQK;    // block size of the legacy formats
using gguf::kQK_K;  // block size of the K-quants

using gguf::BlockQ4_0;
using gguf::BlockQ4_1;
using gguf::BlockQ4_K;
using gguf::BlockQ5_0;
using gguf::BlockQ5_1;
using gguf::BlockQ5_K;
using gguf::BlockQ6_K;
using gguf::BlockQ8_0;
using gguf::BlockQ8_1;
using gguf::BlockQ8_K;

// The format activations are converted to before a dot product with a weight of a given type.
enum class ActType { kF32, kF16, kBF16, kQ8_0, kQ8_1, kQ8_K };

struct TypeTraits {
  bool supported = false;
  int block = 1;           // elements per block (gguf::block_size)
  size_t block_bytes = 0;  // bytes per block (gguf::block_bytes)
  ActType act = ActType::kF32;
};

// The weight types the kernels compute on; their row sizes are gguf::row_bytes.
TypeTraits traits(TensorType t);
int act_block(ActType a);
size_t act_row_bytes(ActType a, int64_t n);

}  // namespace gavel::tensor
