// Rendering a conversation file for the CLI (`gavel render`, `gavel tokenize --messages`):
// the template comes from a model (GGUF / HF folder, with its special tokens as variables) or
// a template file; the messages file is a JSON list or {"messages": [...], other vars...}.
#pragma once

#include <string>
#include <vector>

#include "chat/template.h"
#include "gavel/status.h"

namespace gavel::chat {

struct ConversationRequest {
  std::string model;          // .gguf or HF folder; or empty when template_path is set
  std::string template_path;  // a .jinja file
  std::string template_name;  // named template of the model (empty = default)
  std::string messages_path;
  std::vector<std::string> vars;  // "key=value"; value parsed as JSON when it parses
  bool add_generation_prompt = true;
  RenderOptions options;
};

struct RenderedConversation {
  std::string text;
  std::string bos_token;  // the model's BOS text ("" when unknown), to avoid doubling it
};

Result<RenderedConversation> render_conversation(const ConversationRequest& req);

}  // namespace gavel::chat
