// Byte-level BPE tokenizer (GGUF `tokenizer.ggml.model = "gpt2"`) that reproduces llama.cpp's
// llama_tokenize / llama_token_to_piece exactly: special-token partitioning, per-pre-type regex
// splitting, GPT-2 byte mapping, rank-ordered BPE merges (ignore_merges where llama.cpp sets it)
// and BOS/EOS handling. No NFC normalisation (llama.cpp applies none).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gavel/backend.h"
#include "gavel/status.h"

namespace gavel::gguf {
class File;
}

namespace gavel {

constexpr int32_t kNoToken = -1;

// GGUF tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Everything a tokenizer is built from (the GGUF keys tokenizer.ggml.*, as plain data).
struct TokenizerSpec {
  std::vector<std::string> tokens;   // index = id, byte-level encoded text
  std::vector<int32_t> token_types;  // TokenType values; empty = all normal
  std::vector<std::string> merges;   // "left right", rank = index
  std::string pre;                   // tokenizer.ggml.pre ("" = "default")
  // Special ids: nullopt = llama.cpp's default for BPE vocabs (bos = eos = 11, others none).
  std::optional<int32_t> bos, eos, eot, eom, unk, sep, pad;
  std::optional<bool> add_bos, add_eos;  // nullopt = the pre-type's default
};

class Tokenizer {
 public:
  static Result<Tokenizer> create(TokenizerSpec spec);
  static Result<Tokenizer> from_gguf(const gguf::File& file);
  static Result<TokenizerSpec> spec_from_gguf(const gguf::File& file);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // add_special: prepend BOS / append EOS when the vocab says so (add_bos / add_eos).
  // parse_special: also match CONTROL tokens written in the text (user-defined tokens are
  // always matched).
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;
  // encode(text, add_special, parse_special=true), except that a control (or unknown) token
  // whose text overlaps a range of `as_text` is not matched there: that text is tokenized with
  // the text around it, as parse_special=false would (special-token text that judged data
  // brought into a rendered prompt). No ranges: the same ids as parse_special=true.
  std::vector<int32_t> encode(std::string_view text, bool add_special,
                              std::span<const TextSpan> as_text) const;
  // Texts of the tokens matched only when parse_special is on (control and unknown tokens),
  // longest first.
  std::vector<std::string> parsed_special_texts() const;

  // Concatenated pieces (llama_token_to_piece); control tokens render as their text only when
  // `special` is true. No clean-up of spaces.
  std::string decode(std::span<const int32_t> ids, bool special = false) const;
  // Detokenized text of one token, control tokens included (empty for unused/invalid ids).
  std::string token_text(int32_t id) const;
  // Raw vocabulary string of a token (byte-level encoded form).
  const std::string& token_string(int32_t id) const;

  int32_t n_vocab() const;
  int32_t bos() const;
  int32_t eos() const;
  int32_t eot() const;
  int32_t eom() const;
  int32_t pad() const;
  bool add_bos() const;
  bool add_eos() const;
  bool is_eog(int32_t id) const;
  bool is_control(int32_t id) const;
  const std::vector<int32_t>& eog_ids() const;
  int32_t find_token(std::string_view text) const;  // kNoToken when absent
  const std::string& pre() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gavel
