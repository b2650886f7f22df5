// Range checks of numeric parameters (command-line flags, API options, library arguments): an
// error with code kInvalidArgument that names the parameter and the value it got, such as
// "level: must be in (0, 1), got 2". NaN and infinities fail every check, so a NaN never
// flows into a statistic as a silent nonsense result.
#pragma once

#include <string_view>

#include "gavel/status.h"

namespace gavel {

// v finite and >= lo.
Status check_at_least(std::string_view name, double v, double lo);
// 0 < v < 1 (a confidence level, a probability that cannot be certain).
Status check_open_unit(std::string_view name, double v);
// v finite and > 0.
Status check_positive(std::string_view name, double v);
// v finite (any sign).
Status check_finite(std::string_view name, double v);
// lo <= v <= hi for a count; `why` (may be empty) says what the upper bound protects.
Status check_count(std::string_view name, long long v, long long lo, long long hi,
                   std::string_view why = {});

}  // namespace gavel
