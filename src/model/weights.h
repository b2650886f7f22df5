// Helpers for declaring weights: look a tensor up, check its shape and type, and hand out an
// in-place view. Errors name the tensor, the expected shape and the actual one.
#pragma once

#include <string>
#include <vector>

#include "gavel/status.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "tensor/matmul.h"

namespace gavel::model {

// A 2-D weight {cols, rows} in any supported block type.
Result<tensor::Matrix> matrix(const gguf::File& f, const std::string& name, int64_t cols,
                              int64_t rows);
// A 1-D tensor of n elements converted to f32 (norm weights, biases: small).
Result<std::vector<float>> vector_f32(const gguf::File& f, const std::string& name, int64_t n);
// Hyperparameters under the "<arch>." prefix; head_dim from attention.key_length if present.
Result<HParams> read_hparams(const gguf::File& f);

}  // namespace gavel::model
