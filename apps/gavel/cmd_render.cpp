// `gavel render`: renders a chat template for a conversation, byte-exactly as transformers'
// apply_chat_template would, and prints it with nothing added.
//   gavel render --template FILE.jinja --messages FILE.json [--var k=v ...]
//   gavel render MODEL.gguf|HF_DIR --messages FILE.json [--no-generation-prompt]
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/conversation.h"
#include "command.h"

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

int run(const RenderArgs& a) {
  using gavel::cli::fail;
  if (a.model.empty() == a.template_path.empty()) {
    return fail("render: give either a model (GGUF file or HF folder) or --template FILE");
  }
  gavel::chat::ConversationRequest req;
  req.model = a.model;
  req.template_path = a.template_path;
  req.template_name = a.template_name;
  req.messages_path = a.messages_path;
  req.vars = a.vars;
  req.add_generation_prompt = !a.no_generation_prompt;
  req.options.max_steps = a.max_steps;
  req.options.now = a.now;
  auto out = gavel::chat::render_conversation(req);
  if (!out.ok()) return fail(out.message());
  std::fwrite(out->text.data(), 1, out->text.size(), stdout);
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
                                           "FILE holding a JSON list of messages, or an object "
                                           "{messages, tools, ...}")
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
