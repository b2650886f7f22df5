#include "backend/params.h"

#include <fmt/format.h>

#include <cmath>

namespace gavel::backend {

Status check_params(const GenerateParams& p) {
  if (p.max_tokens < 1)
    return Status::InvalidArgument(fmt::format("max_tokens must be >= 1 (got {})", p.max_tokens));
  if (!(p.temperature >= 0.0) || !std::isfinite(p.temperature))
    return Status::InvalidArgument(
        fmt::format("temperature must be finite and >= 0 (got {})", p.temperature));
  if (!(p.top_p > 0.0 && p.top_p <= 1.0))
    return Status::InvalidArgument(fmt::format("top_p must be in (0, 1] (got {})", p.top_p));
  for (size_t i = 0; i < p.stop.size(); ++i)
    if (p.stop[i].empty()) return Status::InvalidArgument(fmt::format("stop string {} is empty", i));
  if (p.logprobs < -1)
    return Status::InvalidArgument(fmt::format("logprobs must be >= -1 (got {})", p.logprobs));
  return Status::Ok();
}

Status check_as_text(const std::string& prompt, std::span<const TextSpan> as_text) {
  for (const TextSpan& s : as_text)
    if (s.begin > s.end || s.end > prompt.size())
      return Status::InvalidArgument(
          fmt::format("as_text range [{}, {}) is not within the {}-byte prompt", s.begin, s.end,
                      prompt.size()));
  return Status::Ok();
}

}  // namespace gavel::backend
