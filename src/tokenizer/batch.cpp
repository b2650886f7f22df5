#include "tokenizer/batch.h"

#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace gavel {
namespace {

using Json = nlohmann::json;

Result<std::string> from_hex(const std::string& hex) {
  if (hex.size() % 2) return Error{"odd number of hex digits"};
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (size_t k = i; k < i + 2; ++k) {
      const char c = hex[k];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return Error{fmt::format("bad hex digit '{}'", c)};
      v = v * 16 + d;
    }
    out.push_back(static_cast<char>(v));
  }
  return out;
}

// An optional boolean field; any other type is an error naming it.
Result<bool> flag(const Json& j, const char* key, bool fallback) {
  const auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_boolean())
    return Error{fmt::format("field {}: expected true or false, got {}", key,
                             it->dump(-1, ' ', false, Json::error_handler_t::replace))};
  return it->get<bool>();
}

Result<std::string> answer(const Tokenizer& tok, const Json& j) {
  GAVEL_ASSIGN(const bool info, flag(j, "info", false));
  if (info) {
    std::vector<int32_t> control;
    for (int32_t id = 0; id < tok.n_vocab(); ++id)
      if (tok.is_control(id)) control.push_back(id);
    return Json{{"n_vocab", tok.n_vocab()}, {"bos", tok.bos()},     {"eos", tok.eos()},
                {"eot", tok.eot()},         {"eom", tok.eom()},     {"add_bos", tok.add_bos()},
                {"add_eos", tok.add_eos()}, {"eog", tok.eog_ids()}, {"control", control}}
        .dump();
  }
  if (j.contains("ids")) {
    const Json& arr = j["ids"];
    if (!arr.is_array()) return Error{"field ids: expected an array of token ids"};
    std::vector<int32_t> ids;
    for (const Json& v : arr) {
      if (!v.is_number_integer()) return Error{"field ids: expected an array of integers"};
      const bool huge = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX);
      const int64_t id = huge ? -1 : v.get<int64_t>();
      if (id < 0 || id >= tok.n_vocab())
        return Error{fmt::format("field ids: {} is outside the vocabulary (0..{})", v.dump(),
                                 tok.n_vocab() - 1)};
      ids.push_back(int32_t(id));
    }
    GAVEL_ASSIGN(const bool special, flag(j, "special", false));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : tok.decode(ids, special)) {
      hex += kHex[c >> 4];
      hex += kHex[c & 15];
    }
    return Json{{"hex", hex}}.dump();
  }
  std::string text;
  if (j.contains("text") && j["text"].is_string()) {
    text = j["text"].get<std::string>();
  } else if (j.contains("hex") && j["hex"].is_string()) {
    auto bytes = from_hex(j["hex"].get<std::string>());
    if (!bytes.ok()) return Error{"field hex: " + bytes.message()};
    text = std::move(*bytes);
  } else {
    return Error{"needs a string field \"text\" or \"hex\" (or \"ids\", or \"info\")"};
  }
  GAVEL_ASSIGN(const bool add_special, flag(j, "add_special", true));
  GAVEL_ASSIGN(const bool parse_special, flag(j, "parse_special", false));
  return Json(tok.encode(text, add_special, parse_special)).dump();
}

}  // namespace

Result<std::string> tokenize_batch(const Tokenizer& tok, std::string_view jsonl,
                                   const std::string& name) {
  std::string out;
  size_t pos = 0, line_no = 0;
  while (pos < jsonl.size()) {
    size_t end = jsonl.find('\n', pos);
    if (end == std::string_view::npos) end = jsonl.size();
    const std::string_view line = jsonl.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      return Error{fmt::format("{}:{}: not a JSON object", name, line_no)};
    auto a = answer(tok, j);
    if (!a.ok()) return Error{fmt::format("{}:{}: {}", name, line_no, a.message())};
    out += *a;
    out += '\n';
  }
  return out;
}

}  // namespace gavel
