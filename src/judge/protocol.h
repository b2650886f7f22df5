// Shared vocabulary of the judge protocols: modes, prompt formats, the thinking switch and the
// chat-rendering hook. The judge layer renders chat prompts through a ChatRenderer supplied by
// the caller (the CLI binds gavel::chat::render to the checkpoint's own template), so it depends
// on no engine or template code and tests can plug in a trivial renderer.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "gavel/backend.h"
#include "gavel/status.h"

namespace gavel::judge {

enum class Protocol { kPairwiseLogprob, kCritique };
enum class Mode { kAbsolute, kAbsoluteRef, kClassify, kClassifyRef, kPairwise };
enum class Format { kOriginal, kMarkdown, kJson, kPrePair, kSimplified };
// kTemplateDefault passes no enable_thinking variable (what the model card's code does);
// kOn / kOff pass enable_thinking=true / false.
enum class Thinking { kTemplateDefault, kOn, kOff };

std::string_view name(Protocol p);
std::string_view name(Mode m);
std::string_view name(Format f);
std::string_view name(Thinking t);
Result<Protocol> parse_protocol(std::string_view s);
Result<Mode> parse_mode(std::string_view s);
Result<Format> parse_format(std::string_view s);
Result<Thinking> parse_thinking(std::string_view s);

// The labels a mode's verdict may take, canonical spelling: 1..5, Yes/No, A/B.
std::vector<std::string> mode_labels(Mode m);

// messages: [{role, content}...]; vars: add_generation_prompt, bos_token, ... -> prompt text.
using ChatRenderer =
    std::function<Result<std::string>(const nlohmann::json& messages, const nlohmann::json& vars)>;

// The template variables for a judge prompt: generation prompt on, the checkpoint's BOS/EOS,
// and enable_thinking unless the template default is asked for.
nlohmann::json chat_vars(const BackendInfo& info, Thinking thinking);

}  // namespace gavel::judge
