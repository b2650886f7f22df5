// This level's KernelSet. Constant-initialized (no code runs before main), so a binary holding
// AVX-512 kernels still starts on any x86-64 CPU.
#include <immintrin.h>

#include <type_traits>

#include "tensor/kernels/kernel_decls.h"

namespace gavel::tensor::GAVEL_ISA_NS {
namespace {

// Every entry returns with the upper halves of the vector registers clean: its callers are
// baseline (SSE) code, whose instructions a dirty upper state slows (the compiler's own
// vzeroupper is missing on some return paths; Q6_K decoding ran 3.5x slower at the AVX-512
// level for it, measured with bench/bench_kernels.cpp).
template <auto F>
struct Clean;
template <class R, class... A, R (*F)(A...)>
struct Clean<F> {
  static R call(A... a) {
    if constexpr (std::is_void_v<R>) {
      F(a...);
      _mm256_zeroupper();
    } else {
      R r = F(a...);
      _mm256_zeroupper();
      return r;
    }
  }
};

}  // namespace

extern const KernelSet kKernelSet;
constinit const KernelSet kKernelSet = {
#if defined(__AVX512F__)
    Isa::kAvx512,
    16,
#else
    Isa::kAvx2,
    8,
#endif
    // ggml's choices (llamafile_sgemm, ggml_tiled_min_batch, repack.cpp's q4_K_8x8 for rows % 8
    // and its GEMM over groups of 4) are the same at both levels.
    BatchRule{2, 8, 8, 4},
    Clean<dot_f32_ordered>::call,
    Clean<dot_f16_ordered>::call,
    Clean<matmul_f16_gemm_rows>::call,
    Clean<f16_to_f32_row>::call,
    Clean<f32_to_f16_row>::call,
    Clean<pv_f16_ordered>::call,
    Clean<exp_simd>::call,
    Clean<exp_ordered>::call,
    Clean<softmax_ordered>::call,
    Clean<silu_ordered>::call,
    Clean<swiglu_ordered>::call,
    Clean<quantize_act_row>::call,
    Clean<vec_dot>::call,
    Clean<vec_dot_multi>::call,
    Clean<vec_dot_rows>::call,
    Clean<q0_tiles_bytes>::call,
    Clean<pack_q0_tiles>::call,
    Clean<matmul_rows_tiled>::call,
    Clean<q8k_lanes_bytes>::call,
    Clean<pack_q8k_lanes>::call,
    Clean<matmul_q4k_lanes>::call,
    Clean<vec_dot_q4k_repacked>::call,
    Clean<vec_dot_q4k_repacked_gemv_multi>::call,
    Clean<vec_dot_q4k_repacked_gemm>::call,
    Clean<vec_dot_kquant_tiled>::call,
    Clean<vec_dot_kquant_tiled_multi>::call,
    Clean<rope_norm>::call,
    Clean<rope_neox>::call,
    Clean<delta_rule_step>::call,
    Clean<ssm_conv_token>::call,
};

}  // namespace gavel::tensor::GAVEL_ISA_NS
