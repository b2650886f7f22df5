// Weight block layouts (ggml-compatible, see docs/model-spec.md §7.2), the activation formats
// the matmul quantizes its input to, and per-type traits. Weights are only ever read in these
// formats; nothing here builds a dequantized copy of a model.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/gguf.h"

namespace gavel::tensor {

using gguf::TensorType;

constexpr int kQK = 32;   // block size of the legacy formats
constexpr int kQKK = 256; // block size of the K-quants

struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[16]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };
// Activation-only formats (as in ggml): Q8_1 carries s = d * sum(qs); Q8_K a float scale and
// sums of 16-element groups (used to apply the K-quant mins).
struct BlockQ8_1 { uint16_t d, s; int8_t qs[32]; };
struct BlockQ8_K { float d; int8_t qs[256]; int16_t bsums[16]; };

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ8_K) == 292);

// The format activations are converted to before a dot product with a weight of a given type.
enum class ActType { kF32, kF16, kBF16, kQ8_0, kQ8_1, kQ8_K };

struct TypeTraits {
  bool supported = false;
  int block = 1;          // elements per block
  size_t block_bytes = 0; // bytes per block
  ActType act = ActType::kF32;
};

TypeTraits traits(TensorType t);
// Bytes for a row of n elements (n must be a multiple of the block size).
size_t row_bytes(TensorType t, int64_t n);
int act_block(ActType a);
size_t act_row_bytes(ActType a, int64_t n);

}  // namespace gavel::tensor
