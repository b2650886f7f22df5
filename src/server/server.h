// `gavel serve`: an HTTP server over a judge backend and the judgment store. Routes: the
// OpenAI-compatible API on the embedded engine (openai_routes.cpp), the judge API
// (judge_routes.cpp), /health, /metrics and the dashboard. cpp-httplib does the HTTP; model work
// is serialized through one ModelQueue while connections are served concurrently.
#pragma once

#include <memory>
#include <string>

#include "gavel/backend.h"
#include "gavel/status.h"
#include "server/routes.h"

namespace gavel::store {
class Store;
}

namespace gavel::server {

class Server {
 public:
  // `store` may be null (then the judge routes answer 501). Both must outlive the server.
  Server(Backend& backend, store::Store* store, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; the port actually bound (options.port, or a free one for 0).
  Result<int> bind();
  // Serves until stop(); call after bind().
  Status listen();
  void stop();

  Context& context();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Binds, prints "gavel serve: listening on http://HOST:PORT" to stderr, serves until SIGINT or
// SIGTERM, and shuts down cleanly (the running model job finishes; stored work is kept).
Status serve(Backend& backend, store::Store* store, const ServerOptions& options);

}  // namespace gavel::server
