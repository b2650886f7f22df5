// Where a model's own chat template comes from: a GGUF file (tokenizer.chat_template, special
// tokens from the vocabulary) or a Hugging Face folder (chat_template.jinja or
// tokenizer_config.json, special tokens from tokenizer_config.json).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "gavel/status.h"

namespace gavel::gguf {
class File;
}

namespace gavel::chat {

struct ModelTemplate {
  std::string source;                     // the Jinja text
  nlohmann::ordered_json special_tokens;  // {"bos_token": "...", "eos_token": "...", ...}
  std::string origin;                     // for messages: "<path>:tokenizer.chat_template"
};

// path: a .gguf file or an HF model folder. name selects one of several named templates
// (tokenizer.chat_template.<name> in GGUF, {name, template} lists in HF); empty = default.
Result<ModelTemplate> load_model_template(const std::string& path, const std::string& name = "");
Result<ModelTemplate> model_template_from_gguf(const gguf::File& f, const std::string& name = "");

}  // namespace gavel::chat
