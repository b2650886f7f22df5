// Y = X · Wᵀ for a weight matrix stored in any supported block format, read in place.
// The activation rows are first converted to the weight type's activation format (Q8_0 /
// Q8_1 / Q8_K / F16 / BF16 / F32, as ggml does), then every output row chunk is computed by
// one thread for a whole tile of tokens, so each weight block is loaded once per tile.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/quant_types.h"
#include "tensor/thread_pool.h"

namespace gavel::tensor {

// A 2-D weight: `rows` rows of `cols` elements, each row `row_bytes` long (GGUF {cols, rows}).
struct Matrix {
  TensorType type = TensorType::kF32;
  const uint8_t* data = nullptr;
  int64_t rows = 0, cols = 0;
  size_t row_bytes = 0;
};

// Activations converted once for one or more matmuls that share the same input.
struct PackedInput {
  ActType act = ActType::kF32;
  int64_t n_tok = 0, cols = 0;
  size_t row_bytes = 0;
  std::vector<uint8_t> data;
  // kF16 only: the same fp16 values as floats (n_tok x cols), for the F16 GEMM tiles.
  std::vector<float> f32;
};

void pack_input(ThreadPool& pool, ActType act, const float* x, int64_t ldx, int64_t n_tok,
                int64_t cols, PackedInput& out);

// How the kernels (and so the float orders) are chosen. llama.cpp picks them by the number of
// tokens in a batch (tensor/quants.h, BatchRule).
enum class KernelChoice {
  kBatch,     // as llama.cpp for one batch of in.n_tok tokens (prefill)
  kPerToken,  // every token as a batch of one: the bits of one-token decoding, for each of
              // many sequences decoded together (batch invariance)
};

// y[t * ldy + r] = dot(W row r, input row t) for all rows r and tokens t.
void matmul_packed(ThreadPool& pool, const Matrix& w, const PackedInput& in, float* y, int64_t ldy,
                   KernelChoice choice = KernelChoice::kBatch);

// Convenience: pack + multiply.
void matmul(ThreadPool& pool, const Matrix& w, const float* x, int64_t ldx, int64_t n_tok, float* y,
            int64_t ldy, PackedInput& scratch);

}  // namespace gavel::tensor
