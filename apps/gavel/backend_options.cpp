#include "backend_options.h"

#include <fmt/format.h>

#include "backend/embedded_backend.h"
#include "chat/chat.h"
#include "backend/scripted_backend.h"

namespace gavel::cli {

void add_backend_options(CLI::App& app, BackendOptions& o) {
  app.add_option("--model", o.model, "GGUF judge model");
  app.add_option("--backend", o.backend,
                 "fake:opts = deterministic scripted backend (gavel's tests only)")
      ->group("");
  app.add_option("--threads", o.threads, "engine threads")->check(CLI::Range(1, 256));
  app.add_option("--ctx", o.ctx, "context size (tokens)")->check(CLI::Range(16, 1 << 24));
  app.add_option("--prefix-cache", o.prefix_cache,
                 "evaluated sequences kept for prefix reuse (0 = off)")
      ->check(CLI::Range(0, 64));
}

Result<OpenedBackend> open_backend(const BackendOptions& o) {
  OpenedBackend out;
  if (o.backend == "fake" || o.backend.rfind("fake:", 0) == 0) {
    const std::string options = o.backend.size() > 5 ? o.backend.substr(5) : "";
    GAVEL_ASSIGN(out.backend, backend::open_test_backend(options));
  } else if (!o.backend.empty()) {
    return Error{"unknown --backend '" + o.backend + "' (give --model M.gguf)",
                 StatusCode::kInvalidArgument};
  } else if (!o.model.empty()) {
    GAVEL_ASSIGN(auto e,
                 backend::EmbeddedBackend::open(o.model, {o.threads, o.ctx, o.prefix_cache}));
    out.embedded = e.get();
    out.backend = std::move(e);
  } else {
    return Error{"give --model M.gguf", StatusCode::kInvalidArgument};
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
  if (!b.embedded) return "";
  const backend::PrefixStats& ps = b.embedded->stats();
  return fmt::format(
      "prefix reuse: {} prompts, {} prompt tokens: {} reused from cached sequences ({:.1f}%), {} "
      "evaluated; {} candidate/generated tokens evaluated\n",
      ps.prompts, ps.prompt_tokens, ps.reused_tokens,
      ps.prompt_tokens ? 100.0 * double(ps.reused_tokens) / double(ps.prompt_tokens) : 0.0,
      ps.evaluated_tokens, ps.continuation_tokens);
}

}  // namespace gavel::cli
