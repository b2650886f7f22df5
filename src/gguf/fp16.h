// IEEE half and bfloat16 conversions, exact, as ggml and the F16C instructions do them.
//
// fp16_to_fp32 / fp32_to_fp16 use F16C where the translation unit is compiled with it (the
// tensor kernels, src/tensor/kernels/), else the scalar definitions below, which give the same
// bits for every input (tests/tensor/test_ops.cpp checks all 2^16 halves against F16C).
// Everything here has internal linkage on purpose: an out-of-line copy compiled with F16C or
// AVX-512 must never be shared with code that runs on CPUs without them
// (src/tensor/kernels/isa_namespace.h).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace gavel::gguf {

static inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
static inline uint32_t bits_from_f32(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// Scalar definitions (the reference of the F16C forms).
static inline float fp16_to_fp32_scalar(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t mant = h & 0x3FF;
  if (exp == 0) {
    if (mant == 0) return f32_from_bits(sign);
    // Subnormal: mant * 2^-24, exact in f32.
    return f32_from_bits(bits_from_f32(static_cast<float>(mant) * 0x1p-24f) | sign);
  }
  if (exp == 0x1F) return f32_from_bits(sign | 0x7F800000u | (mant << 13));
  return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

// Rounds to nearest-even, producing subnormals, inf and NaN as needed (as F16C and numpy).
static inline uint16_t fp32_to_fp16_scalar(float f) {
  uint32_t x = bits_from_f32(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  x &= 0x7FFFFFFFu;
  if (x > 0x7F800000u)  // NaN: quiet it, keep the top payload bits
    return static_cast<uint16_t>(sign | 0x7E00 | ((x >> 13) & 0x3FF));
  if (x >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00);  // rounds to inf
  if (x < 0x38800000u) {
    // Below the smallest normal half: adding 0.5 lines the mantissa up with the half
    // subnormal grid and the FPU's round-to-nearest-even does the rounding.
    const uint32_t ab = bits_from_f32(f32_from_bits(x) + 0.5f);
    return static_cast<uint16_t>(sign | (ab - 0x3F000000u));
  }
  const uint32_t odd = (x >> 13) & 1;
  x += 0xC8000FFFu + odd;  // rebias exponent (-112 << 23) and round to nearest-even
  return static_cast<uint16_t>(sign | (x >> 13));
}

static inline float fp16_to_fp32(uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);
#else
  return fp16_to_fp32_scalar(h);
#endif
}

static inline uint16_t fp32_to_fp16(float f) {
#if defined(__F16C__)
  return _cvtss_sh(f, 0);
#else
  return fp32_to_fp16_scalar(f);
#endif
}

static inline float bf16_to_fp32(uint16_t h) { return f32_from_bits(uint32_t{h} << 16); }

// Round to nearest-even, NaN stays NaN (ggml_compute_fp32_to_bf16).
static inline uint16_t fp32_to_bf16(float f) {
  const uint32_t u = bits_from_f32(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 64);
  return static_cast<uint16_t>((u + (0x7FFFu + ((u >> 16) & 1))) >> 16);
}

}  // namespace gavel::gguf
