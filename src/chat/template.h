// A compiled chat template: parse once, render many conversations. Rendering follows
// transformers' apply_chat_template (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
// loopcontrols, the {% generation %} tag, HF's tojson / raise_exception / strftime_now).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gavel/status.h"

namespace gavel::chat {

struct Program;

struct RenderOptions {
  int64_t max_steps = 10'000'000;  // evaluation steps before a runaway template is stopped
  int max_depth = 200;             // nested macro calls / blocks
  // Local time strftime_now() sees, as "YYYY-MM-DD HH:MM:SS"; empty = the real clock. The
  // environment variable GAVEL_CHAT_NOW overrides the real clock when this is empty.
  std::string now;
};

class Template {
 public:
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // Errors name the line and column of the offending tag.
  static Result<Template> compile(std::string_view source);

  // messages and vars as in render(); ordered_json keeps object key order like Python dicts.
  Result<std::string> render(const nlohmann::ordered_json& messages,
                             const nlohmann::ordered_json& vars,
                             const RenderOptions& opt = {}) const;

 private:
  Template() = default;
  std::unique_ptr<Program> program_;
};

// render() with ordered_json inputs (key order of tool schemas etc. is kept).
Result<std::string> render_ordered(std::string_view template_source,
                                   const nlohmann::ordered_json& messages,
                                   const nlohmann::ordered_json& vars,
                                   const RenderOptions& opt = {});

}  // namespace gavel::chat
