#include "backend_options.h"

#include "backend/scripted_backend.h"
#include "chat/chat.h"

namespace gavel::cli {

void add_backend_options(CLI::App& app, BackendOptions& o) {
  app.add_option("--model", o.model,
                 "GGUF judge model, run in-process (with --backend: the tokenizer source)");
  app.add_option("--threads", o.threads, "engine threads")->check(CLI::Range(1, 256));
  app.add_option("--ctx", o.ctx, "context size in tokens (with --backend: Ollama's num_ctx)")
      ->check(CLI::Range(16, 1 << 24));
  app.add_option("--prefix-cache", o.prefix_cache,
                 "evaluated sequences kept for prefix reuse (0 = off)")
      ->check(CLI::Range(0, 64));
  app.add_option("--decode-batch", o.decode_batch,
                 "generations (critiques) decoded together, one weight pass for all; each "
                 "gets the bits it gets alone (1 = one at a time)")
      ->check(CLI::Range(1, 256));
  const char* http = "HTTP backends";
  app.add_option("--backend", o.urls,
                 "URL of a server running the judge model (llama.cpp, vLLM, SGLang, Ollama, "
                 "OpenAI-compatible); repeat for replicas")
      ->group(http);
  app.add_option("--backend-kind", o.kind,
                 "llama.cpp | vllm | sglang | ollama | openai (default: ask the server)")
      ->group(http);
  app.add_option("--tokenizer", o.tokenizer,
                 "GGUF of the served model: tokenizer and chat template (default: --model)")
      ->group(http);
  app.add_option("--backend-model", o.served_model,
                 "model name to request (default: the server's only model)")
      ->group(http);
  app.add_option("--concurrency", o.concurrency, "requests in flight per endpoint")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str()
      ->group(http);
  app.add_option("--request-timeout", o.request_timeout_s,
                 "seconds one HTTP request may take before it is retried")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str()
      ->group(http);
  app.add_option("--retries", o.retries,
                 "further attempts of a failed request (backoff with jitter, other endpoints)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str()
      ->group(http);
  app.add_option("--down-timeout", o.down_timeout_s,
                 "seconds with every endpoint down before requests fail")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str()
      ->group(http);
  app.add_option("--backend-api-key-env", o.api_key_env,
                 "environment variable holding the API key (sent as a Bearer token)")
      ->group(http);
  app.add_option("--backend-header", o.headers, "extra HTTP header 'Name: value' (repeatable)")
      ->group(http);
  app.add_option("--backend-ca-cert", o.ca_cert,
                 "CA bundle that signs the servers' certificates (https)")
      ->check(CLI::ExistingFile)
      ->group(http);
  app.add_flag("--server-prefix-cache", o.server_prefix_cache,
               "llama.cpp: let the server reuse cached prompt prefixes (faster; log-probs then "
               "depend on what ran before)")
      ->group(http);
  app.add_option("--top-n", o.top_n,
                 "alternatives asked per position before an exact fallback (llama.cpp, openai)")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str()
      ->group(http);
}

Result<OpenedBackend> open_backend(const BackendOptions& o, std::FILE* log) {
  OpenedBackend out;
  const auto& urls = o.urls;
  if (urls.size() == 1 && (urls[0] == "fake" || urls[0].rfind("fake:", 0) == 0)) {
    const std::string options = urls[0].size() > 5 ? urls[0].substr(5) : "";
    GAVEL_ASSIGN(out.backend, backend::open_test_backend(options));
  } else {
    GAVEL_ASSIGN(out.backend, backend::open_backend(o, log));
  }
  if (out.backend->info().chat_template.empty())
    return Error{"the model has no chat template", StatusCode::kNotFound};
  std::string tmpl = out.backend->info().chat_template;
  out.render = [tmpl](const nlohmann::json& messages, const nlohmann::json& vars) {
    return chat::render(tmpl, messages, vars);
  };
  return out;
}

std::string prefix_reuse_summary(const OpenedBackend& b) {
  return b.backend ? b.backend->report() : std::string();
}

}  // namespace gavel::cli
