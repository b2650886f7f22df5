// IEEE half and bfloat16 conversions. Uses F16C where the translation unit is compiled with it
// (the kernels, tensor/kernels/), else a bit-exact software version. The functions have
// internal linkage on purpose: an out-of-line copy compiled with F16C must never be shared with
// code that runs on CPUs without it (tensor/kernels/isa_namespace.h).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace gavel::tensor {

static inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
static inline uint32_t bits_from_f32(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

static inline float fp16_to_f32_soft(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    if (mant == 0) return f32_from_bits(sign);
    // Subnormal: value = mant * 2^-24.
    float v = float(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (mant << 13));
  return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

static inline uint16_t f32_to_fp16_soft(float f) {
  const uint32_t x = bits_from_f32(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t ax = x & 0x7fffffff;
  if (ax >= 0x7f800000u) return uint16_t(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
  if (ax >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // rounds to >= 65520: inf
  if (ax < 0x38800000u) {                                 // result is subnormal or zero
    // Round-to-nearest-even of ax * 2^24 as an integer.
    const float v = f32_from_bits(ax) * 16777216.0f;
    uint32_t r = uint32_t(v);
    const float frac = v - float(r);
    if (frac > 0.5f || (frac == 0.5f && (r & 1))) ++r;
    return uint16_t(sign | r);
  }
  uint32_t m = ax + 0xc8000000u;  // rebias exponent (-112 << 23)
  m += 0xfff + ((m >> 13) & 1);   // round to nearest even
  return uint16_t(sign | (m >> 13));
}

static inline float fp16_to_f32(uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);
#else
  return fp16_to_f32_soft(h);
#endif
}

static inline uint16_t f32_to_fp16(float f) {
#if defined(__F16C__)
  return _cvtss_sh(f, 0);
#else
  return f32_to_fp16_soft(f);
#endif
}

static inline float bf16_to_f32(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }

// Round to nearest even, NaN kept quiet (ggml_compute_fp32_to_bf16 semantics).
static inline uint16_t f32_to_bf16(float f) {
  uint32_t u = bits_from_f32(f);
  if ((u & 0x7fffffff) > 0x7f800000u) return uint16_t((u >> 16) | 64);
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}

}  // namespace gavel::tensor
