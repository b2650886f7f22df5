// What the judge tests share: the scripted fake backend (backend/scripted_backend.h, the one
// fake of the project) under its test name, and a trivial chat renderer.
#pragma once

#include <string>

#include "backend/scripted_backend.h"
#include "judge/protocol.h"

namespace gavel::judge::testing {

using ScriptedBackend = gavel::backend::ScriptedBackend;

// "<role>\ncontent\n" per message, then "<assistant>\n" when a generation prompt is asked for,
// and "<think-off>" when enable_thinking is false: enough to see what the judge rendered.
inline ChatRenderer trivial_renderer() {
  return [](const nlohmann::json& messages, const nlohmann::json& vars) -> Result<std::string> {
    std::string s;
    for (const auto& m : messages) {
      s += '<';
      s += m["role"].get<std::string>();
      s += ">\n";
      s += m["content"].get<std::string>();
      s += '\n';
    }
    if (vars.value("add_generation_prompt", false)) s += "<assistant>\n";
    if (vars.contains("enable_thinking") && !vars["enable_thinking"].get<bool>())
      s += "<think-off>";
    return s;
  };
}

// A pairwise judge that prefers the text starting with "good": lA - lB = +1 when that text
// sits in position A (the card's JSON prompt writes `"A": "<text>`), -1 otherwise.
inline void prefer_good(ScriptedBackend& be) {
  be.logprob = [](const std::string& prompt, const std::string& c) {
    const bool good_in_a = prompt.find("\"A\": \"good") != std::string::npos;
    return (c == "A") == good_in_a ? -0.3 : -1.3;
  };
}

}  // namespace gavel::judge::testing
