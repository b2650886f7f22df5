// Chat-template rendering: a Jinja2 interpreter that renders a checkpoint's own chat template
// byte-exactly as Hugging Face transformers' apply_chat_template does.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gavel/status.h"

namespace gavel::chat {
// Renders a Jinja chat template as HF transformers' apply_chat_template does (jinja2 sandbox,
// trim_blocks, lstrip_blocks, loopcontrols, HF's tojson / raise_exception / strftime_now).
// messages: JSON array of {role, content (string or list of parts), ...};
// vars: extra top-level variables, e.g. add_generation_prompt (bool), bos_token, eos_token,
// enable_thinking, tools, date_string. Errors name the template line and column.
Result<std::string> render(std::string_view template_source, const nlohmann::json& messages,
                           const nlohmann::json& vars);
}  // namespace gavel::chat
