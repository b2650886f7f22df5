#include "core/checks.h"

#include <fmt/format.h>

#include <cmath>

namespace gavel {
namespace {

Error invalid(std::string_view name, std::string_view rule, double v) {
  return Error{fmt::format("{}: must be {}, got {}", name, rule, v), StatusCode::kInvalidArgument};
}

}  // namespace

Status check_at_least(std::string_view name, double v, double lo) {
  if (std::isfinite(v) && v >= lo) return Status::Ok();
  return invalid(name, fmt::format("a finite number >= {}", lo), v);
}

Status check_open_unit(std::string_view name, double v) {
  if (v > 0 && v < 1) return Status::Ok();
  return invalid(name, "in (0, 1)", v);
}

Status check_positive(std::string_view name, double v) {
  if (std::isfinite(v) && v > 0) return Status::Ok();
  return invalid(name, "a finite number > 0", v);
}

Status check_finite(std::string_view name, double v) {
  if (std::isfinite(v)) return Status::Ok();
  return invalid(name, "a finite number", v);
}

Status check_count(std::string_view name, long long v, long long lo, long long hi,
                   std::string_view why) {
  if (v >= lo && v <= hi) return Status::Ok();
  return Error{
      fmt::format("{}: must be {}..{}{}{}, got {}", name, lo, hi, why.empty() ? "" : " ", why, v),
      StatusCode::kInvalidArgument};
}

}  // namespace gavel
