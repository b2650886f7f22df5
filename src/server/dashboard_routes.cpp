// The dashboard: GET / serves the page, which reads GET /api/report (every view's data, built
// from the store) and GET /api/judgments/{key} (one judgment with its rendered prompts).
#include <fmt/format.h>

#include "report/dashboard.h"
#include "report/report_model.h"
#include "server/routes.h"

namespace gavel::server {

namespace {

Reply page() {
  return Reply{200, std::string(report::dashboard_page()), "text/html; charset=utf-8", {}};
}

Reply data(Context& ctx) {
  if (!ctx.store) return error_reply(no_store());
  auto r = report::build_report(*ctx.store);
  if (!r.ok()) return error_reply(status_error(r.status()));
  return Reply{200, dump_json(*r), "application/json", {}};
}

Reply one(Context& ctx, const HttpRequest& http) {
  if (!ctx.store) return error_reply(no_store());
  const std::string& key = http.matches.at(0);
  auto r = report::judgment_view(*ctx.store, key);
  if (!r.ok()) return error_reply(status_error(r.status()));
  if (!*r)
    return error_reply({404, fmt::format("no judgment with key {} in the store", key), "key"});
  return Reply{200, dump_json(**r), "application/json", {}};
}

}  // namespace

std::vector<Route> dashboard_routes(Context& ctx) {
  Context* c = &ctx;
  return {
      {"GET", "/", [](const HttpRequest&) { return page(); }},
      {"GET", "/api/report", [c](const HttpRequest&) { return data(*c); }},
      {"GET", R"(/api/judgments/([0-9a-f]{64}))", [c](const HttpRequest& r) { return one(*c, r); }},
  };
}

}  // namespace gavel::server
