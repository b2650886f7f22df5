#include "chat/conversation.h"

#include <fmt/format.h>

#include <filesystem>

#include "chat/model_template.h"
#include "core/io.h"
#include "core/json_file.h"

namespace gavel::chat {
namespace {

namespace fs = std::filesystem;

}  // namespace

Result<RenderedConversation> render_conversation(const ConversationRequest& req) {
  if (req.model.empty() == req.template_path.empty())
    return Error{"give either a model (GGUF file or HF folder) or a template file"};
  RenderedConversation out;
  std::string source;
  nlohmann::ordered_json vars = nlohmann::ordered_json::object();
  const std::string& origin = req.template_path.empty() ? req.model : req.template_path;
  if (!req.template_path.empty()) {
    GAVEL_ASSIGN(source, read_file(req.template_path));
  } else {
    GAVEL_ASSIGN(ModelTemplate mt, load_model_template(req.model, req.template_name));
    source = std::move(mt.source);
    for (auto it = mt.special_tokens.begin(); it != mt.special_tokens.end(); ++it)
      vars[it.key()] = it.value();
  }
  const std::string& mp = req.messages_path;
  std::error_code ec;
  if (!mp.empty() && (mp.front() == '[' || mp.front() == '{') && !fs::exists(mp, ec))
    return Error{
        fmt::format("messages: expected the name of a file holding the JSON, got JSON text ({}...)",
                    mp.substr(0, 20))};
  GAVEL_ASSIGN(nlohmann::ordered_json doc, read_json_file(req.messages_path));
  nlohmann::ordered_json messages;
  if (doc.is_array()) {
    messages = std::move(doc);
  } else if (doc.is_object() && doc.contains("messages")) {
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (it.key() == "messages")
        messages = it.value();
      else
        vars[it.key()] = it.value();
    }
  } else {
    return Error{req.messages_path + ": expected a JSON list of messages or an object with 'messages'"};
  }
  if (!messages.is_array()) return Error{req.messages_path + ": 'messages' must be a list"};
  vars["add_generation_prompt"] = req.add_generation_prompt;
  for (const std::string& kv : req.vars) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error{"--var expects key=value, got '" + kv + "'", StatusCode::kInvalidArgument};
    std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    auto parsed = nlohmann::ordered_json::parse(value, nullptr, /*allow_exceptions=*/false);
    vars[key] = parsed.is_discarded() ? nlohmann::ordered_json(value) : parsed;
  }
  if (vars.contains("bos_token") && vars["bos_token"].is_string())
    out.bos_token = vars["bos_token"].get<std::string>();
  auto tpl = Template::compile(source);
  if (!tpl.ok()) return Error{origin + ": " + tpl.message(), tpl.code()};
  auto text = tpl->render(messages, vars, req.options);
  if (!text.ok()) return Error{origin + ": " + text.message()};
  out.text = std::move(*text);
  return out;
}

}  // namespace gavel::chat
