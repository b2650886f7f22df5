#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace gavel {
namespace {

using tok::Attr;

uint32_t attr_from_type(int32_t type) {
  switch (static_cast<TokenType>(type)) {
    case TokenType::kNormal:
      return Attr::kNormal;
    case TokenType::kUnknown:
      return Attr::kUnknown;
    case TokenType::kControl:
      return Attr::kControl;
    case TokenType::kUserDefined:
      return Attr::kUserDefined;
    case TokenType::kUnused:
      return Attr::kUnused;
    case TokenType::kByte:
      return Attr::kByte;
    default:
      return Attr::kUndefined;
  }
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Token texts llama.cpp recognises by name (llama_vocab::impl::load).
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>",        "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>",   "<EOT>",      "_<EOT>",  "[EOT]",         "<｜end▁of▁sentence｜>",
    "<end_of_utterance>"};
constexpr std::string_view kFimPreTexts[] = {"<|fim_prefix|>",  "<fim-prefix>", "<fim_prefix>",
                                             "<｜fim▁begin｜>", "<PRE>",        "▁<PRE>",
                                             "<|code_prefix|>", "<|prefix|>"};
constexpr std::string_view kFimSufTexts[] = {"<|fim_suffix|>",  "<fim-suffix>", "<fim_suffix>",
                                             "<｜fim▁hole｜>",  "<SUF>",        "▁<SUF>",
                                             "<|code_suffix|>", "<|suffix|>"};
constexpr std::string_view kFimMidTexts[] = {"<|fim_middle|>",  "<fim-middle>", "<fim_middle>",
                                             "<｜fim▁end｜>",   "<MID>",        "▁<MID>",
                                             "<|code_middle|>", "<|middle|>"};
constexpr std::string_view kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
                                             "[PAD]"};
constexpr std::string_view kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                             "<REPO>", "<reponame>"};
constexpr std::string_view kFimSepTexts[] = {"<|file_sep|>"};
constexpr std::string_view kEogTexts[] = {"<|eot_id|>",
                                          "<|im_end|>",
                                          "<|end|>",
                                          "<|return|>",
                                          "<|call|>",
                                          "<|flush|>",
                                          "<|calls|>",
                                          "<end_of_turn>",
                                          "<|endoftext|>",
                                          "</s>",
                                          "<|eom_id|>",
                                          "<EOT>",
                                          "_<EOT>",
                                          "[EOT]",
                                          "[EOS]",
                                          "<|end_of_text|>",
                                          "<end_of_utterance>",
                                          "<eos>",
                                          "<turn|>",
                                          "<|tool_response>",
                                          "<｜end▁of▁sentence｜>",
                                          "[e~["};

std::string hex_byte(uint8_t b) {
  static constexpr char kHex[] = "0123456789abcdef";
  return {kHex[b >> 4], kHex[b & 15]};
}

}  // namespace

struct Tokenizer::Impl {
  tok::Vocab vocab;
  tok::PreTokenizerSpec pre;
  tok::RegexSplitter splitter;
  int32_t bos = 11, eos = 11, eot = kNoToken, eom = kNoToken, unk = kNoToken, sep = kNoToken,
          pad = kNoToken;
  bool add_bos = false, add_eos = false;
  std::vector<int32_t> specials;    // CONTROL/USER_DEFINED/UNKNOWN ids, longest text first
  std::vector<int32_t> eog;         // sorted
  std::vector<std::string> pieces;  // detokenized text per id (special = true)

  std::string make_piece(int32_t id) const;
  void partition(std::string_view text, bool parse_special, std::span<const TextSpan> as_text,
                 std::vector<std::pair<int32_t, std::string_view>>& out) const;
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special,
                              std::span<const TextSpan> as_text) const;
};

std::string Tokenizer::Impl::make_piece(int32_t id) const {
  const uint32_t attr = vocab.attrs[id];
  const std::string& text = vocab.tokens[id];
  if (attr & (Attr::kUnknown | Attr::kControl | Attr::kUserDefined)) return text;
  if (attr & Attr::kNormal) {
    // Reverse the GPT-2 byte mapping; llama.cpp marks codepoints outside it like this.
    std::string out;
    for (uint32_t cpt : tok::decode_utf8_lossy(text)) {
      const int b = tok::unicode_to_byte(cpt);
      if (b >= 0) {
        out.push_back(static_cast<char>(b));
      } else {
        std::string utf8;
        append_utf8(utf8, cpt);
        out += "[UNK_BYTE_0x";
        for (unsigned char c : utf8) out += hex_byte(c);
        out += text + "]";
      }
    }
    return out;
  }
  if (attr & Attr::kByte) {  // "<0xAB>"
    if (text.size() >= 5) {
      return std::string(1, static_cast<char>(std::stoi(text.substr(3, 2), nullptr, 16)));
    }
  }
  return {};
}

// llama.cpp's tokenizer_st_partition: for each special token, longest text first, cut every
// remaining text fragment at each of its occurrences (left to right). An occurrence of a
// control or unknown token that overlaps a range of `as_text` stays in its text fragment.
void Tokenizer::Impl::partition(std::string_view text, bool parse_special,
                                std::span<const TextSpan> as_text,
                                std::vector<std::pair<int32_t, std::string_view>>& out) const {
  auto protected_at = [&](size_t begin, size_t end) {
    for (const TextSpan& s : as_text)
      if (s.begin < end && begin < s.end) return true;
    return false;
  };
  // Fragments: (id, text); id == kNoToken marks raw text.
  std::vector<std::pair<int32_t, std::string_view>> cur = {{kNoToken, text}};
  std::vector<std::pair<int32_t, std::string_view>> next;
  for (int32_t id : specials) {
    const uint32_t attr = vocab.attrs[id];
    // Tokens that only parse_special matches; user-defined ones are matched everywhere.
    const bool parsed_only = attr & (Attr::kControl | Attr::kUnknown);
    if (!parse_special && parsed_only) continue;
    const std::string& st = vocab.tokens[id];
    if (text.find(st) == std::string_view::npos) continue;  // cheap global reject
    next.clear();
    for (const auto& frag : cur) {
      if (frag.first != kNoToken) {
        next.push_back(frag);
        continue;
      }
      std::string_view rest = frag.second;
      size_t from = 0;  // where to look next in `rest` (past occurrences kept as text)
      while (true) {
        const size_t m = rest.find(st, from);
        if (m == std::string_view::npos) {
          if (!rest.empty()) next.emplace_back(kNoToken, rest);
          break;
        }
        const size_t at = size_t(rest.data() - text.data()) + m;
        if (parsed_only && protected_at(at, at + st.size())) {
          from = m + 1;
          continue;
        }
        from = 0;
        std::string_view left = rest.substr(0, m);
        if (attr & Attr::kLstrip) {
          while (!left.empty() && is_ascii_space(left.back())) left.remove_suffix(1);
        }
        if (!left.empty()) next.emplace_back(kNoToken, left);
        next.emplace_back(id, std::string_view(st));
        rest.remove_prefix(m + st.size());
        if (attr & Attr::kRstrip) {
          while (!rest.empty() && is_ascii_space(rest.front())) rest.remove_prefix(1);
        }
      }
    }
    cur.swap(next);
  }
  out = std::move(cur);
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::create(TokenizerSpec spec) {
  auto impl = std::make_unique<Impl>();
  GAVEL_ASSIGN(impl->pre, tok::pre_tokenizer_spec(spec.pre));
  GAVEL_ASSIGN(impl->splitter, tok::RegexSplitter::create(impl->pre.regexes));

  const size_t n = spec.tokens.size();
  if (n == 0) return Error{"tokenizer has an empty vocabulary"};
  if (n > static_cast<size_t>(INT32_MAX)) return Error{"vocabulary too large"};
  if (!spec.token_types.empty() && spec.token_types.size() < n) {
    return Error{"token_type has " + std::to_string(spec.token_types.size()) + " entries for " +
                 std::to_string(n) + " tokens"};
  }
  std::vector<uint32_t> attrs(n, Attr::kNormal);
  for (size_t i = 0; i < n && !spec.token_types.empty(); ++i) {
    attrs[i] = attr_from_type(spec.token_types[i]);
  }
  GAVEL_ASSIGN(impl->vocab,
               tok::Vocab::create(std::move(spec.tokens), std::move(attrs), spec.merges));
  tok::Vocab& v = impl->vocab;
  const int32_t nv = static_cast<int32_t>(n);

  // Special ids: llama.cpp's BPE defaults, then the explicit values when in range.
  if (impl->pre.bos_is_null) impl->bos = kNoToken;
  auto set_id = [&](int32_t& dst, const std::optional<int32_t>& val) {
    if (dst >= nv) dst = kNoToken;
    if (val && *val >= 0 && *val < nv) dst = *val;
    if (val && *val < 0) dst = kNoToken;
  };
  set_id(impl->bos, spec.bos);
  set_id(impl->eos, spec.eos);
  set_id(impl->eot, spec.eot);
  set_id(impl->eom, spec.eom);
  set_id(impl->unk, spec.unk);
  set_id(impl->sep, spec.sep);
  set_id(impl->pad, spec.pad);
  impl->add_bos = spec.add_bos.value_or(impl->pre.add_bos);
  impl->add_eos = spec.add_eos.value_or(false);
  if (impl->add_bos && impl->bos == kNoToken) return Error{"add_bos is true but no BOS token"};
  if (impl->add_eos && impl->eos == kNoToken) return Error{"add_eos is true but no EOS token"};

  // Tokens recognised by their text; llama.cpp forces them to CONTROL. When several texts
  // qualify (e.g. <|im_end|> and <|endoftext|> for EOT), llama.cpp keeps the first one met
  // while iterating its std::unordered_map<std::string, int> vocabulary; we iterate an
  // identically built map so that the same one wins.
  auto make_control = [&](int32_t id) {
    if (id != kNoToken) v.attrs[id] |= Attr::kControl;
  };
  int32_t fim_pre = kNoToken, fim_suf = kNoToken, fim_mid = kNoToken, fim_pad = kNoToken,
          fim_rep = kNoToken, fim_sep = kNoToken;
  {
    std::unordered_map<std::string, int32_t> lcpp_order;
    for (int32_t id = 0; id < nv; ++id) lcpp_order.emplace(v.tokens[id], id);
    auto in = [](std::string_view t, std::span<const std::string_view> texts) {
      return std::find(texts.begin(), texts.end(), t) != texts.end();
    };
    const std::string_view eom_texts[] = {"<|eom_id|>"};
    for (const auto& [text, id] : lcpp_order) {
      // Bindings captured by name (clang 14 cannot capture structured bindings).
      auto pick = [&, id = id, text = std::string_view(text)](int32_t& slot,
                                                              std::span<const std::string_view> texts) {
        if (slot == kNoToken && in(text, texts)) make_control(slot = id);
      };
      pick(impl->eot, kEotTexts);
      pick(impl->eom, eom_texts);
      pick(fim_pre, kFimPreTexts);
      pick(fim_suf, kFimSufTexts);
      pick(fim_mid, kFimMidTexts);
      pick(fim_pad, kFimPadTexts);
      pick(fim_rep, kFimRepTexts);
      pick(fim_sep, kFimSepTexts);
    }
  }
  for (int32_t id = 0; id < nv; ++id) {
    if ((v.attrs[id] & Attr::kControl) && v.tokens[id].find("unused") != std::string::npos) {
      v.attrs[id] |= Attr::kUnused;
    }
  }

  std::vector<int32_t> eog;
  for (int32_t id : {fim_pad, fim_rep, fim_sep}) {
    if (id != kNoToken) eog.push_back(id);
  }
  for (auto t : kEogTexts) {
    const int32_t id = v.find(t);
    if (id == kNoToken) continue;
    eog.push_back(id);
    v.attrs[id] |= Attr::kControl;
  }
  for (std::string_view t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    const int32_t id = v.find(t);
    if (id != kNoToken) v.attrs[id] = Attr::kUserDefined;
  }
  for (int32_t id : {impl->eos, impl->eot, impl->eom}) {
    if (id != kNoToken) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  // harmony-style vocabularies: <|end|> is not end-of-generation when <|return|>/<|call|> exist.
  auto in_eog = [&](std::string_view t) {
    const int32_t id = v.find(t);
    return id != kNoToken && std::binary_search(eog.begin(), eog.end(), id);
  };
  if (in_eog("<|end|>") && ((in_eog("<|return|>") && in_eog("<|call|>")) ||
                            (in_eog("<|calls|>") && in_eog("<|flush|>")))) {
    const int32_t end_id = v.find("<|end|>");
    eog.erase(std::find(eog.begin(), eog.end(), end_id));
    v.attrs[end_id] = Attr::kUserDefined;
  }
  impl->eog = std::move(eog);

  for (int32_t id = 0; id < nv; ++id) {
    if (v.attrs[id] & (Attr::kControl | Attr::kUserDefined | Attr::kUnknown)) {
      impl->specials.push_back(id);
    }
  }
  std::stable_sort(impl->specials.begin(), impl->specials.end(),
                   [&](int32_t a, int32_t b) { return v.tokens[a].size() > v.tokens[b].size(); });

  impl->pieces.resize(n);
  for (int32_t id = 0; id < nv; ++id) impl->pieces[id] = impl->make_piece(id);
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::Impl::encode(std::string_view text, bool add_special,
                                             bool parse_special,
                                             std::span<const TextSpan> as_text) const {
  std::vector<int32_t> out;
  if (add_special && add_bos && bos != kNoToken) out.push_back(bos);
  if (!text.empty()) {
    std::vector<std::pair<int32_t, std::string_view>> frags;
    partition(text, parse_special, as_text, frags);
    tok::BpeScratch scratch;
    std::vector<std::string> words;
    for (const auto& [id, piece] : frags) {
      if (id != kNoToken) {
        out.push_back(id);
        continue;
      }
      words.clear();
      splitter.split(piece, words);
      for (const auto& w : words) vocab.encode_word(w, pre.ignore_merges, scratch, out);
    }
  }
  if (add_special && add_eos && eos != kNoToken) out.push_back(eos);
  return out;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  return impl_->encode(text, add_special, parse_special, {});
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       std::span<const TextSpan> as_text) const {
  return impl_->encode(text, add_special, /*parse_special=*/true, as_text);
}

std::vector<std::string> Tokenizer::parsed_special_texts() const {
  std::vector<std::string> out;
  for (int32_t id : impl_->specials)
    if (impl_->vocab.attrs[id] & (Attr::kControl | Attr::kUnknown))
      out.push_back(impl_->vocab.tokens[id]);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool special) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab()) continue;
    if (!special && (impl_->vocab.attrs[id] & (Attr::kUnknown | Attr::kControl))) continue;
    out += impl_->pieces[id];
  }
  return out;
}

std::string Tokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return {};
  return impl_->pieces[id];
}

const std::string& Tokenizer::token_string(int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || id >= n_vocab()) return kEmpty;
  return impl_->vocab.tokens[id];
}

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->vocab.tokens.size()); }
int32_t Tokenizer::bos() const { return impl_->bos; }
int32_t Tokenizer::eos() const { return impl_->eos; }
int32_t Tokenizer::eot() const { return impl_->eot; }
int32_t Tokenizer::eom() const { return impl_->eom; }
int32_t Tokenizer::pad() const { return impl_->pad; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }
bool Tokenizer::is_eog(int32_t id) const {
  return std::binary_search(impl_->eog.begin(), impl_->eog.end(), id);
}
bool Tokenizer::is_control(int32_t id) const {
  return id >= 0 && id < n_vocab() && (impl_->vocab.attrs[id] & Attr::kControl);
}
const std::vector<int32_t>& Tokenizer::eog_ids() const { return impl_->eog; }
int32_t Tokenizer::find_token(std::string_view text) const { return impl_->vocab.find(text); }
const std::string& Tokenizer::pre() const { return impl_->pre.name; }

}  // namespace gavel
