// Typed, strict reading of a JSON request object: each getter checks the field's type and
// range and names the field in its error; finish() rejects fields nobody asked for (a typo
// such as "max_token" must not silently fall back to a default). null counts as absent, as
// OpenAI clients send it for unset options.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.h"

namespace gavel::server {

// Thrown by FieldReader, caught at the parse_* boundary and turned into an ApiError (400).
struct FieldError : std::runtime_error {
  FieldError(std::string param, const std::string& message)
      : std::runtime_error(message), param(std::move(param)) {}
  std::string param;
};

// The body as a JSON value; errors (400) give the byte offset of a syntax error.
ApiResult<nlohmann::json> parse_body(std::string_view body);

// "a string", "an integer", ... for error messages.
std::string json_kind(const nlohmann::json& v);

class FieldReader {
 public:
  // `obj` must outlive the reader; `path` prefixes field names in errors ("" at top level,
  // "messages[2]" inside a list element).
  FieldReader(const nlohmann::json& obj, std::string path);

  bool has(std::string_view name) const;
  const nlohmann::json& object() const { return obj_; }
  // The raw value (nullptr when absent or null); marks the field as known.
  const nlohmann::json* get(std::string_view name);
  std::string name_of(std::string_view field) const;  // "messages[2].role"

  std::optional<std::string> opt_string(std::string_view name, size_t max_bytes = SIZE_MAX);
  std::string string(std::string_view name, size_t max_bytes = SIZE_MAX);  // required
  std::optional<int64_t> opt_int(std::string_view name, int64_t lo, int64_t hi);
  int64_t integer(std::string_view name, int64_t def, int64_t lo, int64_t hi);
  double number(std::string_view name, double def, double lo, double hi);
  bool boolean(std::string_view name, bool def);
  // A string or a list of strings (OpenAI's "stop"), at most `max_items`, none empty.
  std::vector<std::string> strings(std::string_view name, size_t max_items, size_t max_bytes);
  // Accepted only at its neutral value: options OpenAI defines that this server does not
  // implement ("n" other than 1, penalties other than 0) fail instead of being ignored.
  void only(std::string_view name, const nlohmann::json& neutral, std::string_view why);
  // Accepted and ignored (OpenAI's "user").
  void ignore(std::string_view name);
  // Throws for the first field not read by any getter.
  void finish() const;

  [[noreturn]] void fail(std::string_view name, const std::string& what) const;

 private:
  const nlohmann::json& obj_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace gavel::server
