// UTF-8 encoding of one code point, shared by the chat templates and the tokenizer. (Decoding
// stays with each: they treat invalid bytes differently, as their references do.)
#pragma once

#include <string>

namespace gavel {

// Appends `cp` as UTF-8; a value above U+10FFFF (not a code point) becomes U+FFFD.
void append_utf8(std::string& out, char32_t cp);

}  // namespace gavel
