#include "gguf/quants.h"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <string>

namespace gavel::gguf {
namespace {

struct Geometry {
  int64_t block;  // weights per block
  size_t bytes;   // bytes per block
};

// Every type id ggml defines (ggml.h / gguf-py GGML_QUANT_SIZES); {0,0} for unused ids.
Geometry geometry(uint32_t id) {
  switch (id) {
    case 0:
      return {1, 4};  // F32
    case 1:
      return {1, 2};  // F16
    case 2:
      return {32, 18};  // Q4_0
    case 3:
      return {32, 20};  // Q4_1
    case 6:
      return {32, 22};  // Q5_0
    case 7:
      return {32, 24};  // Q5_1
    case 8:
      return {32, 34};  // Q8_0
    case 9:
      return {32, 36};  // Q8_1
    case 10:
      return {256, 84};  // Q2_K
    case 11:
      return {256, 110};  // Q3_K
    case 12:
      return {256, 144};  // Q4_K
    case 13:
      return {256, 176};  // Q5_K
    case 14:
      return {256, 210};  // Q6_K
    case 15:
      return {256, 292};  // Q8_K
    case 16:
      return {256, 66};  // IQ2_XXS
    case 17:
      return {256, 74};  // IQ2_XS
    case 18:
      return {256, 98};  // IQ3_XXS
    case 19:
      return {256, 50};  // IQ1_S
    case 20:
      return {32, 18};  // IQ4_NL
    case 21:
      return {256, 110};  // IQ3_S
    case 22:
      return {256, 82};  // IQ2_S
    case 23:
      return {256, 136};  // IQ4_XS
    case 24:
      return {1, 1};  // I8
    case 25:
      return {1, 2};  // I16
    case 26:
      return {1, 4};  // I32
    case 27:
      return {1, 8};  // I64
    case 28:
      return {1, 8};  // F64
    case 29:
      return {256, 56};  // IQ1_M
    case 30:
      return {1, 2};  // BF16
    case 34:
      return {256, 54};  // TQ1_0
    case 35:
      return {256, 66};  // TQ2_0
    case 39:
      return {32, 17};  // MXFP4
    case 40:
      return {64, 36};  // NVFP4
    case 41:
      return {128, 18};  // Q1_0
  }
  return {0, 0};
}

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

constexpr int8_t kValuesIQ4NL[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                     1,    13,   25,  38,  53,  69,  89,  113};

void dq_q4_0(const BlockQ4_0& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = static_cast<float>((b.qs[j] & 0x0F) - 8) * d;
    y[j + kQK / 2] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
  }
}

void dq_q4_1(const BlockQ4_1& b, float* y) {
  const float d = fp16_to_fp32(b.d), m = fp16_to_fp32(b.m);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = static_cast<float>(b.qs[j] & 0x0F) * d + m;
    y[j + kQK / 2] = static_cast<float>(b.qs[j] >> 4) * d + m;
  }
}

void dq_q5_0(const BlockQ5_0& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  const uint32_t qh = load<uint32_t>(b.qh);
  for (int j = 0; j < kQK / 2; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10;
    const int h1 = (qh >> (j + 12)) & 0x10;
    y[j] = static_cast<float>(((b.qs[j] & 0x0F) | h0) - 16) * d;
    y[j + kQK / 2] = static_cast<float>(((b.qs[j] >> 4) | h1) - 16) * d;
  }
}

void dq_q5_1(const BlockQ5_1& b, float* y) {
  const float d = fp16_to_fp32(b.d), m = fp16_to_fp32(b.m);
  const uint32_t qh = load<uint32_t>(b.qh);
  for (int j = 0; j < kQK / 2; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10;
    const int h1 = (qh >> (j + 12)) & 0x10;
    y[j] = static_cast<float>((b.qs[j] & 0x0F) | h0) * d + m;
    y[j + kQK / 2] = static_cast<float>((b.qs[j] >> 4) | h1) * d + m;
  }
}

void dq_q8_0(const BlockQ8_0& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
}

void dq_q2_k(const BlockQ2_K& b, float* y) {
  const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
  const uint8_t* q = b.qs;
  int is = 0;
  for (int n = 0; n < kQK_K; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const uint8_t sc = b.scales[is++];
        const float dl = d * static_cast<float>(sc & 0xF), ml = dmin * static_cast<float>(sc >> 4);
        for (int l = 0; l < 16; ++l)
          *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
      }
    }
    q += 32;
  }
}

void dq_q3_k(const BlockQ3_K& b, float* y) {
  const float d_all = fp16_to_fp32(b.d);
  // Unpack 16 6-bit scales: low 4 bits from scales[0..7], high 2 bits from scales[8..11].
  int8_t sc[16];
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (b.scales[j] & 0xF) : (b.scales[j - 8] >> 4);
    const int high = (b.scales[8 + j % 4] >> (2 * (j / 4))) & 3;
    sc[j] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
  const uint8_t* q = b.qs;
  uint8_t m = 1;
  int is = 0;
  for (int n = 0; n < kQK_K; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const float dl = d_all * static_cast<float>(sc[is++]);
        for (int l = 16 * half; l < 16 * half + 16; ++l) {
          const int v = ((q[l] >> shift) & 3) - ((b.hmask[l] & m) ? 0 : 4);
          *y++ = dl * static_cast<float>(v);
        }
      }
      m = static_cast<uint8_t>(m << 1);
    }
    q += 32;
  }
}

void dq_q4_k(const BlockQ4_K& b, float* y) {
  const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
  const uint8_t* q = b.qs;
  for (int is = 0; is < 8; is += 2) {
    int sc, mn;
    scale_min_k4(is, b.scales, sc, mn);
    const float d1 = d * sc, m1 = dmin * mn;
    scale_min_k4(is + 1, b.scales, sc, mn);
    const float d2 = d * sc, m2 = dmin * mn;
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    q += 32;
  }
}

void dq_q5_k(const BlockQ5_K& b, float* y) {
  const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
  const uint8_t* ql = b.qs;
  uint8_t u1 = 1, u2 = 2;
  for (int is = 0; is < 8; is += 2) {
    int sc, mn;
    scale_min_k4(is, b.scales, sc, mn);
    const float d1 = d * sc, m1 = dmin * mn;
    scale_min_k4(is + 1, b.scales, sc, mn);
    const float d2 = d * sc, m2 = dmin * mn;
    for (int l = 0; l < 32; ++l)
      *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((b.qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l)
      *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((b.qh[l] & u2) ? 16 : 0)) - m2;
    ql += 32;
    u1 = static_cast<uint8_t>(u1 << 2);
    u2 = static_cast<uint8_t>(u2 << 2);
  }
}

void dq_q6_k(const BlockQ6_K& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  const uint8_t* ql = b.ql;
  const uint8_t* qh = b.qh;
  const int8_t* sc = b.scales;
  for (int n = 0; n < kQK_K; n += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

void dq_q8_k(const BlockQ8_K& b, float* y) {
  for (int j = 0; j < kQK_K; ++j) y[j] = b.d * static_cast<float>(b.qs[j]);
}

struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[kQK / 2];
};
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[kQK_K / 64];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136);

void dq_iq4_nl(const BlockIQ4_NL& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = d * static_cast<float>(kValuesIQ4NL[b.qs[j] & 0xF]);
    y[j + kQK / 2] = d * static_cast<float>(kValuesIQ4NL[b.qs[j] >> 4]);
  }
}

void dq_iq4_xs(const BlockIQ4_XS& b, float* y) {
  const float d = fp16_to_fp32(b.d);
  const uint8_t* qs = b.qs;
  for (int ib = 0; ib < kQK_K / 32; ++ib) {
    const int ls =
        ((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((b.scales_h >> (2 * ib)) & 3) << 4);
    const float dl = d * static_cast<float>(ls - 32);
    for (int j = 0; j < 16; ++j) {
      y[j] = dl * static_cast<float>(kValuesIQ4NL[qs[j] & 0xF]);
      y[j + 16] = dl * static_cast<float>(kValuesIQ4NL[qs[j] >> 4]);
    }
    y += 32;
    qs += 16;
  }
}

// Copies each block out of the (possibly unaligned) source before decoding it.
template <class Block, void (*Decode)(const Block&, float*)>
void dq_blocks(const uint8_t* src, float* dst, int64_t n_blocks, int64_t per_block) {
  for (int64_t i = 0; i < n_blocks; ++i) {
    Block b;
    std::memcpy(&b, src + i * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
    Decode(b, dst + i * per_block);
  }
}

}  // namespace

int64_t block_size(TensorType t) { return geometry(static_cast<uint32_t>(t)).block; }
size_t block_bytes(TensorType t) { return geometry(static_cast<uint32_t>(t)).bytes; }

size_t row_bytes(TensorType t, int64_t n) {
  const Geometry g = geometry(static_cast<uint32_t>(t));
  if (g.block == 0 || n < 0 || n % g.block != 0) return 0;
  return static_cast<size_t>(n / g.block) * g.bytes;
}

Result<TensorType> type_from_name(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (uint32_t id = 0; id < 64; ++id) {
    if (geometry(id).block == 0) continue;
    if (upper == type_name(static_cast<TensorType>(id))) return static_cast<TensorType>(id);
  }
  return Error{fmt::format("unknown ggml tensor type '{}'", name)};
}

bool can_dequantize(TensorType t) {
  switch (t) {
    case TensorType::kF32:
    case TensorType::kF16:
    case TensorType::kBF16:
    case TensorType::kQ4_0:
    case TensorType::kQ4_1:
    case TensorType::kQ5_0:
    case TensorType::kQ5_1:
    case TensorType::kQ8_0:
    case TensorType::kQ2_K:
    case TensorType::kQ3_K:
    case TensorType::kQ4_K:
    case TensorType::kQ5_K:
    case TensorType::kQ6_K:
    case TensorType::kQ8_K:
    case TensorType::kIQ4_NL:
    case TensorType::kIQ4_XS:
      return true;
    default:
      return false;
  }
}

Status dequantize_row(TensorType t, const void* src, float* dst, int64_t n) {
  const Geometry g = geometry(static_cast<uint32_t>(t));
  if (!can_dequantize(t))
    return Error{fmt::format("dequantize: tensor type {} (id {}) is not supported", type_name(t),
                             static_cast<uint32_t>(t))};
  if (n < 0 || n % g.block != 0)
    return Error{fmt::format("dequantize: {} weights is not a multiple of the {} block size {}", n,
                             type_name(t), g.block)};
  const auto* s = static_cast<const uint8_t*>(src);
  const int64_t nb = n / g.block;
  switch (t) {
    case TensorType::kF32:
      std::memcpy(dst, s, static_cast<size_t>(n) * sizeof(float));
      break;
    case TensorType::kF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(load<uint16_t>(s + 2 * i));
      break;
    case TensorType::kBF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(load<uint16_t>(s + 2 * i));
      break;
    case TensorType::kQ4_0:
      dq_blocks<BlockQ4_0, dq_q4_0>(s, dst, nb, g.block);
      break;
    case TensorType::kQ4_1:
      dq_blocks<BlockQ4_1, dq_q4_1>(s, dst, nb, g.block);
      break;
    case TensorType::kQ5_0:
      dq_blocks<BlockQ5_0, dq_q5_0>(s, dst, nb, g.block);
      break;
    case TensorType::kQ5_1:
      dq_blocks<BlockQ5_1, dq_q5_1>(s, dst, nb, g.block);
      break;
    case TensorType::kQ8_0:
      dq_blocks<BlockQ8_0, dq_q8_0>(s, dst, nb, g.block);
      break;
    case TensorType::kQ2_K:
      dq_blocks<BlockQ2_K, dq_q2_k>(s, dst, nb, g.block);
      break;
    case TensorType::kQ3_K:
      dq_blocks<BlockQ3_K, dq_q3_k>(s, dst, nb, g.block);
      break;
    case TensorType::kQ4_K:
      dq_blocks<BlockQ4_K, dq_q4_k>(s, dst, nb, g.block);
      break;
    case TensorType::kQ5_K:
      dq_blocks<BlockQ5_K, dq_q5_k>(s, dst, nb, g.block);
      break;
    case TensorType::kQ6_K:
      dq_blocks<BlockQ6_K, dq_q6_k>(s, dst, nb, g.block);
      break;
    case TensorType::kQ8_K:
      dq_blocks<BlockQ8_K, dq_q8_k>(s, dst, nb, g.block);
      break;
    case TensorType::kIQ4_NL:
      dq_blocks<BlockIQ4_NL, dq_iq4_nl>(s, dst, nb, g.block);
      break;
    case TensorType::kIQ4_XS:
      dq_blocks<BlockIQ4_XS, dq_iq4_xs>(s, dst, nb, g.block);
      break;
    default:
      break;  // unreachable: can_dequantize() filtered
  }
  return Status::Ok();
}

Status dequantize_tensor(const TensorInfo& info, float* dst) {
  const int64_t ne0 = info.ne.empty() ? 1 : info.ne[0];
  const size_t rb = row_bytes(info.type, ne0);
  const int64_t rows = info.rows();
  if (info.data == nullptr || rb * static_cast<size_t>(rows) > info.nbytes)
    return Error{fmt::format("dequantize: tensor '{}' has no data mapped", info.name)};
  for (int64_t r = 0; r < rows; ++r) {
    Status s =
        dequantize_row(info.type, info.data + static_cast<size_t>(r) * rb, dst + r * ne0, ne0);
    if (!s.ok()) return Error{fmt::format("tensor '{}': {}", info.name, s.message())};
  }
  return Status::Ok();
}

}  // namespace gavel::gguf
