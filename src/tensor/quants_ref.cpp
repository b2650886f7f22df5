// Scalar reference definitions of activation quantization and the integer dot products of
// every block format (same arithmetic as ggml's generic kernels). Dequantization is the gguf
// layer's (gguf::dequantize_row).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "gguf/fp16.h"
#include "tensor/quants.h"

namespace gavel::tensor {

namespace {
TypeTraits kernel_type(TensorType t, ActType act) {
  return {true, int(gguf::block_size(t)), gguf::block_bytes(t), act};
}
}  // namespace

TypeTraits traits(TensorType t) {
  switch (t) {
    case TensorType::kF32:
      return kernel_type(t, ActType::kF32);
    case TensorType::kF16:
      return kernel_type(t, ActType::kF16);
    case TensorType::kBF16:
      return kernel_type(t, ActType::kBF16);
    case TensorType::kQ4_0:
      return kernel_type(t, ActType::kQ8_0);
    case TensorType::kQ4_1:
      return kernel_type(t, ActType::kQ8_1);
    case TensorType::kQ5_0:
      return kernel_type(t, ActType::kQ8_0);
    case TensorType::kQ5_1:
      return kernel_type(t, ActType::kQ8_1);
    case TensorType::kQ8_0:
      return kernel_type(t, ActType::kQ8_0);
    case TensorType::kQ4_K:
      return kernel_type(t, ActType::kQ8_K);
    case TensorType::kQ5_K:
      return kernel_type(t, ActType::kQ8_K);
    case TensorType::kQ6_K:
      return kernel_type(t, ActType::kQ8_K);
    default:
      return {};
  }
}

int act_block(ActType a) {
  switch (a) {
    case ActType::kQ8_0:
    case ActType::kQ8_1:
      return kQK;
    case ActType::kQ8_K:
      return kQK_K;
    default:
      return 1;
  }
}

size_t act_row_bytes(ActType a, int64_t n) {
  switch (a) {
    case ActType::kF32:
      return size_t(n) * 4;
    case ActType::kF16:
    case ActType::kBF16:
      return size_t(n) * 2;
    case ActType::kQ8_0:
      return size_t(n / kQK) * sizeof(BlockQ8_0);
    case ActType::kQ8_1:
      return size_t(n / kQK) * sizeof(BlockQ8_1);
    case ActType::kQ8_K:
      return size_t(n / kQK_K) * sizeof(BlockQ8_K);
  }
  return 0;
}

namespace {

// Unpacks a Q4_K/Q5_K/Q6_K block into signed/unsigned integer values (no scales).
void unpack_q4k(const BlockQ4_K& b, uint8_t* q) {
  for (int g = 0; g < 4; ++g)
    for (int l = 0; l < 32; ++l) {
      q[64 * g + l] = b.qs[32 * g + l] & 0xF;
      q[64 * g + 32 + l] = b.qs[32 * g + l] >> 4;
    }
}
void unpack_q5k(const BlockQ5_K& b, uint8_t* q) {
  for (int g = 0; g < 4; ++g)
    for (int l = 0; l < 32; ++l) {
      q[64 * g + l] = (b.qs[32 * g + l] & 0xF) | (((b.qh[l] >> (2 * g)) & 1) << 4);
      q[64 * g + 32 + l] = (b.qs[32 * g + l] >> 4) | (((b.qh[l] >> (2 * g + 1)) & 1) << 4);
    }
}
void unpack_q6k(const BlockQ6_K& b, int8_t* q) {
  for (int n = 0; n < 2; ++n) {
    const uint8_t* ql = b.ql + 64 * n;
    const uint8_t* qh = b.qh + 32 * n;
    int8_t* y = q + 128 * n;
    for (int l = 0; l < 32; ++l) {
      y[l] = int8_t(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
      y[l + 32] = int8_t(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      y[l + 64] = int8_t(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      y[l + 96] = int8_t(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

// Unpacks a legacy 32-element block to integer values (before offset/min).
template <class B>
void unpack_nib(const B& b, int* q) {
  for (int j = 0; j < 16; ++j) {
    q[j] = b.qs[j] & 0xF;
    q[j + 16] = b.qs[j] >> 4;
  }
}
template <class B>
void unpack_5bit(const B& b, int* q) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  for (int j = 0; j < 16; ++j) {
    q[j] = (b.qs[j] & 0xF) | (((qh >> j) & 1) << 4);
    q[j + 16] = (b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
  }
}

inline int nearest_int(float f) { return int(std::nearbyint(f)); }

}  // namespace

void quantize_act_row_ref(ActType a, const float* x, void* dst, int64_t n) {
  switch (a) {
    case ActType::kF32:
      std::memcpy(dst, x, size_t(n) * 4);
      return;
    case ActType::kF16: {
      auto* y = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) y[i] = gguf::fp32_to_fp16(x[i]);
      return;
    }
    case ActType::kBF16: {
      auto* y = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) y[i] = gguf::fp32_to_bf16(x[i]);
      return;
    }
    case ActType::kQ8_0:
    case ActType::kQ8_1: {
      // ggml's x86 path: id = 127/amax, round half to even.
      for (int64_t b = 0; b < n / kQK; ++b) {
        const float* xb = x + b * kQK;
        float amax = 0;
        for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(xb[j]));
        const float d = amax / 127.f;
        const float id = amax != 0.f ? 127.f / amax : 0.f;
        int8_t* qs;
        if (a == ActType::kQ8_0) {
          auto& y = static_cast<BlockQ8_0*>(dst)[b];
          y.d = gguf::fp32_to_fp16(d);
          qs = y.qs;
        } else {
          auto& y = static_cast<BlockQ8_1*>(dst)[b];
          y.d = gguf::fp32_to_fp16(d);
          qs = y.qs;
        }
        int sum = 0;
        for (int j = 0; j < kQK; ++j) {
          qs[j] = int8_t(nearest_int(xb[j] * id));
          sum += qs[j];
        }
        if (a == ActType::kQ8_1)
          static_cast<BlockQ8_1*>(dst)[b].s = gguf::fp32_to_fp16(d * float(sum));
      }
      return;
    }
    case ActType::kQ8_K: {
      for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float* xb = x + b * kQK_K;
        auto& y = static_cast<BlockQ8_K*>(dst)[b];
        float amax = 0, mx = 0;
        for (int j = 0; j < kQK_K; ++j) {
          const float ax = std::fabs(xb[j]);
          if (ax > amax) amax = ax, mx = xb[j];
        }
        if (amax == 0.f) {
          std::memset(&y, 0, sizeof(y));
          continue;
        }
        const float iscale = -127.f / mx;
        for (int j = 0; j < kQK_K; ++j)
          y.qs[j] = int8_t(std::min(127, nearest_int(iscale * xb[j])));
        for (int g = 0; g < 16; ++g) {
          int s = 0;
          for (int l = 0; l < 16; ++l) s += y.qs[16 * g + l];
          y.bsums[g] = int16_t(s);
        }
        y.d = 1.f / iscale;
      }
      return;
    }
  }
}

float vec_dot_ref(TensorType t, int64_t n, const void* wv, const void* av) {
  const uint8_t* w = static_cast<const uint8_t*>(wv);
  int q[32];
  switch (t) {
    case TensorType::kF32: {
      const float* a = static_cast<const float*>(av);
      float s = 0;
      for (int64_t i = 0; i < n; ++i) s += reinterpret_cast<const float*>(w)[i] * a[i];
      return s;
    }
    case TensorType::kF16:
    case TensorType::kBF16: {
      const uint16_t* a = static_cast<const uint16_t*>(av);
      const uint16_t* x = reinterpret_cast<const uint16_t*>(w);
      float s = 0;
      for (int64_t i = 0; i < n; ++i)
        s += t == TensorType::kF16 ? gguf::fp16_to_fp32(x[i]) * gguf::fp16_to_fp32(a[i])
                                   : gguf::bf16_to_fp32(x[i]) * gguf::bf16_to_fp32(a[i]);
      return s;
    }
    case TensorType::kQ8_0:
    case TensorType::kQ4_0:
    case TensorType::kQ5_0: {
      const auto* a = static_cast<const BlockQ8_0*>(av);
      float s = 0;
      for (int64_t b = 0; b < n / kQK; ++b) {
        float d;
        if (t == TensorType::kQ8_0) {
          const auto& blk = reinterpret_cast<const BlockQ8_0*>(w)[b];
          for (int j = 0; j < 32; ++j) q[j] = blk.qs[j];
          d = gguf::fp16_to_fp32(blk.d);
        } else if (t == TensorType::kQ4_0) {
          const auto& blk = reinterpret_cast<const BlockQ4_0*>(w)[b];
          unpack_nib(blk, q);
          for (int j = 0; j < 32; ++j) q[j] -= 8;
          d = gguf::fp16_to_fp32(blk.d);
        } else {
          const auto& blk = reinterpret_cast<const BlockQ5_0*>(w)[b];
          unpack_5bit(blk, q);
          for (int j = 0; j < 32; ++j) q[j] -= 16;
          d = gguf::fp16_to_fp32(blk.d);
        }
        int sumi = 0;
        for (int j = 0; j < 32; ++j) sumi += q[j] * a[b].qs[j];
        s += float(sumi) * (d * gguf::fp16_to_fp32(a[b].d));
      }
      return s;
    }
    case TensorType::kQ4_1:
    case TensorType::kQ5_1: {
      const auto* a = static_cast<const BlockQ8_1*>(av);
      float s = 0;
      for (int64_t b = 0; b < n / kQK; ++b) {
        float d, m;
        if (t == TensorType::kQ4_1) {
          const auto& blk = reinterpret_cast<const BlockQ4_1*>(w)[b];
          unpack_nib(blk, q);
          d = gguf::fp16_to_fp32(blk.d), m = gguf::fp16_to_fp32(blk.m);
        } else {
          const auto& blk = reinterpret_cast<const BlockQ5_1*>(w)[b];
          unpack_5bit(blk, q);
          d = gguf::fp16_to_fp32(blk.d), m = gguf::fp16_to_fp32(blk.m);
        }
        int sumi = 0;
        for (int j = 0; j < 32; ++j) sumi += q[j] * a[b].qs[j];
        s += (d * gguf::fp16_to_fp32(a[b].d)) * float(sumi) + m * gguf::fp16_to_fp32(a[b].s);
      }
      return s;
    }
    case TensorType::kQ4_K:
    case TensorType::kQ5_K: {
      const auto* a = static_cast<const BlockQ8_K*>(av);
      const size_t bb = traits(t).block_bytes;
      uint8_t v[256];
      float s = 0;
      for (int64_t b = 0; b < n / kQK_K; ++b) {
        const uint8_t* bp = w + b * bb;
        const uint8_t* scales;
        uint16_t dh, mh;
        if (t == TensorType::kQ4_K) {
          const auto& blk = *reinterpret_cast<const BlockQ4_K*>(bp);
          unpack_q4k(blk, v);
          scales = blk.scales, dh = blk.d, mh = blk.dmin;
        } else {
          const auto& blk = *reinterpret_cast<const BlockQ5_K*>(bp);
          unpack_q5k(blk, v);
          scales = blk.scales, dh = blk.d, mh = blk.dmin;
        }
        int sumi = 0, summ = 0;
        for (int j = 0; j < 8; ++j) {
          int sc, mn;
          gguf::scale_min_k4(j, scales, sc, mn);
          int acc = 0;
          for (int l = 0; l < 32; ++l) acc += int(v[32 * j + l]) * a[b].qs[32 * j + l];
          sumi += sc * acc;
          summ += mn * (a[b].bsums[2 * j] + a[b].bsums[2 * j + 1]);
        }
        s += gguf::fp16_to_fp32(dh) * a[b].d * float(sumi) -
             gguf::fp16_to_fp32(mh) * a[b].d * float(summ);
      }
      return s;
    }
    case TensorType::kQ6_K: {
      const auto* a = static_cast<const BlockQ8_K*>(av);
      int8_t v[256];
      float s = 0;
      for (int64_t b = 0; b < n / kQK_K; ++b) {
        const auto& blk = reinterpret_cast<const BlockQ6_K*>(w)[b];
        unpack_q6k(blk, v);
        int sumi = 0;
        for (int g = 0; g < 16; ++g) {
          int acc = 0;
          for (int l = 0; l < 16; ++l) acc += int(v[16 * g + l]) * a[b].qs[16 * g + l];
          sumi += blk.scales[g] * acc;
        }
        s += gguf::fp16_to_fp32(blk.d) * a[b].d * float(sumi);
      }
      return s;
    }
    default:
      return 0.f;
  }
}

}  // namespace gavel::tensor
