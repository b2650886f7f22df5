// Errors as values (LevelDB/absl style): every fallible call returns a Status or a Result<T>.
// An error has a code, for callers that branch (a missing file, corrupt input, a busy
// resource...), and a message for people that names what went wrong and where (file, line,
// field, offset). Callers branch on the code, never on the message text.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gavel {

enum class StatusCode {
  kOk = 0,
  kUnknown,            // an error nobody classified (the default of Error{"message"})
  kInvalidArgument,    // the input or a flag is malformed or out of its domain
  kNotFound,           // a file, field, template or record that was asked for does not exist
  kOutOfRange,         // well-formed, but past a limit (context length, token id, ...)
  kCorruption,         // stored or downloaded bytes are damaged (truncated GGUF, bad checksum)
  kIOError,            // the operating system failed a read, write or rename
  kUnavailable,        // a resource is busy or not reachable now (locked file, server down)
  kResourceExhausted,  // a budget ran out (memory, template step limit, disk)
  kCancelled,          // the caller stopped the work
  kUnimplemented,      // a valid request this build does not support
  kInternal,           // an invariant of gavel itself broke
};

// "not found", "invalid argument", ...: for messages and logs.
constexpr std::string_view code_name(StatusCode c) {
  switch (c) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kUnknown:
      return "unknown";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kOutOfRange:
      return "out of range";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kIOError:
      return "I/O error";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kResourceExhausted:
      return "resource exhausted";
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kUnimplemented:
      return "unimplemented";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

// `return Error{"msg"};` (code kUnknown) or `return Error{"msg", StatusCode::kNotFound};`,
// or the Status factories below.
struct Error {
  std::string message;
  StatusCode code = StatusCode::kUnknown;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Error e)      // NOLINT: implicit by design
      : msg_(std::move(e.message)),
        code_(e.code == StatusCode::kOk ? StatusCode::kUnknown : e.code) {}
  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) {
    return Error{std::move(m), StatusCode::kInvalidArgument};
  }
  static Status NotFound(std::string m) { return Error{std::move(m), StatusCode::kNotFound}; }
  static Status OutOfRange(std::string m) { return Error{std::move(m), StatusCode::kOutOfRange}; }
  static Status Corruption(std::string m) { return Error{std::move(m), StatusCode::kCorruption}; }
  static Status IOError(std::string m) { return Error{std::move(m), StatusCode::kIOError}; }
  static Status Unavailable(std::string m) { return Error{std::move(m), StatusCode::kUnavailable}; }
  static Status ResourceExhausted(std::string m) {
    return Error{std::move(m), StatusCode::kResourceExhausted};
  }
  static Status Cancelled(std::string m) { return Error{std::move(m), StatusCode::kCancelled}; }
  static Status Unimplemented(std::string m) {
    return Error{std::move(m), StatusCode::kUnimplemented};
  }
  static Status Internal(std::string m) { return Error{std::move(m), StatusCode::kInternal}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return msg_; }
  // The same error with `prefix` before its message (e.g. the file it came from); ok stays ok.
  Status prefixed(std::string_view prefix) const {
    return ok() ? Status() : Status(Error{std::string(prefix) + msg_, code_});
  }

 private:
  std::string msg_;
  StatusCode code_ = StatusCode::kOk;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}      // NOLINT
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT
  Result(Status s)                                               // NOLINT: s must be an error
      : v_(std::in_place_index<1>, Error{s.message(), s.ok() ? StatusCode::kInternal : s.code()}) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }
  const std::string& message() const { return std::get<1>(v_).message; }
  StatusCode code() const { return ok() ? StatusCode::kOk : std::get<1>(v_).code; }
  Status status() const { return ok() ? Status::Ok() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace gavel

// Propagate an error (message and code) from a Status/Result expression.
#define GAVEL_TRY(expr)                                                                   \
  do {                                                                                    \
    auto&& gavel_try_ = (expr);                                                           \
    if (!gavel_try_.ok()) return ::gavel::Error{gavel_try_.message(), gavel_try_.code()}; \
  } while (0)

#define GAVEL_CONCAT_INNER(a, b) a##b
#define GAVEL_CONCAT(a, b) GAVEL_CONCAT_INNER(a, b)
// `GAVEL_ASSIGN(auto x, expr);` binds x to the value or returns the error.
#define GAVEL_ASSIGN(lhs, expr) GAVEL_ASSIGN_IMPL(GAVEL_CONCAT(gavel_res_, __LINE__), lhs, expr)
#define GAVEL_ASSIGN_IMPL(tmp, lhs, expr)                          \
  auto tmp = (expr);                                               \
  if (!tmp.ok()) return ::gavel::Error{tmp.message(), tmp.code()}; \
  lhs = std::move(tmp).value()
