// The judge API: POST /v1/judge/pairwise (the model card's A/B log-prob protocol with position
// swap) and POST /v1/judge/critique (Selene's critique then "**Result:** X"), single or batch,
// and GET /v1/judgments/{key}. Items are planned and looked up in the store on the HTTP thread,
// so judgments already stored are answered without waiting for the model; only the missing ones
// are queued, computed, committed, then returned. Keys are `gavel judge`'s (judge_items.h).
#include <fmt/format.h>

#include "backend/embedded_backend.h"
#include "judge/judge_items.h"
#include "server/judge_requests.h"
#include "server/routes.h"
#include "store/store.h"

namespace gavel::server {

using nlohmann::json;

namespace {

using Planned = std::vector<judge::PlannedItem>;

// Appends the judged items to this server's run for the protocol's configuration (created on
// first use), so the dashboard evaluates the judge on them like on a `gavel judge` run.
Status record_items(Context& ctx, const judge::JudgeProtocol& protocol, const std::string& route,
                    const Planned& planned) {
  std::vector<store::RunItem> items;
  for (const auto& p : planned)
    if (judge::item_error(p).ok()) items.push_back(judge::run_item(protocol, p));
  if (items.empty()) return Status::Ok();
  json config = protocol.describe();
  config["route"] = route;
  const std::string text = dump_json(config);
  std::lock_guard lk(ctx.runs_mu);
  auto it = ctx.serve_runs.find(text);
  if (it == ctx.serve_runs.end()) {
    GAVEL_ASSIGN(int64_t id, ctx.store->create_run("serve", "POST " + route, text));
    it = ctx.serve_runs.emplace(text, Context::ServeRun{id, 0}).first;
  }
  GAVEL_TRY(ctx.store->add_run_items(it->second.id, items));
  it->second.items += int64_t(items.size());
  return ctx.store->update_run(it->second.id, "running", dump_json({{"items", it->second.items}}));
}

Reply judge(Context& ctx, const HttpRequest& http, judge::Protocol which) {
  if (!ctx.store) return error_reply(no_store());
  auto req = which == judge::Protocol::kPairwiseLogprob
                 ? parse_pairwise_judge_request(http.body, ctx.options.limits)
                 : parse_critique_judge_request(http.body, ctx.options.limits);
  if (!req.ok()) return error_reply(req.error());
  if (auto e = ctx.check_model(req->model)) return error_reply(*e);
  auto made = judge::make_protocol(req->config, ctx.backend.info(), ctx.render);
  if (!made.ok()) return error_reply(status_error(made.status(), "", 400));
  std::shared_ptr<const judge::JudgeProtocol> protocol = std::move(made).value();

  auto planned = std::make_shared<Planned>();
  const size_t n = req->items.size();
  auto param = [&](size_t i) { return req->batch ? fmt::format("items[{}]", i) : std::string(); };
  for (size_t i = 0; i < n; ++i) {
    auto item = judge::make_item(std::move(req->items[i]), int64_t(i + 1), protocol->fields());
    if (!item.ok()) return error_reply(status_error(item.status(), param(i), 400));
    auto p = judge::plan_item(*protocol, *ctx.store, std::move(item).value());
    // A plan fails on the item's content (a missing rubric variable, a template error) or on
    // the store.
    if (!p.ok()) return error_reply(status_error(p.status(), param(i), 400));
    planned->push_back(std::move(p).value());
  }
  int64_t hits = 0, pending = 0;
  for (const auto& p : *planned)
    for (const auto& t : p.tasks) (t.record ? hits : pending) += 1;
  if (pending > 0) {
    // The job owns the plan and the protocol: after a 504 it still finishes and commits.
    auto done = ctx.on_model<std::shared_ptr<Planned>>(
        [c = &ctx, planned, protocol]() -> ApiResult<std::shared_ptr<Planned>> {
          const auto before = c->embedded ? c->embedded->stats() : backend::PrefixStats{};
          const Status st = judge::complete_items(c->backend, *protocol, *c->store, *planned);
          if (c->embedded) {
            const auto& after = c->embedded->stats();
            c->metrics.tokens(after.evaluated_tokens - before.evaluated_tokens,
                              after.continuation_tokens - before.continuation_tokens);
          }
          if (!st.ok()) return status_error(st);
          return planned;
        });
    if (!done.ok()) return error_reply(done.error());
  }
  int64_t computed = 0;
  for (const auto& p : *planned)
    for (const auto& t : p.tasks) computed += (t.record && !t.cached) ? 1 : 0;
  ctx.metrics.store(hits, computed);
  if (auto st = record_items(ctx, *protocol, http.path, *planned); !st.ok())
    return error_reply(status_error(st));

  json data = json::array();
  for (size_t i = 0; i < n; ++i) {
    const judge::PlannedItem& p = (*planned)[i];
    if (const Status err = judge::item_error(p); !err.ok()) {
      const ApiError e = status_error(err, param(i));
      if (!req->batch) return error_reply(e);
      data.push_back({{"index", i}, {"error", error_body(e)["error"]}});
      continue;
    }
    json rec = judge::item_record(*protocol, p, req->keep_prompts);
    rec.erase("line");
    if (req->batch) rec["index"] = i;
    data.push_back(std::move(rec));
  }
  if (!req->batch) return Reply{200, dump_json(data[0]), "application/json", {}};
  json out = {
      {"object", "list"}, {"data", std::move(data)}, {"cached", hits}, {"judged", computed}};
  return Reply{200, dump_json(out), "application/json", {}};
}

Reply judgment(Context& ctx, const HttpRequest& http) {
  if (!ctx.store) return error_reply(no_store());
  const std::string& key = http.matches.at(0);
  auto rec = ctx.store->get(key);
  if (!rec.ok()) return error_reply(status_error(rec.status()));
  if (!*rec)
    return error_reply({404, fmt::format("no judgment with key {} in the store", key), "key"});
  json r = json::parse(**rec, nullptr, false);
  if (r.is_discarded()) return error_reply({500, "the stored record is not valid JSON", ""});
  return Reply{200, dump_json({{"key", key}, {"record", r}}), "application/json", {}};
}

}  // namespace

std::vector<Route> judge_routes(Context& ctx) {
  Context* c = &ctx;
  return {
      {"POST", "/v1/judge/pairwise",
       [c](const HttpRequest& r) { return judge(*c, r, judge::Protocol::kPairwiseLogprob); }},
      {"POST", "/v1/judge/critique",
       [c](const HttpRequest& r) { return judge(*c, r, judge::Protocol::kCritique); }},
      {"GET", R"(/v1/judgments/([0-9a-f]{64}))",
       [c](const HttpRequest& r) { return judgment(*c, r); }},
  };
}

}  // namespace gavel::server
