// One place that turns a BackendSpec (include/gavel/backend.h) into a Backend: the embedded
// engine for a GGUF (--model), or HttpBackend over one or more serving engines (--backend URL,
// repeatable). Every command that runs a judge model (judge, tournament, server) and the public
// API (gavel::Judge) call open_backend().
#pragma once

#include <cstdio>
#include <memory>

#include "gavel/backend.h"

namespace gavel::backend {

// The configured backend. `log` gets a line per HTTP endpoint checked (nullptr = quiet).
Result<std::unique_ptr<Backend>> open_backend(const BackendSpec& c, std::FILE* log);

}  // namespace gavel::backend
