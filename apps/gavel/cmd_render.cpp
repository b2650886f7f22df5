// `gavel render`: renders a chat template for a conversation, byte-exactly as transformers'
// apply_chat_template would, and prints it with nothing added.
//   gavel render --template FILE.jinja --messages FILE.json [--var k=v ...]
//   gavel render MODEL.gguf|HF_DIR --messages FILE.json [--no-generation-prompt]
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/model_template.h"
#include "chat/template.h"
#include "command.h"
#include "core/io.h"

namespace {

struct RenderArgs {
  std::string model;
  std::string template_path;
  std::string template_name;
  std::string messages_path;
  std::vector<std::string> vars;
  bool no_generation_prompt = false;
  int64_t max_steps = 10'000'000;
  std::string now;
};

gavel::Result<nlohmann::ordered_json> read_json(const std::string& path) {
  GAVEL_ASSIGN(std::string text, gavel::read_file(path));
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return gavel::Error{path + ": invalid JSON: " + e.what()};
  }
}

int run(const RenderArgs& a) {
  using gavel::cli::fail;
  if (a.model.empty() == a.template_path.empty()) {
    return fail("render: give either a model (GGUF file or HF folder) or --template FILE");
  }
  std::string source;
  nlohmann::ordered_json vars = nlohmann::ordered_json::object();
  if (!a.template_path.empty()) {
    auto text = gavel::read_file(a.template_path);
    if (!text.ok()) return fail(text.message());
    source = std::move(text).value();
  } else {
    auto mt = gavel::chat::load_model_template(a.model, a.template_name);
    if (!mt.ok()) return fail(mt.message());
    source = std::move(mt->source);
    for (auto it = mt->special_tokens.begin(); it != mt->special_tokens.end(); ++it) {
      vars[it.key()] = it.value();
    }
  }
  // --messages: a JSON list of messages, or an object {"messages": [...], other vars...}.
  auto doc = read_json(a.messages_path);
  if (!doc.ok()) return fail(doc.message());
  nlohmann::ordered_json messages;
  if (doc->is_array()) {
    messages = std::move(doc).value();
  } else if (doc->is_object() && doc->contains("messages")) {
    for (auto it = doc->begin(); it != doc->end(); ++it) {
      if (it.key() == "messages") {
        messages = it.value();
      } else {
        vars[it.key()] = it.value();
      }
    }
  } else {
    return fail(a.messages_path + ": expected a JSON list of messages or an object with 'messages'");
  }
  if (!messages.is_array()) return fail(a.messages_path + ": 'messages' must be a list");
  vars["add_generation_prompt"] = !a.no_generation_prompt;
  for (const std::string& kv : a.vars) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return fail("--var expects key=value, got '" + kv + "'");
    std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    auto parsed = nlohmann::ordered_json::parse(value, nullptr, /*allow_exceptions=*/false);
    vars[key] = parsed.is_discarded() ? nlohmann::ordered_json(value) : parsed;
  }
  auto tpl = gavel::chat::Template::compile(source);
  if (!tpl.ok()) return fail((a.template_path.empty() ? a.model : a.template_path) + ": " + tpl.message());
  gavel::chat::RenderOptions opt;
  opt.max_steps = a.max_steps;
  opt.now = a.now;
  auto out = tpl->render(messages, vars, opt);
  if (!out.ok()) return fail((a.template_path.empty() ? a.model : a.template_path) + ": " + out.message());
  std::fwrite(out->data(), 1, out->size(), stdout);
  std::fflush(stdout);
  return 0;
}

gavel::cli::Register reg{{"render", "Render a chat template for a conversation (as HF apply_chat_template)",
                          [](CLI::App& app) -> gavel::cli::Runner {
                            auto a = std::make_shared<RenderArgs>();
                            app.add_option("model", a->model, "GGUF file or Hugging Face model folder");
                            app.add_option("--template", a->template_path, "Jinja template file");
                            app.add_option("--template-name", a->template_name,
                                           "named template (e.g. tool_use)");
                            app.add_option("--messages", a->messages_path,
                                           "JSON list of messages, or {messages, tools, ...}")
                                ->required();
                            app.add_flag("--no-generation-prompt", a->no_generation_prompt,
                                         "add_generation_prompt=false");
                            app.add_option("--var", a->vars,
                                           "extra variable key=value (value parsed as JSON when it is JSON)");
                            app.add_option("--max-steps", a->max_steps, "evaluation step limit");
                            app.add_option("--now", a->now,
                                           "fixed local time for strftime_now, 'YYYY-MM-DD HH:MM:SS'");
                            return [a]() -> int { return run(*a); };
                          }}};

}  // namespace
