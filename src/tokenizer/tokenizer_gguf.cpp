// Reading the tokenizer.ggml.* metadata of a GGUF file into a TokenizerSpec.
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace gavel {
namespace {

Result<std::optional<int32_t>> optional_id(const gguf::File& f, std::string_view key) {
  if (!f.has(key)) return std::optional<int32_t>{};
  GAVEL_ASSIGN(const int64_t v, f.get_int(key));
  if (v < 0 || v > INT32_MAX) return std::optional<int32_t>{kNoToken};
  return std::optional<int32_t>{static_cast<int32_t>(v)};
}

Result<std::optional<bool>> optional_bool(const gguf::File& f, std::string_view key) {
  if (!f.has(key)) return std::optional<bool>{};
  GAVEL_ASSIGN(const bool v, f.get_bool(key));
  return std::optional<bool>{v};
}

}  // namespace

Result<TokenizerSpec> Tokenizer::spec_from_gguf(const gguf::File& f) {
  const std::string where = f.path().empty() ? std::string("GGUF") : f.path();
  if (!f.has("tokenizer.ggml.model")) {
    return Error{where + ": no tokenizer (key tokenizer.ggml.model missing)"};
  }
  GAVEL_ASSIGN(const std::string model, f.get_string("tokenizer.ggml.model"));
  if (model != "gpt2") {
    return Error{where + ": unsupported tokenizer model '" + model +
                 "' (tokenizer.ggml.model); gavel supports byte-level BPE ('gpt2') only"};
  }
  TokenizerSpec spec;
  if (f.has("tokenizer.ggml.pre")) {
    GAVEL_ASSIGN(spec.pre, f.get_string("tokenizer.ggml.pre"));
  }
  GAVEL_ASSIGN(spec.tokens, f.get_string_array("tokenizer.ggml.tokens"));
  if (f.has("tokenizer.ggml.token_type")) {
    GAVEL_ASSIGN(const std::vector<int64_t> types, f.get_int_array("tokenizer.ggml.token_type"));
    spec.token_types.assign(types.begin(), types.end());
  }
  if (!f.has("tokenizer.ggml.merges")) {
    return Error{where + ": BPE vocabulary without merges (tokenizer.ggml.merges missing)"};
  }
  GAVEL_ASSIGN(spec.merges, f.get_string_array("tokenizer.ggml.merges"));
  GAVEL_ASSIGN(spec.bos, optional_id(f, "tokenizer.ggml.bos_token_id"));
  GAVEL_ASSIGN(spec.eos, optional_id(f, "tokenizer.ggml.eos_token_id"));
  GAVEL_ASSIGN(spec.eot, optional_id(f, "tokenizer.ggml.eot_token_id"));
  GAVEL_ASSIGN(spec.eom, optional_id(f, "tokenizer.ggml.eom_token_id"));
  GAVEL_ASSIGN(spec.unk, optional_id(f, "tokenizer.ggml.unknown_token_id"));
  GAVEL_ASSIGN(spec.sep, optional_id(f, "tokenizer.ggml.seperator_token_id"));
  GAVEL_ASSIGN(spec.pad, optional_id(f, "tokenizer.ggml.padding_token_id"));
  GAVEL_ASSIGN(spec.add_bos, optional_bool(f, "tokenizer.ggml.add_bos_token"));
  GAVEL_ASSIGN(spec.add_eos, optional_bool(f, "tokenizer.ggml.add_eos_token"));
  return spec;
}

Result<Tokenizer> Tokenizer::from_gguf(const gguf::File& f) {
  GAVEL_ASSIGN(TokenizerSpec spec, spec_from_gguf(f));
  auto tok = create(std::move(spec));
  if (!tok.ok())
    return Error{(f.path().empty() ? std::string("GGUF") : f.path()) + ": " + tok.message()};
  return tok;
}

}  // namespace gavel
