// Pre-tokenization: splits text into words before BPE, exactly as llama.cpp does for each
// `tokenizer.ggml.pre` type. Each pre-type is a sequence of regexes; every regex splits each
// chunk left by the previous one into matches and the gaps between them (HF Split/Isolated).
//
// llama.cpp matches \p{..} classes on a "collapsed" text in which each codepoint >= 128 is
// replaced by one byte naming its category (letter, number, ...), non-ASCII whitespace by \v;
// we do the same with PCRE2 in byte mode, so category and \s semantics equal llama.cpp's
// (including its quirks, e.g. \p{S} not matching '~'). Regexes without \p{..} run on the
// codepoints (PCRE2 UTF mode).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gavel/status.h"

namespace gavel::tok {

// What a llama.cpp pre-tokenizer name implies (see llama-vocab.cpp, llama_vocab::impl::load).
struct PreTokenizerSpec {
  std::string name;                  // canonical name, e.g. "llama3", "qwen2"
  std::vector<std::string> regexes;  // applied in order
  bool ignore_merges = false;        // emit a whole word directly when it is a vocab entry
  bool add_bos = false;              // default for add_bos when the vocab does not say
  bool clean_spaces = true;          // llama.cpp detokenizer clean-up (not applied by default)
  bool bos_is_null = false;          // pre-types that have no BOS (chatglm)
};

// Looks up a `tokenizer.ggml.pre` value ("" = llama.cpp's "default"). Unknown names are an
// error listing the supported ones.
Result<PreTokenizerSpec> pre_tokenizer_spec(std::string_view pre);

// Rewrites \p{L} etc. into byte classes over the collapsed text (exposed for tests).
Result<std::string> collapse_regex(std::string_view regex);

class RegexSplitter {
 public:
  static Result<RegexSplitter> create(const std::vector<std::string>& regexes);

  // Splits text into words. Each word is appended to `words` byte-level encoded (every UTF-8
  // byte replaced by its GPT-2 stand-in codepoint), the form vocab entries and merges use.
  // Malformed UTF-8 bytes are first replaced by U+FFFD, as llama.cpp does.
  void split(std::string_view text, std::vector<std::string>& words) const;

  // Same split, but returns the raw UTF-8 words (after U+FFFD replacement); for tests/debug.
  std::vector<std::string> split_raw(std::string_view text) const;

 private:
  struct Compiled;
  std::vector<std::shared_ptr<const Compiled>> regexes_;
  bool need_collapsed_ = false;
  bool need_utf_ = false;

  std::vector<size_t> split_lengths(const std::vector<uint32_t>& cpts) const;
};

}  // namespace gavel::tok
