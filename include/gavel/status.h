// Errors as values (LevelDB/SQLite style): every fallible call returns a Status or a
// Result<T> whose message names what went wrong and where (file, line, field, offset).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace gavel {

struct Error {
  std::string message;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Error e) : msg_(std::move(e.message)), ok_(false) {}  // NOLINT: implicit by design
  static Status Ok() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string& message() const { return msg_; }

 private:
  std::string msg_;
  bool ok_ = true;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}       // NOLINT
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}   // NOLINT
  Result(Status s) : v_(std::in_place_index<1>, Error{s.message()}) {}  // NOLINT: s must be an error
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
  Status status() const { return ok() ? Status::Ok() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace gavel

// Propagate an error from a Status/Result expression.
#define GAVEL_TRY(expr)                                       \
  do {                                                        \
    auto&& gavel_try_ = (expr);                               \
    if (!gavel_try_.ok()) return ::gavel::Error{gavel_try_.message()}; \
  } while (0)

#define GAVEL_CONCAT_INNER(a, b) a##b
#define GAVEL_CONCAT(a, b) GAVEL_CONCAT_INNER(a, b)
// `GAVEL_ASSIGN(auto x, expr);` binds x to the value or returns the error.
#define GAVEL_ASSIGN(lhs, expr) GAVEL_ASSIGN_IMPL(GAVEL_CONCAT(gavel_res_, __LINE__), lhs, expr)
#define GAVEL_ASSIGN_IMPL(tmp, lhs, expr)                    \
  auto tmp = (expr);                                         \
  if (!tmp.ok()) return ::gavel::Error{tmp.message()};       \
  lhs = std::move(tmp).value()
