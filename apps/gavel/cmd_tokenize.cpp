// `gavel tokenize MODEL [TEXT] [--text-file F] [--special] [--no-bos]`: prints the token ids of
// the text under the model's vocabulary as one JSON array line (llama.cpp-identical ids).
// `--batch F.jsonl` answers many requests with one vocabulary load (format: tokenizer/batch.h).

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/conversation.h"
#include "command.h"
#include "core/io.h"
#include "gguf/gguf.h"
#include "tokenizer/batch.h"
#include "tokenizer/tokenizer.h"

namespace {

struct TokenizeArgs {
  std::string model;
  std::string text;
  std::string text_file;
  std::string messages_file;
  std::string batch_file;
  bool special = false;
  bool no_bos = false;
  bool pieces = false;
  bool no_generation_prompt = false;
  std::vector<std::string> vars;
};

int run_batch(const gavel::Tokenizer& tok, const std::string& path) {
  auto content = gavel::read_file(path);
  if (!content.ok()) return gavel::cli::fail("tokenize: " + content.message());
  auto out = gavel::tokenize_batch(tok, *content, path);
  if (!out.ok()) return gavel::cli::fail("tokenize: " + out.message());
  std::cout << *out;
  return 0;
}

int run_tokenize(const TokenizeArgs& a, bool have_text) {
  using gavel::cli::fail;
  const int n_inputs = int(have_text) + int(!a.text_file.empty()) + int(!a.messages_file.empty()) +
                       int(!a.batch_file.empty());
  if (n_inputs != 1) {
    return fail("tokenize: give exactly one of TEXT, --text-file, --messages, --batch");
  }
  std::string text = a.text;
  bool add_bos = !a.no_bos, parse_special = a.special;
  if (!a.messages_file.empty()) {
    // Render the model's own chat template; specials in the rendered text are parsed, and a
    // BOS the template already wrote (Llama 3) is not added a second time.
    gavel::chat::ConversationRequest req;
    req.model = a.model;
    req.messages_path = a.messages_file;
    req.vars = a.vars;
    req.add_generation_prompt = !a.no_generation_prompt;
    auto conv = gavel::chat::render_conversation(req);
    if (!conv.ok()) return fail("tokenize: " + conv.message());
    text = std::move(conv->text);
    parse_special = true;
    if (!conv->bos_token.empty() && text.starts_with(conv->bos_token)) add_bos = false;
  }
  if (!a.text_file.empty()) {
    auto content = gavel::read_file(a.text_file);
    if (!content.ok()) return fail("tokenize: " + content.message());
    text = std::move(*content);
  }
  auto file = gavel::gguf::File::open(a.model);
  if (!file.ok()) return fail("tokenize: " + file.message());
  auto tok = gavel::Tokenizer::from_gguf(**file);
  if (!tok.ok()) return fail("tokenize: " + tok.message());
  if (!a.batch_file.empty()) return run_batch(*tok, a.batch_file);
  const std::vector<int32_t> ids = tok->encode(text, add_bos, parse_special);
  if (a.pieces) {
    nlohmann::json arr = nlohmann::json::array();
    for (int32_t id : ids) {
      arr.push_back({{"id", id}, {"piece", tok->token_text(id)}});
    }
    // Pieces may be partial UTF-8 sequences: show them with replacement characters.
    std::cout << arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << nlohmann::json(ids).dump() << "\n";
  }
  return 0;
}

gavel::cli::Register reg{
    {"tokenize", "Print the token ids of a text (JSON array, one line)",
     [](CLI::App& app) -> gavel::cli::Runner {
       auto a = std::make_shared<TokenizeArgs>();
       app.add_option("model", a->model, "GGUF model or vocab file")->required();
       auto* text_opt = app.add_option("text", a->text, "text to tokenize");
       app.add_option("--text-file", a->text_file, "read the text from this file (bytes as is)");
       app.add_option("--messages", a->messages_file,
                      "FILE holding the chat messages as JSON (rendered by the chat template)");
       app.add_option("--batch", a->batch_file, "JSONL of cases; prints one id array per line");
       app.add_flag("--special", a->special, "parse control tokens written in the text");
       app.add_flag("--no-bos", a->no_bos, "do not add BOS/EOS even if the vocab asks for it");
       app.add_flag("--pieces", a->pieces, "print [{id, piece}] instead of plain ids");
       app.add_flag("--no-generation-prompt", a->no_generation_prompt,
                    "with --messages: render without the assistant generation prompt");
       app.add_option("--var", a->vars, "with --messages: template variable key=value (JSON value)");
       return [a, text_opt]() { return run_tokenize(*a, text_opt->count() > 0); };
     }}};

}  // namespace
