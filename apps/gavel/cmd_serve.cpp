// `gavel serve --model M.gguf [--store gavel.sqlite] [--port 8080]`: the judge service. OpenAI-
// compatible routes on the embedded engine, the judge API over the store, /health, /metrics and
// the dashboard at /. Binds 127.0.0.1 unless --host says otherwise; --api-key-env/--api-key-file
// turn on Bearer authentication.
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "backend_options.h"
#include "command.h"
#include "core/io.h"
#include "server/server.h"
#include "store/store.h"

namespace {

struct Options {
  gavel::cli::BackendOptions backend;
  std::string store = "gavel.sqlite", api_key_env, api_key_file;
  bool quiet = false;
  gavel::server::ServerOptions server;
};

// The key from the environment variable or the file (trailing newline stripped); "" = none.
gavel::Result<std::string> api_key(const Options& o) {
  if (!o.api_key_env.empty()) {
    const char* v = std::getenv(o.api_key_env.c_str());
    if (!v || !*v)
      return gavel::Error{
          "--api-key-env: the environment variable " + o.api_key_env + " is not set or empty",
          gavel::StatusCode::kInvalidArgument};
    return std::string(v);
  }
  if (!o.api_key_file.empty()) {
    auto s = gavel::read_file(o.api_key_file);
    if (!s.ok()) return s.status().prefixed("--api-key-file: ");
    std::string k = *s;
    while (!k.empty() && (k.back() == '\n' || k.back() == '\r')) k.pop_back();
    if (k.empty())
      return gavel::Error{"--api-key-file: " + o.api_key_file + " is empty",
                          gavel::StatusCode::kInvalidArgument};
    return k;
  }
  return std::string();
}

int run(Options o) {
  using gavel::cli::fail;
  auto key = api_key(o);
  if (!key.ok()) return fail(key.message());
  o.server.api_key = *key;
  o.server.log_requests = !o.quiet;
  auto backend = gavel::cli::open_backend(o.backend);
  if (!backend.ok()) return fail(backend.message());
  if (o.server.model_name.empty() && !o.backend.model.empty())
    o.server.model_name = std::filesystem::path(o.backend.model).stem().string();
  auto store = gavel::store::Store::open(o.store);
  if (!store.ok()) return fail(store.message());
  auto st = gavel::server::serve(*backend->backend, store->get(), o.server);
  return st.ok() ? 0 : fail(st.message());
}

gavel::cli::Register reg{
    {"serve", "Serve a judge model: OpenAI-compatible API, judge API, dashboard",
     [](CLI::App& app) -> gavel::cli::Runner {
       auto o = std::make_shared<Options>();
       auto& s = o->server;
       gavel::cli::add_backend_options(app, o->backend);
       app.add_option("--store", o->store, "SQLite judgment store")->capture_default_str();
       app.add_option("--host", s.host, "address to bind (default loopback only)")
           ->capture_default_str();
       app.add_option("--port", s.port, "port (0 = any free port, printed at start)")
           ->check(CLI::Range(0, 65535))
           ->capture_default_str();
       app.add_option("--alias", s.model_name, "model id in /v1/models (default: file stem)");
       auto* env = app.add_option("--api-key-env", o->api_key_env,
                                  "require Authorization: Bearer <key>, key from this env var");
       app.add_option("--api-key-file", o->api_key_file, "... or key from this file")
           ->excludes(env);
       app.add_option("--max-body", s.max_body_bytes, "largest request body (bytes)")
           ->check(CLI::Range(size_t(1024), size_t(1) << 30))
           ->capture_default_str();
       app.add_option("--max-prompt-tokens", s.max_prompt_tokens,
                      "longest prompt (tokens; 0 = the context size)")
           ->check(CLI::Range(0, 1 << 24));
       app.add_option("--max-tokens", s.limits.max_tokens, "most tokens one request may generate")
           ->check(CLI::Range(1, 1 << 20))
           ->capture_default_str();
       app.add_option("--queue", s.queue, "model jobs queued before answering 503")
           ->check(CLI::Range(1, 1 << 16))
           ->capture_default_str();
       app.add_option("--http-threads", s.http_threads, "connections served at once")
           ->check(CLI::Range(2, 4096))
           ->capture_default_str();
       app.add_option("--read-timeout", s.read_timeout_s, "seconds a client may stall a read")
           ->check(CLI::Range(1, 3600))
           ->capture_default_str();
       app.add_option("--timeout", s.request_timeout_s,
                      "seconds a request may wait for the model (then 504)")
           ->check(CLI::Range(1, 86400))
           ->capture_default_str();
       app.add_flag("--quiet", o->quiet, "no per-request log lines");
       return [o]() { return run(*o); };
     }}};

}  // namespace
