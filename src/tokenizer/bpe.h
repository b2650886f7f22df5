// Vocabulary storage and the BPE merge loop (llama.cpp's llm_tokenizer_bpe_session semantics:
// lowest merge rank first, ties to the leftmost pair; a final symbol that is not a vocab entry
// falls back to its single bytes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gavel/status.h"

namespace gavel::tok {

// llama_token_attr bits.
struct Attr {
  enum : uint32_t {
    kUndefined = 0,
    kUnknown = 1u << 0,
    kUnused = 1u << 1,
    kNormal = 1u << 2,
    kControl = 1u << 3,
    kUserDefined = 1u << 4,
    kByte = 1u << 5,
    kNormalized = 1u << 6,
    kLstrip = 1u << 7,
    kRstrip = 1u << 8,
    kSingleWord = 1u << 9,
  };
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Reusable buffers for encode_word (one per encode call).
struct BpeScratch {
  struct Symbol {
    int prev, next;
    uint32_t start, len;
    int32_t id;  // vocab id of the symbol's text, -1 if none
  };
  struct Bigram {
    int left, right;
    int rank;
    uint32_t left_len, right_len;
  };
  std::vector<Symbol> symbols;
  std::vector<Bigram> heap;
  std::string key;
};

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<uint32_t> attrs;
  // Open-addressing index of `tokens` (ids; -1 = empty slot, at most half full): 4 bytes a
  // slot where a node map kept a second copy of every token (about 8 MiB for Qwen's 151k).
  std::vector<int32_t> index;
  struct Merge {
    int rank;
    int32_t merged;  // id of left+right, -1 if not in the vocab
  };
  std::unordered_map<uint64_t, Merge> merges_by_id;  // both sides are vocab entries
  // Merges with a side that is no vocab entry, keyed "left right" (rare; kept for fidelity).
  std::unordered_map<std::string, int, StringHash, std::equal_to<>> merges_by_text;
  std::vector<int32_t> byte_symbol;  // id of each byte's stand-in codepoint, -1 if absent

  static Result<Vocab> create(std::vector<std::string> tokens, std::vector<uint32_t> attrs,
                              const std::vector<std::string>& merges);

  int32_t find(std::string_view text) const { return index.empty() ? -1 : index[slot_of(text)]; }
  // The slot of `text` in `index`: the one holding its id, else the empty one where it would go.
  size_t slot_of(std::string_view text) const {
    const size_t mask = index.size() - 1;
    size_t i = StringHash{}(text)&mask;
    while (index[i] >= 0 && tokens[size_t(index[i])] != text) i = (i + 1) & mask;
    return i;
  }

  // BPE-encodes one pre-tokenized, byte-level encoded word, appending ids to out.
  void encode_word(std::string_view word, bool ignore_merges, BpeScratch& s,
                   std::vector<int32_t>& out) const;
};

}  // namespace gavel::tok
