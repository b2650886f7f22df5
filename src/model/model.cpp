#include "model/model.h"

#include <fmt/format.h>

namespace gavel::model {

Result<std::unique_ptr<Model>> load_llama(const gguf::File&, tensor::ThreadPool&);
Result<std::unique_ptr<Model>> load_qwen2(const gguf::File&, tensor::ThreadPool&);
Result<std::unique_ptr<Model>> load_qwen3(const gguf::File&, tensor::ThreadPool&);
Result<std::unique_ptr<Model>> load_qwen35(const gguf::File&, tensor::ThreadPool&);

namespace {
struct ArchEntry {
  const char* name;
  Result<std::unique_ptr<Model>> (*load)(const gguf::File&, tensor::ThreadPool&);
};
// One line per architecture.
constexpr ArchEntry kArchs[] = {
    {"llama", load_llama},
    {"qwen2", load_qwen2},
    {"qwen3", load_qwen3},
    {"qwen35", load_qwen35},
};
}  // namespace

Status check_tokens(std::span<const int32_t> tokens, int n_vocab) {
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= n_vocab)
      return Error{fmt::format("token id {} at index {} is outside the vocabulary (size {})",
                               tokens[i], i, n_vocab)};
  return Status::Ok();
}

Status Model::forward_decode(std::span<SequenceState* const> states,
                             std::span<const int32_t> tokens, float* logits) {
  const int row = 0;
  for (size_t i = 0; i < states.size(); ++i)
    GAVEL_TRY(forward(*states[i], tokens.subspan(i, 1), std::span(&row, 1),
                      logits + i * size_t(hparams().n_vocab)));
  return Status::Ok();
}

Result<std::unique_ptr<Model>> load(const gguf::File& file, tensor::ThreadPool& pool) {
  GAVEL_ASSIGN(const std::string arch, file.get_string("general.architecture"));
  for (const ArchEntry& e : kArchs)
    if (arch == e.name) return e.load(file, pool);
  std::string known;
  for (const ArchEntry& e : kArchs) known += std::string(known.empty() ? "" : ", ") + e.name;
  return Error{
      fmt::format("{}: unsupported architecture '{}' (supported: {})", file.path(), arch, known)};
}

}  // namespace gavel::model
