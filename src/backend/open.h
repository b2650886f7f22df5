// One place that turns a command's backend settings into a Backend: the embedded engine for a
// GGUF (--model), or HttpBackend over one or more serving engines (--backend URL, repeatable).
// Every command that runs a judge model (judge, tournament, server) calls open_backend().
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gavel/backend.h"

namespace gavel::backend {

struct BackendConfig {
  // Embedded engine: the GGUF to run. With backend_urls: the tokenizer source, unless
  // `tokenizer` names another GGUF.
  std::string model;
  int threads = 2;
  int ctx = 4096;  // context tokens (HTTP: Ollama's num_ctx)
  int prefix_cache = 4;

  // HTTP engines serving one model (replicas).
  std::vector<std::string> backend_urls;
  std::string backend_kind;   // "" = ask the server
  std::string tokenizer;      // GGUF of the served model ("" = model)
  std::string backend_model;  // model name in requests ("" = the server's only one)
  int concurrency = 2;        // requests in flight per endpoint
  double request_timeout_s = 600;  // includes time queued at the server
  int retries = 4;                   // further attempts after a failed one
  double down_timeout_s = 60;        // all endpoints down this long: the run stops
  std::string api_key_env;           // name of the environment variable holding the API key
  std::vector<std::string> headers;  // "Name: value"
  std::string ca_cert;               // CA bundle for https
  bool server_prefix_cache = false;  // llama.cpp cache_prompt
  int top_n = 100;                   // alternatives asked per position (llama.cpp, openai)
};

// The configured backend. `log` gets a line per HTTP endpoint checked (nullptr = quiet).
Result<std::unique_ptr<Backend>> open_backend(const BackendConfig& c, std::FILE* log);

}  // namespace gavel::backend
