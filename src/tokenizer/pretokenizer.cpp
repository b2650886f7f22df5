#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <utility>

#include "tokenizer/unicode.h"

namespace gavel::tok {
namespace {

// Contractions are spelled out case by case (instead of (?i:...)) as llama.cpp does.
constexpr const char* kContractions =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]))";

std::string llama3_regex(bool qwen_digits, bool marks_are_letters) {
  std::string letters = marks_are_letters ? R"([\p{L}\p{M}]+)" : R"(\p{L}+)";
  std::string other = marks_are_letters ? R"([^\s\p{L}\p{M}\p{N}])" : R"([^\s\p{L}\p{N}])";
  return std::string(kContractions) + R"(|[^\r\n\p{L}\p{N}]?)" + letters +
         (qwen_digits ? R"(|\p{N})" : R"(|\p{N}{1,3})") + "| ?" + other +
         R"(+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

constexpr const char* kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";

enum class Family {
  kDefault,
  kLlama3,
  kQwen2,
  kQwen35,
  kGpt2,
  kStarcoder,
  kFalcon,
  kDeepseekCoder
};

std::vector<std::string> family_regexes(Family f) {
  switch (f) {
    case Family::kLlama3:
      return {llama3_regex(false, false)};
    case Family::kQwen2:
      return {llama3_regex(true, false)};
    case Family::kQwen35:
      return {llama3_regex(true, true)};
    case Family::kGpt2:
      return {kGpt2Regex};
    case Family::kStarcoder:
      return {R"(\p{N})", kGpt2Regex};
    case Family::kFalcon:
      return {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2Regex, "[0-9][0-9][0-9]"};
    case Family::kDeepseekCoder:
      return {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)",
              "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+", R"(\p{N})"};
    case Family::kDefault:
      break;
  }
  return {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2Regex, R"(\p{N}+)", "[0-9][0-9][0-9]"};
}

struct PreEntry {
  const char* name;
  Family family;
  bool ignore_merges;
  bool add_bos;
  bool clean_spaces;
  bool bos_is_null;
};

// Names and flags as in llama.cpp's llama_vocab::impl::load (BPE branch).
constexpr PreEntry kPreTypes[] = {
    {"default", Family::kDefault, false, false, true, false},
    {"llama3", Family::kLlama3, true, true, true, false},
    {"llama-v3", Family::kLlama3, true, true, true, false},
    {"llama-bpe", Family::kLlama3, true, true, true, false},
    {"falcon3", Family::kLlama3, true, true, true, false},
    {"falcon-h1", Family::kLlama3, true, true, true, false},
    {"pixtral", Family::kLlama3, true, true, true, false},
    {"midm-2.0", Family::kLlama3, true, true, true, false},
    {"lfm2", Family::kLlama3, true, true, true, false},
    {"dbrx", Family::kLlama3, false, false, true, false},
    {"smaug-bpe", Family::kLlama3, false, false, true, false},
    {"glm4", Family::kLlama3, false, false, true, true},
    {"chatglm-bpe", Family::kLlama3, false, false, true, true},
    {"qwen2", Family::kQwen2, false, false, false, false},
    {"deepseek-r1-qwen", Family::kQwen2, false, false, false, false},
    {"megrez", Family::kQwen2, false, false, true, false},
    {"stablelm2", Family::kQwen2, false, false, true, false},
    {"hunyuan", Family::kQwen2, false, false, false, false},
    {"qwen35", Family::kQwen35, false, false, false, false},
    {"gpt-2", Family::kGpt2, false, false, true, false},
    {"phi-2", Family::kGpt2, false, false, true, false},
    {"mpt", Family::kGpt2, false, false, true, false},
    {"olmo", Family::kGpt2, false, false, true, false},
    {"jais", Family::kGpt2, false, false, true, false},
    {"exaone4", Family::kGpt2, false, false, true, false},
    {"starcoder", Family::kStarcoder, false, false, true, false},
    {"refact", Family::kStarcoder, false, false, true, false},
    {"command-r", Family::kStarcoder, false, false, false, false},
    {"smollm", Family::kStarcoder, false, false, false, false},
    {"codeshell", Family::kStarcoder, false, false, true, false},
    {"exaone", Family::kStarcoder, false, false, true, false},
    {"minerva-7b", Family::kStarcoder, false, false, true, false},
    {"falcon", Family::kFalcon, false, false, true, false},
    {"deepseek-coder", Family::kDeepseekCoder, false, false, false, false},
};

// Category byte and ASCII members per \p{..} class, as llama.cpp collapses them.
struct CategoryClass {
  std::string_view name;
  char byte;
  std::string_view ascii;
};
constexpr CategoryClass kCategoryClasses[] = {
    {R"(\p{N})", '\xD1', "0-9"},
    {R"(\p{L})", '\xD2', "A-Za-z"},
    {R"(\p{P})", '\xD3', R"(!-#%-*,-/:-;?-@\[-\]_\{\})"},
    {R"(\p{M})", '\xD4', ""},
    {R"(\p{S})", '\xD5', R"(\$\+<->\^`\|)"},  // llama.cpp leaves '~' out
    {R"(\p{Lu})", '\xD2', "A-Za-z"},
    {R"(\p{Ll})", '\xD2', "A-Za-z"},
    {R"(\p{Lt})", '\xD2', "A-Za-z"},
    {R"(\p{Lm})", '\xD2', "A-Za-z"},
    {R"(\p{Lo})", '\xD2', "A-Za-z"},
};

bool uses_categories(std::string_view regex) {
  for (const auto& c : kCategoryClasses) {
    if (regex.find(c.name) != std::string_view::npos) return true;
  }
  return false;
}

char collapsed_byte(uint32_t cpt) {
  if (cpt < 128) return static_cast<char>(cpt);
  const uint16_t f = cpt_flags(cpt);
  if (f & kWhitespace) return '\x0B';
  switch (f & kCategoryMask) {
    case kNumber:
      return '\xD1';
    case kLetter:
      return '\xD2';
    case kPunct:
      return '\xD3';
    case kMark:
      return '\xD4';
    case kSymbol:
      return '\xD5';
    default:
      return '\xD0';
  }
}

}  // namespace

Result<PreTokenizerSpec> pre_tokenizer_spec(std::string_view pre) {
  if (pre.empty()) pre = "default";
  for (const auto& e : kPreTypes) {
    if (pre == e.name) {
      PreTokenizerSpec spec;
      spec.name = e.name;
      spec.regexes = family_regexes(e.family);
      spec.ignore_merges = e.ignore_merges;
      spec.add_bos = e.add_bos;
      spec.clean_spaces = e.clean_spaces;
      spec.bos_is_null = e.bos_is_null;
      return spec;
    }
  }
  std::string known;
  for (const auto& e : kPreTypes) known += std::string(known.empty() ? "" : ", ") + e.name;
  return Error{"unsupported pre-tokenizer type '" + std::string(pre) + "' (supported: " + known +
               ")"};
}

Result<std::string> collapse_regex(std::string_view regex) {
  for (unsigned char c : regex) {
    if (c >= 128) {
      return Error{"regex mixes unicode categories and non-ASCII characters: " +
                   std::string(regex)};
    }
  }
  std::string out;
  bool inside = false;  // within [...]
  for (size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '[' && (i == 0 || regex[i - 1] != '\\')) {
      out += '[';
      inside = true;
      continue;
    }
    if (inside && c == ']' && regex[i - 1] != '\\') {
      out += ']';
      inside = false;
      continue;
    }
    if (c == '\\' && i + 3 < regex.size() && regex[i + 1] == 'p' && regex[i + 2] == '{') {
      const size_t close = regex.find('}', i + 3);
      if (close != std::string_view::npos && close <= i + 10) {
        const std::string_view pat = regex.substr(i, close - i + 1);
        const CategoryClass* hit = nullptr;
        for (const auto& cc : kCategoryClasses) {
          if (cc.name == pat) hit = &cc;
        }
        if (hit) {
          if (!inside) out += '[';
          out += hit->byte;
          out += hit->ascii;
          if (!inside) out += ']';
          i = close;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

struct RegexSplitter::Compiled {
  std::string source;
  bool collapsed = false;
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

Result<RegexSplitter> RegexSplitter::create(const std::vector<std::string>& regexes) {
  RegexSplitter s;
  for (const auto& rx : regexes) {
    auto c = std::make_shared<Compiled>();
    c->source = rx;
    c->collapsed = uses_categories(rx);
    std::string pattern = rx;
    uint32_t options = 0;
    if (c->collapsed) {
      GAVEL_ASSIGN(pattern, collapse_regex(rx));
      s.need_collapsed_ = true;
    } else {
      options = PCRE2_UTF | PCRE2_NO_UTF_CHECK;
      s.need_utf_ = true;
    }
    int err = 0;
    PCRE2_SIZE err_off = 0;
    c->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                            &err, &err_off, nullptr);
    if (!c->code) {
      std::array<PCRE2_UCHAR, 256> msg{};
      pcre2_get_error_message(err, msg.data(), msg.size());
      return Error{"cannot compile pre-tokenizer regex '" + rx + "' at offset " +
                   std::to_string(err_off) + ": " + reinterpret_cast<const char*>(msg.data())};
    }
    pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE);  // best effort: falls back to the interpreter
    s.regexes_.push_back(std::move(c));
  }
  return s;
}

namespace {

// Runs one regex over one chunk of the subject; appends the lengths (in codepoints) of matches
// and of the gaps between them. `to_cpt` maps subject byte offsets to codepoint offsets (null
// when one byte is one codepoint).
void split_chunk(const pcre2_code* code, const char* subject, size_t len, size_t base,
                 const std::vector<uint32_t>* to_cpt, pcre2_match_data* md,
                 std::vector<size_t>& out) {
  auto cpt_at = [&](size_t b) -> size_t { return to_cpt ? (*to_cpt)[base + b] : base + b; };
  size_t prev = 0;  // byte offset within the chunk where the pending gap starts
  size_t pos = 0;
  while (pos < len) {
    int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject), len, pos, PCRE2_NO_UTF_CHECK,
                         md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject), len, pos,
                       PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, nullptr);
    }
    if (rc < 0) break;  // no (further) match: the rest is a gap
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t m0 = ov[0], m1 = ov[1];
    if (m1 == m0) {  // empty match: step over one character
      pos = m0 + 1;
      if (to_cpt) {
        while (pos < len && (static_cast<uint8_t>(subject[pos]) & 0xC0) == 0x80) ++pos;
      }
      continue;
    }
    if (m0 > prev) out.push_back(cpt_at(m0) - cpt_at(prev));
    out.push_back(cpt_at(m1) - cpt_at(m0));
    prev = pos = m1;
  }
  if (prev < len) out.push_back(cpt_at(len) - cpt_at(prev));
}

}  // namespace

std::vector<size_t> RegexSplitter::split_lengths(const std::vector<uint32_t>& cpts) const {
  std::string collapsed;
  if (need_collapsed_) {
    collapsed.resize(cpts.size());
    for (size_t i = 0; i < cpts.size(); ++i) collapsed[i] = collapsed_byte(cpts[i]);
  }
  // Codepoint subject for regexes without categories: non-ASCII whitespace becomes \v (as in
  // llama.cpp); values PCRE2 would reject as UTF-8 become U+FFFD.
  std::string utf;
  std::vector<uint32_t> utf_to_cpt;  // byte offset -> codepoint index
  std::vector<size_t> cpt_to_utf;    // codepoint index -> byte offset
  if (need_utf_) {
    utf.reserve(cpts.size() * 2);
    cpt_to_utf.resize(cpts.size() + 1);
    for (size_t i = 0; i < cpts.size(); ++i) {
      cpt_to_utf[i] = utf.size();
      uint32_t c = cpts[i];
      if (c > 0x7F && (cpt_flags(c) & kWhitespace)) c = 0x0B;
      if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) c = kReplacementChar;
      const size_t before = utf.size();
      append_utf8(utf, c);
      for (size_t b = before; b < utf.size(); ++b) utf_to_cpt.push_back(static_cast<uint32_t>(i));
    }
    cpt_to_utf[cpts.size()] = utf.size();
    utf_to_cpt.push_back(static_cast<uint32_t>(cpts.size()));
  }

  std::vector<size_t> lengths = {cpts.size()};
  std::vector<size_t> next;
  for (const auto& rx : regexes_) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(rx->code, nullptr);
    next.clear();
    next.reserve(lengths.size() * 2);
    size_t start = 0;
    for (size_t len : lengths) {
      if (rx->collapsed) {
        split_chunk(rx->code, collapsed.data() + start, len, start, nullptr, md, next);
      } else {
        const size_t b0 = cpt_to_utf[start], b1 = cpt_to_utf[start + len];
        split_chunk(rx->code, utf.data() + b0, b1 - b0, b0, &utf_to_cpt, md, next);
      }
      start += len;
    }
    pcre2_match_data_free(md);
    lengths.swap(next);
  }
  return lengths;
}

void RegexSplitter::split(std::string_view text, std::vector<std::string>& words) const {
  const std::vector<uint32_t> cpts = decode_utf8_lossy(text);
  const std::vector<size_t> lengths = split_lengths(cpts);
  size_t start = 0;
  std::string utf8;
  for (size_t len : lengths) {
    if (len == 0) continue;
    utf8.clear();
    for (size_t i = start; i < start + len; ++i) append_utf8(utf8, cpts[i]);
    std::string word;
    word.reserve(utf8.size() * 2);
    for (unsigned char b : utf8) word += byte_to_unicode(b);
    words.push_back(std::move(word));
    start += len;
  }
}

std::vector<std::string> RegexSplitter::split_raw(std::string_view text) const {
  const std::vector<uint32_t> cpts = decode_utf8_lossy(text);
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t len : split_lengths(cpts)) {
    if (len == 0) continue;
    std::string w;
    for (size_t i = start; i < start + len; ++i) append_utf8(w, cpts[i]);
    out.push_back(std::move(w));
    start += len;
  }
  return out;
}

}  // namespace gavel::tok
