// Many tokenizer requests against one loaded vocabulary (`gavel tokenize --batch`). Each
// non-blank JSONL line is one request, answered by one JSON line:
//   {"text": str | "hex": str, "add_special": bool, "parse_special": bool} -> the ids
//   {"ids": [int], "special": bool} -> {"hex": the decoded bytes} (pieces need not be UTF-8)
//   {"info": true} -> the special ids, end-of-generation set and control tokens
// add_special defaults to true, parse_special and special to false.
#pragma once

#include <string>
#include <string_view>

#include "gavel/status.h"
#include "tokenizer/tokenizer.h"

namespace gavel {

// All answers, one line each; the first bad request is an error naming `name`, its line and
// the field (a field of the wrong type included).
Result<std::string> tokenize_batch(const Tokenizer& tok, std::string_view jsonl,
                                   const std::string& name);

}  // namespace gavel
