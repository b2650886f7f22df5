// One way for every command to get its judge backend from flags: --model M.gguf opens the
// embedded engine, --backend URL (repeatable) serving engines over HTTP (llama.cpp, vLLM,
// SGLang, Ollama, OpenAI-compatible; the GGUF of --model or --tokenizer gives the tokenizer and
// chat template), --backend fake:... the deterministic scripted backend (gavel's tests only:
// refused unless GAVEL_TEST_BACKEND=1, backend/scripted_backend.h). A command adds the
// flags with add_backend_options() and calls open_backend(); new backend kinds are added here
// once (the mapping to a Backend is backend::open_backend), and every command that judges gets
// them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "backend/open.h"
#include "gavel/backend.h"
#include "gavel/status.h"
#include "judge/protocol.h"

namespace gavel::cli {

struct BackendOptions : backend::BackendConfig {};

void add_backend_options(CLI::App& app, BackendOptions& o);

struct OpenedBackend {
  std::unique_ptr<Backend> backend;
  judge::ChatRenderer render;  // the checkpoint's own chat template
};

// `log` gets a line per HTTP endpoint checked at start (nullptr = quiet).
Result<OpenedBackend> open_backend(const BackendOptions& o, std::FILE* log = stderr);

// The backend's figures for the end of a run: prefix reuse for the embedded engine, per-endpoint
// throughput, retries and exactness for HTTP backends ("" for others).
std::string prefix_reuse_summary(const OpenedBackend& b);

}  // namespace gavel::cli
