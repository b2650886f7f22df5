#include "model/weights.h"

#include <fmt/format.h>

#include "gguf/quants.h"
#include "tensor/quants.h"

namespace gavel::model {

namespace {
std::string shape_str(const std::vector<int64_t>& ne) {
  std::string s = "{";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}
}  // namespace

Result<tensor::Matrix> matrix(const gguf::File& f, const std::string& name, int64_t cols,
                              int64_t rows) {
  const gguf::TensorInfo* t = f.tensor(name);
  if (!t) return Error{fmt::format("{}: missing tensor '{}'", f.path(), name)};
  if (t->ne.size() != 2 || t->ne[0] != cols || t->ne[1] != rows)
    return Error{fmt::format("{}: tensor '{}' has shape {}, expected {{{}, {}}}", f.path(), name,
                             shape_str(t->ne), cols, rows)};
  const tensor::TypeTraits tr = tensor::traits(t->type);
  if (!tr.supported)
    return Error{fmt::format("{}: tensor '{}' has unsupported type {}", f.path(), name,
                             gguf::type_name(t->type))};
  if (cols % tr.block != 0)
    return Error{fmt::format("{}: tensor '{}' row length {} is not a multiple of the {} block",
                             f.path(), name, cols, gguf::type_name(t->type))};
  tensor::Matrix m;
  m.type = t->type;
  m.data = t->data;
  m.rows = rows;
  m.cols = cols;
  m.row_bytes = gguf::row_bytes(t->type, cols);
  if (m.row_bytes * size_t(rows) > t->nbytes)
    return Error{fmt::format("{}: tensor '{}' data is truncated", f.path(), name)};
  return m;
}

Result<std::vector<float>> vector_f32(const gguf::File& f, const std::string& name, int64_t n) {
  const gguf::TensorInfo* t = f.tensor(name);
  if (!t) return Error{fmt::format("{}: missing tensor '{}'", f.path(), name)};
  if (t->n_elements() != n)
    return Error{fmt::format("{}: tensor '{}' has shape {}, expected {} elements", f.path(), name,
                             shape_str(t->ne), n)};
  std::vector<float> v(static_cast<size_t>(n));
  // Norm weights, biases and other per-channel vectors are stored as floats by every converter
  // (llama.cpp keeps 1-D tensors in F32); a quantized one is a broken or hand-made file.
  if (t->type != gguf::TensorType::kF32 && t->type != gguf::TensorType::kF16 &&
      t->type != gguf::TensorType::kBF16)
    return Error{fmt::format("{}: tensor '{}' has type {}; a 1-D weight must be F32, F16 or BF16",
                             f.path(), name, gguf::type_name(t->type))};
  const tensor::TypeTraits tr = tensor::traits(t->type);
  if (!tr.supported || n % tr.block != 0 || gguf::row_bytes(t->type, n) > t->nbytes ||
      !gguf::dequantize_row(t->type, t->data, v.data(), n).ok())
    return Error{fmt::format("{}: tensor '{}' has unsupported type {}", f.path(), name,
                             gguf::type_name(t->type))};
  return v;
}

Result<HParams> read_hparams(const gguf::File& f) {
  HParams h;
  GAVEL_ASSIGN(h.arch, f.get_string("general.architecture"));
  const std::string p = h.arch + ".";
  auto get_i = [&](const char* key, int& out) -> Status {
    GAVEL_ASSIGN(const int64_t v, f.get_int(p + key));
    if (v <= 0 || v > (int64_t(1) << 30))
      return Error{fmt::format("{}: {}{} = {} is out of range", f.path(), p, key, v)};
    out = int(v);
    return Status::Ok();
  };
  GAVEL_TRY(get_i("embedding_length", h.n_embd));
  GAVEL_TRY(get_i("block_count", h.n_layer));
  GAVEL_TRY(get_i("attention.head_count", h.n_head));
  GAVEL_TRY(get_i("feed_forward_length", h.n_ff));
  GAVEL_TRY(get_i("context_length", h.n_ctx_train));
  h.n_head_kv = h.n_head;
  if (f.has(p + "attention.head_count_kv"))
    GAVEL_TRY(get_i("attention.head_count_kv", h.n_head_kv));
  h.head_dim = h.n_embd / h.n_head;
  if (f.has(p + "attention.key_length")) GAVEL_TRY(get_i("attention.key_length", h.head_dim));
  h.n_rot = h.head_dim;
  if (f.has(p + "rope.dimension_count")) GAVEL_TRY(get_i("rope.dimension_count", h.n_rot));
  GAVEL_ASSIGN(const double eps, f.get_float(p + "attention.layer_norm_rms_epsilon"));
  // NaN or a negative epsilon turns every norm into NaN, and the output into a flat distribution.
  if (!(eps > 0 && eps < 1))
    return Error{fmt::format("{}: {}attention.layer_norm_rms_epsilon = {} must be in (0, 1)",
                             f.path(), p, eps)};
  h.rms_eps = float(eps);
  if (f.has(p + "rope.freq_base")) {
    GAVEL_ASSIGN(const double base, f.get_float(p + "rope.freq_base"));
    if (!(base > 0 && base <= 1e12))
      return Error{
          fmt::format("{}: {}rope.freq_base = {} must be in (0, 1e12]", f.path(), p, base)};
    h.rope_base = float(base);
  }
  if (h.n_head % h.n_head_kv != 0)
    return Error{fmt::format("{}: head_count {} is not a multiple of head_count_kv {}", f.path(),
                             h.n_head, h.n_head_kv)};
  if (h.head_dim <= 0)
    return Error{fmt::format("{}: head dimension {} (embedding_length {} / head_count {})",
                             f.path(), h.head_dim, h.n_embd, h.n_head)};
  if (h.n_rot > h.head_dim || h.n_rot % 2 != 0)
    return Error{fmt::format("{}: rope.dimension_count {} invalid for head dim {}", f.path(),
                             h.n_rot, h.head_dim)};
  const gguf::TensorInfo* emb = f.tensor("token_embd.weight");
  if (!emb || emb->ne.size() != 2)
    return Error{fmt::format("{}: missing or malformed tensor 'token_embd.weight'", f.path())};
  if (emb->ne[1] <= 0 || emb->ne[1] > (int64_t(1) << 30))
    return Error{fmt::format("{}: token_embd.weight has {} rows (the vocabulary size)", f.path(),
                             emb->ne[1])};
  h.n_vocab = int(emb->ne[1]);
  return h;
}

}  // namespace gavel::model
