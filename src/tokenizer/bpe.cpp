#include "tokenizer/bpe.h"

#include <algorithm>
#include <utility>

#include "tokenizer/unicode.h"

namespace gavel::tok {
namespace {

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// Min-heap order of llama.cpp's llm_bigram_bpe::comparator: lower rank first, then leftmost.
struct BigramAfter {
  bool operator()(const BpeScratch::Bigram& l, const BpeScratch::Bigram& r) const {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
  }
};

}  // namespace

Result<Vocab> Vocab::create(std::vector<std::string> tokens, std::vector<uint32_t> attrs,
                            const std::vector<std::string>& merges) {
  Vocab v;
  v.tokens = std::move(tokens);
  v.attrs = std::move(attrs);
  size_t slots = 16;
  while (slots < 2 * v.tokens.size()) slots *= 2;
  v.index.assign(slots, -1);
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.tokens[i].empty()) v.tokens[i] = "[EMPTY_" + std::to_string(i) + "]";
    const size_t at = v.slot_of(v.tokens[i]);
    if (v.index[at] >= 0)
      return Error{"duplicate token in vocabulary: '" + v.tokens[i] + "' has ids " +
                   std::to_string(v.index[at]) + " and " + std::to_string(i)};
    v.index[at] = static_cast<int32_t>(i);
  }
  v.merges_by_id.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) continue;  // llama.cpp keeps it as ("",""), which never matches
    const std::string_view left(m.data(), sp);
    const std::string_view right(m.data() + sp + 1, m.size() - sp - 1);
    const int32_t l = v.find(left), r = v.find(right);
    if (l >= 0 && r >= 0) {
      joined.assign(left);
      joined.append(right);
      v.merges_by_id.emplace(pair_key(l, r), Merge{static_cast<int>(rank), v.find(joined)});
    } else {
      v.merges_by_text.emplace(m, static_cast<int>(rank));
    }
  }
  v.byte_symbol.resize(256);
  for (int b = 0; b < 256; ++b) v.byte_symbol[b] = v.find(byte_to_unicode(static_cast<uint8_t>(b)));
  return v;
}

void Vocab::encode_word(std::string_view word, bool ignore_merges, BpeScratch& s,
                        std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges) {
    const int32_t id = find(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  auto& syms = s.symbols;
  syms.clear();
  for (uint32_t off = 0; off < word.size();) {
    const uint32_t len = static_cast<uint32_t>(
        std::min<size_t>(utf8_seq_len(static_cast<uint8_t>(word[off])), word.size() - off));
    const int idx = static_cast<int>(syms.size());
    syms.push_back(
        {idx - 1, off + len == word.size() ? -1 : idx + 1, off, len, find(word.substr(off, len))});
    off += len;
  }

  auto text_of = [&](const BpeScratch::Symbol& sym) { return word.substr(sym.start, sym.len); };
  // Rank of merging symbols a and b and the id of the result, or rank -1.
  auto lookup = [&](int a, int b, int32_t* merged) -> int {
    const auto& l = syms[a];
    const auto& r = syms[b];
    if (l.id >= 0 && r.id >= 0) {
      auto it = merges_by_id.find(pair_key(l.id, r.id));
      if (it == merges_by_id.end()) return -1;
      *merged = it->second.merged;
      return it->second.rank;
    }
    if (merges_by_text.empty()) return -1;
    s.key.assign(text_of(l));
    s.key.push_back(' ');
    s.key.append(text_of(r));
    auto it = merges_by_text.find(std::string_view(s.key));
    if (it == merges_by_text.end()) return -1;
    *merged = find(word.substr(l.start, l.len + r.len));
    return it->second;
  };
  auto& heap = s.heap;
  heap.clear();
  auto push = [&](int a, int b) {
    if (a < 0 || b < 0) return;
    int32_t merged = -1;
    const int rank = lookup(a, b, &merged);
    if (rank < 0) return;
    heap.push_back({a, b, rank, syms[a].len, syms[b].len});
    std::push_heap(heap.begin(), heap.end(), BigramAfter{});
  };
  for (int i = 1; i < static_cast<int>(syms.size()); ++i) push(i - 1, i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), BigramAfter{});
    const BpeScratch::Bigram bg = heap.back();
    heap.pop_back();
    auto& l = syms[bg.left];
    auto& r = syms[bg.right];
    // Stale entry: one side was merged away or has grown since the pair was queued.
    if (l.len == 0 || r.len == 0 || l.len != bg.left_len || r.len != bg.right_len) continue;
    int32_t merged = -1;
    lookup(bg.left, bg.right, &merged);
    l.len += r.len;
    l.id = merged;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = bg.left;
    push(l.prev, bg.left);
    push(bg.left, l.next);
  }

  for (int i = 0; i != -1 && !syms.empty(); i = syms[i].next) {
    const auto& sym = syms[i];
    if (sym.len == 0) continue;
    if (sym.id >= 0) {
      out.push_back(sym.id);
      continue;
    }
    // Not a vocab entry: llama.cpp looks up each single byte of the (encoded) text.
    for (uint32_t k = 0; k < sym.len; ++k) {
      const int32_t id = find(word.substr(sym.start + k, 1));
      if (id >= 0) out.push_back(id);
    }
  }
}

}  // namespace gavel::tok
