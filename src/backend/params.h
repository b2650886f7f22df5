// Checks shared by every Backend implementation.
#pragma once

#include "gavel/backend.h"

namespace gavel::backend {

// max_tokens >= 1, a finite temperature >= 0, top_p in (0, 1], no empty stop string.
Status check_params(const GenerateParams& p);

// Every range of a request's `as_text` lies within its prompt (begin <= end <= size).
Status check_as_text(const std::string& prompt, std::span<const TextSpan> as_text);

}  // namespace gavel::backend
