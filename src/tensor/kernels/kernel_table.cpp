// This level's KernelSet. Constant-initialized (no code runs before main), so a binary holding
// AVX-512 kernels still starts on any x86-64 CPU.
#include "tensor/kernels/kernel_decls.h"

namespace gavel::tensor::GAVEL_ISA_NS {

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
    dot_f32_ordered,
    dot_f16_ordered,
    matmul_f16_gemm_rows,
    f16_to_f32_row,
    f32_to_f16_row,
    pv_f16_ordered,
    exp_simd,
    exp_ordered,
    softmax_ordered,
    silu_ordered,
    swiglu_ordered,
    quantize_act_row,
    vec_dot,
    vec_dot_multi,
    matmul_rows_tiled,
    q8k_lanes_bytes,
    pack_q8k_lanes,
    matmul_q4k_lanes,
    vec_dot_q4k_repacked,
    vec_dot_q4k_repacked_gemm,
    vec_dot_kquant_tiled,
    vec_dot_kquant_tiled_multi,
    rope_norm,
    rope_neox,
    delta_rule_step,
    ssm_conv_token,
};

}  // namespace gavel::tensor::GAVEL_ISA_NS
