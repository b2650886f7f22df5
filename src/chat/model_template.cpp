#include "chat/model_template.h"

#include <filesystem>

#include "core/io.h"
#include "core/json_file.h"
#include "gguf/gguf.h"

namespace gavel::chat {

namespace fs = std::filesystem;

Result<ModelTemplate> model_template_from_gguf(const gguf::File& f, const std::string& name) {
  ModelTemplate t;
  std::string key = name.empty() ? "tokenizer.chat_template" : "tokenizer.chat_template." + name;
  auto src = f.get_string(key);
  if (!src.ok())
    return Error{f.path() + ": no chat template (" + src.message() + ")", StatusCode::kNotFound};
  t.source = std::move(src).value();
  t.origin = f.path() + ":" + key;
  t.special_tokens = nlohmann::ordered_json::object();
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (!tokens.ok()) return t;
  const std::pair<const char*, const char*> ids[] = {
      {"tokenizer.ggml.bos_token_id", "bos_token"},
      {"tokenizer.ggml.eos_token_id", "eos_token"},
      {"tokenizer.ggml.unknown_token_id", "unk_token"},
      {"tokenizer.ggml.seperator_token_id", "sep_token"},
      {"tokenizer.ggml.padding_token_id", "pad_token"},
  };
  for (const auto& [id_key, var] : ids) {
    if (!f.has(id_key)) continue;
    auto id = f.get_int(id_key);
    if (!id.ok()) return Error{f.path() + ": " + id.message()};
    if (id.value() < 0 || static_cast<size_t>(id.value()) >= tokens->size()) {
      return Error{f.path() + ": " + id_key + " = " + std::to_string(id.value()) +
                   " is outside the vocabulary (" + std::to_string(tokens->size()) + " tokens)"};
    }
    t.special_tokens[var] = (*tokens)[static_cast<size_t>(id.value())];
  }
  return t;
}

static Result<ModelTemplate> from_hf_folder(const std::string& dir, const std::string& name) {
  ModelTemplate t;
  t.special_tokens = nlohmann::ordered_json::object();
  const std::string cfg_path = (fs::path(dir) / "tokenizer_config.json").string();
  nlohmann::ordered_json cfg = nlohmann::ordered_json::object();
  if (fs::exists(cfg_path)) {
    GAVEL_ASSIGN(cfg, read_json_file(cfg_path));
    if (!cfg.is_object()) return Error{cfg_path + ": expected a JSON object"};
  }
  // Special tokens: strings or AddedToken objects {"content": ...}.
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                          "cls_token", "mask_token"}) {
    if (!cfg.contains(key)) continue;
    const auto& v = cfg[key];
    if (v.is_string()) {
      t.special_tokens[key] = v;
    } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
      t.special_tokens[key] = v["content"];
    } else if (!v.is_null()) {
      return Error{cfg_path + ": field '" + key + "' must be a string or {content: ...}"};
    }
  }
  const std::string jinja_path = (fs::path(dir) / "chat_template.jinja").string();
  if (name.empty() && fs::exists(jinja_path)) {
    GAVEL_ASSIGN(t.source, read_file(jinja_path));
    t.origin = jinja_path;
    return t;
  }
  if (!cfg.contains("chat_template")) {
    return Error{dir +
                     ": no chat template (neither chat_template.jinja nor a 'chat_template' "
                     "field in tokenizer_config.json)",
                 StatusCode::kNotFound};
  }
  const auto& ct = cfg["chat_template"];
  if (ct.is_string()) {
    if (!name.empty() && name != "default") {
      return Error{cfg_path + ": has a single chat template, not one named '" + name + "'"};
    }
    t.source = ct.get<std::string>();
    t.origin = cfg_path + ":chat_template";
    return t;
  }
  if (!ct.is_array()) return Error{cfg_path + ": 'chat_template' must be a string or a list"};
  const std::string want = name.empty() ? "default" : name;
  for (size_t i = 0; i < ct.size(); ++i) {
    const auto& e = ct[i];
    if (!e.is_object() || !e.contains("name") || !e.contains("template") ||
        !e["name"].is_string() || !e["template"].is_string()) {
      return Error{cfg_path + ": chat_template[" + std::to_string(i) +
                   "] must be {\"name\": str, \"template\": str}"};
    }
    if (e["name"].get<std::string>() == want) {
      t.source = e["template"].get<std::string>();
      t.origin = cfg_path + ":chat_template[" + want + "]";
      return t;
    }
  }
  return Error{cfg_path + ": no chat template named '" + want + "'", StatusCode::kNotFound};
}

Result<ModelTemplate> load_model_template(const std::string& path, const std::string& name) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return from_hf_folder(path, name);
  if (!fs::exists(path, ec))
    return Error{path + ": no such file or directory", StatusCode::kNotFound};
  GAVEL_ASSIGN(auto f, gguf::File::open(path));
  return model_template_from_gguf(*f, name);
}

}  // namespace gavel::chat
