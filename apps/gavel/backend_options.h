// One way for every command to get its judge backend from flags: --model M.gguf opens the
// embedded engine, --backend fake:... the deterministic scripted backend (gavel's tests only:
// refused unless GAVEL_TEST_BACKEND=1, backend/scripted_backend.h). A command adds the
// flags with add_backend_options() and calls open_backend(); new backend kinds are added here
// once, and every command that judges gets them.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "gavel/backend.h"
#include "gavel/status.h"
#include "judge/protocol.h"

namespace gavel::backend {
class EmbeddedBackend;
}

namespace gavel::cli {

struct BackendOptions {
  std::string model, backend;
  int threads = 2, ctx = 4096, prefix_cache = 4;
};

void add_backend_options(CLI::App& app, BackendOptions& o);

struct OpenedBackend {
  std::unique_ptr<Backend> backend;
  judge::ChatRenderer render;                          // the checkpoint's own chat template
  const backend::EmbeddedBackend* embedded = nullptr;  // set for --model (prefix-reuse figures)
};

Result<OpenedBackend> open_backend(const BackendOptions& o);

// The prefix-reuse line printed after a run on the embedded backend ("" for other backends).
std::string prefix_reuse_summary(const OpenedBackend& b);

}  // namespace gavel::cli
