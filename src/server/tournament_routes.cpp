// POST /v1/tournaments starts a tournament job; GET /v1/tournaments lists them and
// GET /v1/tournaments/{id} gives one's status, progress and results (src/server/tournament_jobs.h).
#include <fmt/format.h>

#include "server/routes.h"
#include "server/tournament_jobs.h"
#include "store/store.h"

namespace gavel::server {

using nlohmann::json;

namespace {

json view(const store::Run& r) {
  json summary = r.summary.empty() ? json(nullptr) : json::parse(r.summary, nullptr, false);
  if (summary.is_discarded()) summary = nullptr;
  return {{"id", r.id},         {"object", "tournament"},     {"name", r.name},
          {"status", r.status}, {"created_at", r.created_at}, {"updated_at", r.updated_at},
          {"result", summary}};
}

Reply start(Context& ctx, const HttpRequest& http) {
  if (!ctx.tournaments) return error_reply(no_store());
  auto req = parse_tournament_request(http.body, ctx.options.limits);
  if (!req.ok()) return error_reply(req.error());
  if (auto e = ctx.check_model(req->model)) return error_reply(*e);
  auto id = ctx.tournaments->submit(*req);
  if (!id.ok()) return error_reply(id.error());
  return Reply{202,
               dump_json({{"id", *id},
                          {"object", "tournament"},
                          {"status", "queued"},
                          {"url", fmt::format("/v1/tournaments/{}", *id)}}),
               "application/json",
               {{"Location", fmt::format("/v1/tournaments/{}", *id)}}};
}

Reply list(Context& ctx) {
  if (!ctx.store) return error_reply(no_store());
  auto runs = ctx.store->runs();
  if (!runs.ok()) return error_reply(status_error(runs.status()));
  json data = json::array();
  for (const store::Run& r : *runs)
    if (r.kind == "tournament") {
      json v = view(r);
      v.erase("result");
      data.push_back(std::move(v));
    }
  return Reply{200, dump_json({{"object", "list"}, {"data", data}}), "application/json", {}};
}

Reply one(Context& ctx, const HttpRequest& http) {
  if (!ctx.store) return error_reply(no_store());
  int64_t id = 0;
  try {
    id = std::stoll(http.matches.at(0));
  } catch (const std::exception&) {
    return error_reply({404, "no such tournament", "id"});
  }
  auto run = ctx.store->run(id);
  if (!run.ok()) return error_reply(status_error(run.status()));
  if (!*run || (*run)->kind != "tournament")
    return error_reply({404, fmt::format("no tournament {} in the store", id), "id"});
  return Reply{200, dump_json(view(**run)), "application/json", {}};
}

}  // namespace

std::vector<Route> tournament_routes(Context& ctx) {
  Context* c = &ctx;
  return {
      {"POST", "/v1/tournaments", [c](const HttpRequest& r) { return start(*c, r); }},
      {"GET", "/v1/tournaments", [c](const HttpRequest&) { return list(*c); }},
      {"GET", R"(/v1/tournaments/([0-9]{1,18}))", [c](const HttpRequest& r) { return one(*c, r); }},
  };
}

}  // namespace gavel::server
