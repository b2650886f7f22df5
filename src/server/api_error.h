// The error a route answers with: an HTTP status, a message that names what was wrong and, for
// a bad request, the offending field (OpenAI's error "param"). Rendered as OpenAI's error body
// {"error": {"message", "type", "param", "code"}} so OpenAI clients raise their usual exceptions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>

#include "gavel/status.h"

namespace gavel::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string param;  // the field at fault, e.g. "messages[1].content"; "" when none
};

// OpenAI's error type for a status: invalid_request_error, authentication_error, ...
const char* error_type(int status);
nlohmann::ordered_json error_body(const ApiError& e);

// The one mapping from gavel's status codes to HTTP statuses: invalid argument and out of range
// -> 400, not found -> 404, unavailable and resource exhausted -> 503, cancelled -> 503 (the
// server stops), unimplemented -> 501, the rest (corruption, I/O, internal) -> 500. An
// unclassified error (kUnknown) gets `unknown`: 400 where the call only validated the request
// (planning an item from its texts), 500 elsewhere.
int http_status(StatusCode code, int unknown = 500);

// The error reply for a failed gavel call; `param` names the request field at fault and is kept
// only for a client error (4xx).
ApiError status_error(const Status& s, const std::string& param = "", int unknown = 500);

// A value or an ApiError (like gavel::Result, with an HTTP status and a field name).
template <class T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T v) : v_(std::in_place_index<0>, std::move(v)) {}         // NOLINT
  ApiResult(ApiError e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace gavel::server
