// Checks shared by every Backend implementation.
#pragma once

#include "gavel/backend.h"

namespace gavel::backend {

// max_tokens >= 1, a finite temperature >= 0, top_p in (0, 1], no empty stop string.
Status check_params(const GenerateParams& p);

}  // namespace gavel::backend
