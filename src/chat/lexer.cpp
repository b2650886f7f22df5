#include "chat/lexer.h"

#include <cmath>
#include <cstdlib>

#include "chat/value.h"

namespace gavel::chat {

std::string position(int line, int col) {
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

namespace {

// Length in bytes of the Python-whitespace code point at s[i], or 0.
size_t space_len(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return py_isspace(c) ? 1 : 0;
  size_t n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + n > s.size()) return 0;
  auto cps = utf8_decode(s.substr(i, n));
  return cps.size() == 1 && py_isspace(cps[0]) ? n : 0;
}

// Python str.rstrip() on UTF-8 text.
std::string_view rstrip_py(std::string_view s) {
  auto cps = utf8_decode(s);
  size_t keep = cps.size();
  while (keep > 0 && py_isspace(cps[keep - 1])) --keep;
  size_t bytes = 0;
  for (size_t k = 0; k < keep; ++k) {
    char32_t c = cps[k];
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return s.substr(0, bytes);
}

size_t skip_spaces(std::string_view s, size_t i) {
  while (i < s.size()) {
    size_t n = space_len(s, i);
    if (!n) break;
    i += n;
  }
  return i;
}

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string src) : s_(std::move(src)) {}

  Result<std::vector<Token>> run() {
    bool line_starting = true;
    while (pos_ < s_.size()) {
      size_t start = find_tag(pos_);
      if (start == std::string::npos) {
        emit_data(s_.substr(pos_), pos_);
        pos_ = s_.size();
        break;
      }
      char kind = s_[start + 1];  // '{', '%' or '#'
      size_t after = start + 2;
      char sign = after < s_.size() && (s_[after] == '-' || s_[after] == '+') ? s_[after] : 0;
      std::string_view text(s_.data() + pos_, start - pos_);
      if (sign == '-') {
        text = rstrip_py(text);
      } else if (sign != '+' && kind != '{') {
        // lstrip_blocks: drop spaces/tabs between the line start and a block or comment tag.
        size_t nl = text.rfind('\n');
        size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && l_pos < text.size()) {
          bool all_space = skip_spaces(text, l_pos) == text.size();
          if (all_space) text = text.substr(0, l_pos);
        }
      }
      emit_data(std::string(text), pos_);
      pos_ = after + (sign ? 1 : 0);
      if (kind == '#') {
        GAVEL_TRY(lex_comment(start));
      } else if (kind == '%' && is_raw_begin(pos_)) {
        GAVEL_TRY(lex_raw(start));
      } else {
        GAVEL_TRY(lex_tag(kind == '{', start));
      }
      line_starting = pos_ > 0 && s_[pos_ - 1] == '\n';
    }
    Token eof{Tok::kEof, "", 0, 0};
    locate(s_.size(), &eof.line, &eof.col);
    out_.push_back(eof);
    return std::move(out_);
  }

 private:
  std::string s_;
  size_t pos_ = 0;
  std::vector<Token> out_;
  size_t loc_pos_ = 0;
  int loc_line_ = 1;
  size_t loc_line_start_ = 0;

  // Line/column of a byte offset (offsets are visited mostly in increasing order).
  void locate(size_t off, int* line, int* col) {
    if (off < loc_pos_) {
      loc_pos_ = 0;
      loc_line_ = 1;
      loc_line_start_ = 0;
    }
    for (; loc_pos_ < off && loc_pos_ < s_.size(); ++loc_pos_) {
      if (s_[loc_pos_] == '\n') {
        ++loc_line_;
        loc_line_start_ = loc_pos_ + 1;
      }
    }
    *line = loc_line_;
    *col = static_cast<int>(utf8_length(std::string_view(s_).substr(
               loc_line_start_, off - loc_line_start_))) + 1;
  }

  Token make(Tok t, std::string text, size_t off) {
    Token tok{t, std::move(text), 1, 1};
    locate(off, &tok.line, &tok.col);
    return tok;
  }

  Error error(const std::string& msg, size_t off) {
    int line, col;
    locate(off, &line, &col);
    return Error{msg + " at " + position(line, col), StatusCode::kInvalidArgument};
  }

  void emit_data(std::string text, size_t off) {
    if (text.empty()) return;
    out_.push_back(make(Tok::kData, std::move(text), off));
  }

  size_t find_tag(size_t from) const {
    for (size_t i = s_.find('{', from); i != std::string::npos; i = s_.find('{', i + 1)) {
      if (i + 1 < s_.size() && (s_[i + 1] == '{' || s_[i + 1] == '%' || s_[i + 1] == '#')) {
        return i;
      }
    }
    return std::string::npos;
  }

  bool match_word(size_t i, std::string_view w) const {
    return s_.compare(i, w.size(), w) == 0 &&
           (i + w.size() >= s_.size() || !is_name_char(s_[i + w.size()]));
  }

  // `{%[-+]? raw (-%}|%})` with the sign already consumed.
  bool is_raw_begin(size_t i) const {
    i = skip_spaces(s_, i);
    if (!match_word(i, "raw")) return false;
    i = skip_spaces(s_, i + 3);
    return s_.compare(i, 2, "%}") == 0 || s_.compare(i, 3, "-%}") == 0;
  }

  Status lex_comment(size_t start) {
    size_t end = s_.find("#}", pos_);
    if (end == std::string::npos) return error("missing end of comment tag", start);
    bool strip = end > pos_ && s_[end - 1] == '-';
    pos_ = end + 2;
    if (strip) {
      pos_ = skip_spaces(s_, pos_);
    } else if (!(end > pos_ && s_[end - 1] == '+') && pos_ < s_.size() && s_[pos_] == '\n') {
      ++pos_;
    }
    return Status::Ok();
  }

  Status lex_raw(size_t start) {
    size_t i = skip_spaces(s_, pos_);
    i = skip_spaces(s_, i + 3);  // past "raw"
    if (s_[i] == '-') {
      pos_ = skip_spaces(s_, i + 3);
    } else {
      pos_ = i + 2;  // a plain %} after raw keeps the newline (jinja2 quirk)
    }
    // Find {%[-+]? endraw [-+]?%}
    for (size_t j = s_.find("{%", pos_); j != std::string::npos; j = s_.find("{%", j + 1)) {
      size_t k = j + 2;
      char sign = k < s_.size() && (s_[k] == '-' || s_[k] == '+') ? s_[k] : 0;
      if (sign) ++k;
      k = skip_spaces(s_, k);
      if (!match_word(k, "endraw")) continue;
      k = skip_spaces(s_, k + 6);
      size_t close;
      char end_sign = 0;
      if (s_.compare(k, 2, "%}") == 0) {
        close = k + 2;
      } else if ((s_[k] == '-' || s_[k] == '+') && s_.compare(k + 1, 2, "%}") == 0) {
        end_sign = s_[k];
        close = k + 3;
      } else {
        continue;
      }
      std::string_view text(s_.data() + pos_, j - pos_);
      if (sign == '-') {
        text = rstrip_py(text);
      } else if (sign != '+') {
        size_t nl = text.rfind('\n');
        size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
        if (l_pos > 0 && l_pos < text.size() && skip_spaces(text, l_pos) == text.size()) {
          text = text.substr(0, l_pos);
        }
      }
      emit_data(std::string(text), pos_);
      pos_ = close;
      if (end_sign == '-') {
        pos_ = skip_spaces(s_, pos_);
      } else if (end_sign == 0 && pos_ < s_.size() && s_[pos_] == '\n') {
        ++pos_;
      }
      return Status::Ok();
    }
    return error("missing end of raw directive", start);
  }

  Status lex_tag(bool variable, size_t start) {
    out_.push_back(make(variable ? Tok::kVarBegin : Tok::kBlockBegin, "", start));
    std::vector<char> brackets;
    while (true) {
      pos_ = skip_spaces(s_, pos_);
      if (pos_ >= s_.size()) {
        return error(variable ? "unexpected end of template, expected '}}'"
                              : "unexpected end of template, expected '%}'",
                     start);
      }
      size_t here = pos_;
      // End of tag (only when no bracket is open, as jinja2's balancing does).
      if (brackets.empty()) {
        if (variable) {
          if (s_.compare(pos_, 3, "-}}") == 0) {
            out_.push_back(make(Tok::kVarEnd, "", here));
            pos_ = skip_spaces(s_, pos_ + 3);
            return Status::Ok();
          }
          if (s_.compare(pos_, 2, "}}") == 0) {
            out_.push_back(make(Tok::kVarEnd, "", here));
            pos_ += 2;
            return Status::Ok();
          }
        } else {
          if (s_.compare(pos_, 3, "+%}") == 0) {
            out_.push_back(make(Tok::kBlockEnd, "", here));
            pos_ += 3;
            return Status::Ok();
          }
          if (s_.compare(pos_, 3, "-%}") == 0) {
            out_.push_back(make(Tok::kBlockEnd, "", here));
            pos_ = skip_spaces(s_, pos_ + 3);
            return Status::Ok();
          }
          if (s_.compare(pos_, 2, "%}") == 0) {
            out_.push_back(make(Tok::kBlockEnd, "", here));
            pos_ += 2;
            if (pos_ < s_.size() && s_[pos_] == '\n') ++pos_;  // trim_blocks
            return Status::Ok();
          }
        }
      }
      char c = s_[pos_];
      if (is_digit(c)) {
        GAVEL_TRY(lex_number());
      } else if (is_name_start(c)) {
        size_t b = pos_;
        while (pos_ < s_.size() && is_name_char(s_[pos_])) ++pos_;
        out_.push_back(make(Tok::kName, s_.substr(b, pos_ - b), b));
      } else if (c == '\'' || c == '"') {
        GAVEL_TRY(lex_string());
      } else {
        static const char* const kOps[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/",
                                           "*",  "%",  "~",  "[",  "]",  "(",  ")", "{", "}",
                                           ">",  "<",  "=",  ".",  ":",  "|",  ",", ";"};
        std::string op;
        for (const char* o : kOps) {
          if (s_.compare(pos_, std::char_traits<char>::length(o), o) == 0) {
            op = o;
            break;
          }
        }
        if (op.empty()) return error(std::string("unexpected char '") + c + "'", pos_);
        if (op == "(" || op == "[" || op == "{") {
          brackets.push_back(op == "(" ? ')' : op == "[" ? ']' : '}');
        } else if (op == ")" || op == "]" || op == "}") {
          if (brackets.empty() || brackets.back() != op[0]) {
            return error("unexpected '" + op + "'", pos_);
          }
          brackets.pop_back();
        }
        out_.push_back(make(Tok::kOp, op, pos_));
        pos_ += op.size();
      }
    }
  }

  // Digits with optional single underscores between them.
  size_t scan_digits(size_t i, bool (*ok)(char)) const {
    size_t b = i;
    while (i < s_.size()) {
      if (ok(s_[i])) {
        ++i;
      } else if (s_[i] == '_' && i > b && i + 1 < s_.size() && ok(s_[i + 1])) {
        ++i;
      } else {
        break;
      }
    }
    return i;
  }

  Status lex_number() {
    size_t b = pos_;
    auto strip_us = [](std::string t) {
      std::string o;
      for (char ch : t) {
        if (ch != '_') o.push_back(ch);
      }
      return o;
    };
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() &&
        std::string_view("xXoObB").find(s_[pos_ + 1]) != std::string_view::npos) {
      char base_ch = static_cast<char>(s_[pos_ + 1] | 0x20);
      int base = base_ch == 'x' ? 16 : base_ch == 'o' ? 8 : 2;
      size_t i = pos_ + 2;
      size_t e = i;
      while (e < s_.size() && (std::isxdigit(static_cast<unsigned char>(s_[e])) || s_[e] == '_')) {
        ++e;
      }
      std::string digits = strip_us(s_.substr(i, e - i));
      if (digits.empty()) return error("invalid number literal", b);
      errno = 0;
      char* endp = nullptr;
      long long v = std::strtoll(digits.c_str(), &endp, base);
      if (errno || *endp) return error("invalid or too large number literal", b);
      Token t = make(Tok::kInt, s_.substr(b, e - b), b);
      t.ival = v;
      out_.push_back(t);
      pos_ = e;
      return Status::Ok();
    }
    size_t i = scan_digits(pos_, is_digit);
    bool is_float = false;
    size_t j = i;
    if (j + 1 < s_.size() && s_[j] == '.' && is_digit(s_[j + 1])) {
      j = scan_digits(j + 1, is_digit);
      is_float = true;
    }
    if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
      size_t k = j + 1;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (k < s_.size() && is_digit(s_[k])) {
        j = scan_digits(k, is_digit);
        is_float = true;
      }
    }
    std::string lit = strip_us(s_.substr(b, j - b));
    Token t = make(is_float ? Tok::kFloat : Tok::kInt, s_.substr(b, j - b), b);
    if (is_float) {
      t.fval = std::strtod(lit.c_str(), nullptr);
    } else {
      errno = 0;
      long long v = std::strtoll(lit.c_str(), nullptr, 10);
      if (errno) return error("integer literal too large", b);
      t.ival = v;
    }
    out_.push_back(t);
    pos_ = j;
    return Status::Ok();
  }

  // Python's unicode-escape decoding of the literal body, as jinja2 applies it.
  Status lex_string() {
    size_t b = pos_;
    char q = s_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) return error("unterminated string literal", b);
      char c = s_[pos_];
      if (c == q) {
        ++pos_;
        break;
      }
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= s_.size()) return error("unterminated string literal", b);
      char e = s_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '\n':
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '\'':
          out.push_back('\'');
          break;
        case '"':
          out.push_back('"');
          break;
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case 'x':
        case 'u':
        case 'U': {
          size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (pos_ + n > s_.size()) return error("truncated \\" + std::string(1, e) + " escape", b);
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            char h = s_[pos_ + k];
            if (!std::isxdigit(static_cast<unsigned char>(h))) {
              return error("truncated \\" + std::string(1, e) + " escape", b);
            }
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                     ? h - '0'
                                                     : (h | 0x20) - 'a' + 10);
          }
          if (cp > 0x10FFFF) return error("illegal Unicode character in escape", b);
          append_utf8(out, cp);
          pos_ += n;
          break;
        }
        case 'N':
          return error("\\N{...} escapes are not supported", b);
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = e - '0';
            for (int k = 0; k < 2 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++k) {
              cp = cp * 8 + (s_[pos_++] - '0');
            }
            append_utf8(out, cp);
          } else {
            out.push_back('\\');  // unknown escapes stay as written
            pos_ -= 1;
          }
      }
    }
    Token t = make(Tok::kString, std::move(out), b);
    out_.push_back(std::move(t));
    return Status::Ok();
  }
};

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view source) {
  std::string s;
  s.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      s.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      s.push_back(source[i]);
    }
  }
  if (!s.empty() && s.back() == '\n') s.pop_back();  // keep_trailing_newline=False
  return Lexer(std::move(s)).run();
}

}  // namespace gavel::chat
