// ggml quantization formats: block layouts (bit-compatible with ggml-common.h), per-type
// block geometry and row dequantization to f32 (the one definition of each; the tensor layer
// computes on these blocks). fp16/bf16 conversion: gguf/fp16.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gavel/status.h"
#include "gguf/fp16.h"
#include "gguf/gguf.h"

namespace gavel::gguf {

inline constexpr int kQK = 32;          // weights per block of the legacy formats (Q4_0 .. Q8_1)
inline constexpr int kQK_K = 256;       // weights per super-block of the K formats
inline constexpr int kKScaleSize = 12;  // packed 6-bit scales/mins of Q4_K/Q5_K

// Block structs. fp16 fields are raw IEEE half bits (use fp16_to_fp32).
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};
struct BlockQ4_1 {
  uint16_t d, m;
  uint8_t qs[kQK / 2];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  // 5th bits, little-endian u32
  uint8_t qs[kQK / 2];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
// Q8_1 and Q8_K are, as in ggml, the formats the matmul quantizes activations to (Q8_K
// carries sums of 16-weight groups, which apply the K-quant mins).
struct BlockQ8_1 {
  uint16_t d, s;  // s = d * sum(qs)
  int8_t qs[kQK];
};
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];  // low nibble scale, high nibble min
  uint8_t qs[kQK_K / 4];
  uint16_t d, dmin;
};
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];  // 16 packed 6-bit scales
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;  // last, unlike the other K formats
};
struct BlockQ8_K {
  float d;  // f32, not fp16
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);

// 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block's packed `scales`.
// Internal linkage: the tensor kernels, compiled per ISA level, use it too
// (src/tensor/kernels/isa_namespace.h).
static inline void scale_min_k4(int j, const uint8_t* scales, int& sc, int& mn) {
  if (j < 4) {
    sc = scales[j] & 63;
    mn = scales[j + 4] & 63;
  } else {
    sc = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4);
    mn = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}

// Geometry of every ggml type id (also the ones gavel cannot dequantize, so a file holding
// them can still be parsed and bounds-checked). 0 for ids ggml does not define.
int64_t block_size(TensorType t);  // weights per block (1 for plain types)
size_t block_bytes(TensorType t);  // bytes per block
// Bytes of a row of n weights; 0 if the type is unknown, n < 0, or n is not a multiple of
// the block size.
size_t row_bytes(TensorType t, int64_t n);
// Inverse of type_name() for the ggml type names ("Q4_K", "bf16" is accepted too).
Result<TensorType> type_from_name(std::string_view name);
// True for the types dequantize_row supports.
bool can_dequantize(TensorType t);

// Dequantizes n weights (n a multiple of block_size(t)) from src into dst. src needs no
// particular alignment. Errors name the type when it is unsupported or n is invalid.
Status dequantize_row(TensorType t, const void* src, float* dst, int64_t n);
// Whole tensor into dst (n_elements() floats), row by row.
Status dequantize_tensor(const TensorInfo& info, float* dst);

}  // namespace gavel::gguf
