// Jinja2 lexer with Hugging Face's settings (trim_blocks, lstrip_blocks): splits a template
// into data and tag tokens, applying whitespace control exactly as jinja2's lexer does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gavel/status.h"

namespace gavel::chat {

enum class Tok : uint8_t {
  kData,        // literal template text (after whitespace control)
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,  // text holds the decoded value
  kInt,
  kFloat,
  kOp,  // text holds the operator
  kEof,
};

struct Token {
  Tok type;
  std::string text;
  int line = 1;
  int col = 1;
  int64_t ival = 0;
  double fval = 0.0;
};

// Normalises newlines as jinja2 does (\r\n and \r -> \n, one trailing newline dropped) and
// tokenises. Errors name the line and column.
Result<std::vector<Token>> tokenize(std::string_view source);

std::string position(int line, int col);  // "line L, column C"

}  // namespace gavel::chat
