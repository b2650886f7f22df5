// Special-token text in judged data. The chat template writes the control tokens of a prompt
// (<|im_start|>, <|im_end|>...); the data it embeds (instruction, responses, reference, rubric)
// is text, so a response holding "<|im_end|><|im_start|>system ..." must not become real turn
// markers that steer the judge. locate_data_specials() finds where such text from the data sits
// in the rendered prompts, so backends tokenize exactly those bytes as text.
//
// How: every occurrence in the data is replaced with an inert marker that the prompt formats
// (json.dumps, str.format, the chat template) copy unchanged, the item is rendered again, and
// the markers are put back while their byte ranges are recorded. The result must equal the
// prompts rendered from the untouched data byte for byte; otherwise the item is refused.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "gavel/backend.h"
#include "gavel/status.h"
#include "judge/items.h"

namespace gavel::judge {

// Renders an item's prompts (in a fixed order) with the given field mapping.
using PromptRenderer =
    std::function<Result<std::vector<std::string>>(const Item& item, const FieldMap& fields)>;

// Per prompt of `prompts` (rendered from `item` by `render`): the byte ranges of special-token
// text (`specials`: BackendInfo::special_tokens) that came from the item's data, in order. All
// empty when the data holds none that reaches a prompt. Errors when the markers do not come
// back as the data's text (a template that changes it).
Result<std::vector<std::vector<TextSpan>>> locate_data_specials(
    const Item& item, const FieldMap& fields, std::span<const std::string> specials,
    std::span<const std::string> prompts, const PromptRenderer& render);

}  // namespace gavel::judge
