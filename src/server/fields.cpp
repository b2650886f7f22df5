#include "server/fields.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace gavel::server {

using nlohmann::json;

namespace {
// Deeper requests are refused: no route needs more, and it bounds recursion on the parsed value.
constexpr int kMaxDepth = 64;
}  // namespace

const char* error_type(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
    case 503:
      return "server_overloaded";
    case 504:
      return "timeout_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

int http_status(StatusCode code, int unknown) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
    case StatusCode::kCancelled:
      return 503;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnknown:
      return unknown;
    case StatusCode::kCorruption:
    case StatusCode::kIOError:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

ApiError status_error(const Status& s, const std::string& param, int unknown) {
  const int status = http_status(s.code(), unknown);
  return ApiError{status, s.message(), status < 500 ? param : ""};
}

nlohmann::ordered_json error_body(const ApiError& e) {
  using ojson = nlohmann::ordered_json;
  return {{"error",
           {{"message", e.message},
            {"type", error_type(e.status)},
            {"param", e.param.empty() ? ojson(nullptr) : ojson(e.param)},
            {"code", nullptr}}}};
}

ApiResult<json> parse_body(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return ApiError{400, "the request body is empty; send a JSON object", ""};
  bool too_deep = false;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t, json&) {
    if (depth > kMaxDepth) too_deep = true;
    return !too_deep;
  };
  json v;
  try {
    v = json::parse(body, cb);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e999
    return ApiError{400, fmt::format("the body is not valid JSON: {}", e.what()), ""};
  }
  if (too_deep)
    return ApiError{400, fmt::format("the body nests deeper than {} levels", kMaxDepth), ""};
  if (!v.is_object())
    return ApiError{400, fmt::format("the body must be a JSON object, not {}", json_kind(v)), ""};
  return v;
}

std::string json_kind(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "an object";
    default:
      return "a value of another kind";
  }
}

FieldReader::FieldReader(const json& obj, std::string path) : obj_(obj), path_(std::move(path)) {
  if (!obj_.is_object())
    throw FieldError(path_, fmt::format("'{}' must be an object, not {}",
                                        path_.empty() ? "body" : path_, json_kind(obj_)));
}

std::string FieldReader::name_of(std::string_view field) const {
  return path_.empty() ? std::string(field) : fmt::format("{}.{}", path_, field);
}

void FieldReader::fail(std::string_view name, const std::string& what) const {
  const std::string n = name_of(name);
  throw FieldError(n, fmt::format("field '{}': {}", n, what));
}

bool FieldReader::has(std::string_view name) const {
  auto it = obj_.find(name);
  return it != obj_.end() && !it->is_null();
}

const json* FieldReader::get(std::string_view name) {
  seen_.emplace(name);
  auto it = obj_.find(name);
  return it == obj_.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> FieldReader::opt_string(std::string_view name, size_t max_bytes) {
  const json* v = get(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(name, fmt::format("expected a string, got {}", json_kind(*v)));
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes) fail(name, fmt::format("longer than {} bytes", max_bytes));
  return s;
}

std::string FieldReader::string(std::string_view name, size_t max_bytes) {
  auto s = opt_string(name, max_bytes);
  if (!s) fail(name, "is required (a string)");
  return *s;
}

std::optional<int64_t> FieldReader::opt_int(std::string_view name, int64_t lo, int64_t hi) {
  const json* v = get(name);
  if (!v) return std::nullopt;
  int64_t x = 0;
  if (v->is_number_integer()) {
    x = v->get<int64_t>();
  } else if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<int64_t>::max()))
      fail(name, fmt::format("{} is out of range [{}, {}]", u, lo, hi));
    x = int64_t(u);
  } else if (v->is_number_float() && std::isfinite(v->get<double>()) &&
             std::trunc(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9.0e15) {
    x = int64_t(v->get<double>());  // 16.0 is an integer
  } else {
    fail(name, fmt::format("expected an integer, got {}", json_kind(*v)));
  }
  if (x < lo || x > hi) fail(name, fmt::format("{} is out of range [{}, {}]", x, lo, hi));
  return x;
}

int64_t FieldReader::integer(std::string_view name, int64_t def, int64_t lo, int64_t hi) {
  auto v = opt_int(name, lo, hi);
  return v ? *v : def;
}

double FieldReader::number(std::string_view name, double def, double lo, double hi) {
  const json* v = get(name);
  if (!v) return def;
  if (!v->is_number()) fail(name, fmt::format("expected a number, got {}", json_kind(*v)));
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi)) fail(name, fmt::format("{} is out of range [{}, {}]", x, lo, hi));
  return x;
}

bool FieldReader::boolean(std::string_view name, bool def) {
  const json* v = get(name);
  if (!v) return def;
  if (!v->is_boolean()) fail(name, fmt::format("expected true or false, got {}", json_kind(*v)));
  return v->get<bool>();
}

std::vector<std::string> FieldReader::strings(std::string_view name, size_t max_items,
                                              size_t max_bytes) {
  const json* v = get(name);
  if (!v) return {};
  std::vector<std::string> out;
  auto take = [&](const json& s, const std::string& where) {
    if (!s.is_string()) fail(where, fmt::format("expected a string, got {}", json_kind(s)));
    const auto& str = s.get_ref<const std::string&>();
    if (str.empty()) fail(where, "must not be empty");
    if (str.size() > max_bytes) fail(where, fmt::format("longer than {} bytes", max_bytes));
    out.push_back(str);
  };
  if (v->is_string()) {
    take(*v, std::string(name));
  } else if (v->is_array()) {
    if (v->size() > max_items) fail(name, fmt::format("more than {} strings", max_items));
    for (size_t i = 0; i < v->size(); ++i) take((*v)[i], fmt::format("{}[{}]", name, i));
  } else {
    fail(name, fmt::format("expected a string or a list of strings, got {}", json_kind(*v)));
  }
  return out;
}

void FieldReader::only(std::string_view name, const json& neutral, std::string_view why) {
  const json* v = get(name);
  if (!v || *v == neutral) return;
  fail(name, fmt::format("only {} is supported ({})", neutral.dump(), why));
}

void FieldReader::ignore(std::string_view name) { seen_.emplace(name); }

void FieldReader::finish() const {
  for (auto it = obj_.begin(); it != obj_.end(); ++it)
    if (!seen_.contains(it.key())) fail(it.key(), "unknown field");
}

}  // namespace gavel::server
