// Fuzzes the chat-template interpreter: the input is compiled as a template and rendered
// against a fixed conversation. Must never crash or hang (step and depth limits apply).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::ordered_json kMessages = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "sys"},
    {"role": "user", "content": "héllo \"q\" \\ {{x}}"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function",
      "function": {"name": "f", "arguments": {"a": 1, "b": [1.5, null, true]}}}]},
    {"role": "tool", "content": "42"},
    {"role": "user", "content": [{"type": "text", "text": "part"}]}])");
  static const nlohmann::ordered_json kVars = nlohmann::ordered_json::parse(R"({
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>",
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]})");
  gavel::chat::RenderOptions opt;
  opt.max_steps = 200000;  // keep each input fast
  opt.now = "2026-01-15 10:30:00";
  auto t = gavel::chat::Template::compile(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!t.ok()) return 0;
  auto out = t->render(kMessages, kVars, opt);
  (void)out;
  return 0;
}
