#include "server/tournament_jobs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <set>

#include "judge/items.h"
#include "judge/judge_items.h"
#include "meta/judge_metrics.h"
#include "rank/convergence.h"
#include "rank/elo.h"
#include "rank/tournament.h"
#include "server/fields.h"
#include "server/judge_requests.h"
#include "server/routes.h"
#include "store/store.h"

namespace gavel::server {

using nlohmann::json;

namespace {

constexpr size_t kMaxWriters = 64, kMaxPrompts = 1000;

std::vector<std::string> string_list(FieldReader& r, const std::string& name, size_t min_n,
                                     size_t max_n, size_t max_bytes) {
  const json* v = r.get(name);
  if (!v) r.fail(name, "is required");
  if (!v->is_array()) r.fail(name, fmt::format("expected a list, got {}", json_kind(*v)));
  if (v->size() < min_n || v->size() > max_n)
    r.fail(name, fmt::format("has {} entries; give {} to {}", v->size(), min_n, max_n));
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const std::string at = fmt::format("{}[{}]", name, i);
    if (!(*v)[i].is_string())
      r.fail(at, fmt::format("expected a string, got {}", json_kind((*v)[i])));
    if ((*v)[i].get_ref<const std::string&>().size() > max_bytes)
      r.fail(at, fmt::format("is longer than {} bytes", max_bytes));
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

// Code points of UTF-8 text (for the length bias).
double chars(const std::string& s) {
  double n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// One judged match: who was text 1 (a) and text 2 (b), on which prompt, and both passes.
struct Played {
  rank::Match match;
  double p = 0.5;  // P(a better), swap-averaged by the protocol
  double pass1_p_first = 0.5, pass2_p_first = 0.5;
};

int pairings_per_round(rank::Pairing p, int n) {
  return p == rank::Pairing::kRoundRobin ? n * (n - 1) / 2 : n / 2;
}

// The job's summary: progress and, once matches were played, the results the dashboard shows.
json summary(const TournamentRequest& q, rank::Pairing pairing, const std::vector<Played>& played,
             const std::vector<std::vector<double>>& elo_by_round) {
  const int n = int(q.writers.size()), np = int(q.prompts.size());
  const int planned = pairings_per_round(pairing, n) * q.rounds * q.prompts_per_match;
  json out = {{"config",
               {{"option", "global"},
                {"pairing", q.pairing},
                {"rounds", q.rounds},
                {"prompts_per_match", q.prompts_per_match},
                {"seed", q.seed},
                {"writers", n},
                {"prompts", np}}},
              {"progress",
               {{"matches_done", played.size()},
                {"matches_planned", planned},
                {"rounds_done", elo_by_round.size()}}}};
  if (played.empty()) return out;
  std::vector<rank::Outcome> outcomes;
  std::vector<int> matches(size_t(n), 0);
  std::vector<std::vector<double>> sum(size_t(n), std::vector<double>(size_t(np), 0.0)), cnt = sum;
  std::vector<meta::MatchRecord> bias_records;
  for (const Played& m : played) {
    const int a = m.match.a, b = m.match.b, prompt = m.match.prompt;
    outcomes.push_back({a, b, m.p, 1.0});
    ++matches[size_t(a)];
    ++matches[size_t(b)];
    sum[size_t(a)][size_t(prompt)] += m.p;
    cnt[size_t(a)][size_t(prompt)] += 1;
    sum[size_t(b)][size_t(prompt)] += 1 - m.p;
    cnt[size_t(b)][size_t(prompt)] += 1;
    // Pass 1 shows a's text first, pass 2 b's: one record per pass, as the judge saw them.
    const double la = chars(q.responses[size_t(a)][size_t(prompt)]),
                 lb = chars(q.responses[size_t(b)][size_t(prompt)]);
    const long long pair = static_cast<long long>(bias_records.size() / 2);
    bias_records.push_back({a, b, m.pass1_p_first, la, lb, pair});
    bias_records.push_back({b, a, m.pass2_p_first, lb, la, pair});
  }
  auto elo = rank::elo_sequential(n, outcomes, rank::EloConfig{});
  rank::BtConfig bt;
  auto fit = rank::bradley_terry_bootstrap(n, outcomes, bt, std::max(1, q.bootstrap), q.seed);
  if (elo.ok() && fit.ok()) {
    json rows = json::array();
    for (int w = 0; w < n; ++w)
      rows.push_back({{"writer", q.writers[size_t(w)]},
                      {"rating", num(fit->fit.rating[size_t(w)])},
                      {"sd", num(fit->fit.std_error[size_t(w)])},
                      {"ci_low", num(fit->ci_low[size_t(w)])},
                      {"ci_high", num(fit->ci_high[size_t(w)])},
                      {"elo", num((*elo)[size_t(w)])},
                      {"matches", matches[size_t(w)]}});
    std::stable_sort(rows.begin(), rows.end(), [](const json& x, const json& y) {
      return x["rating"].is_number() && (!y["rating"].is_number() || x["rating"] > y["rating"]);
    });
    out["leaderboard"] = std::move(rows);
  } else {
    out["leaderboard_error"] = !elo.ok() ? elo.message() : fit.message();
  }
  json series = json::array(), x = json::array();
  for (size_t r = 0; r < elo_by_round.size(); ++r) x.push_back(r + 1);
  for (int w = 0; w < n; ++w) {
    json values = json::array();
    for (const auto& e : elo_by_round) values.push_back(num(e[size_t(w)]));
    series.push_back({{"name", q.writers[size_t(w)]}, {"values", std::move(values)}});
  }
  out["rounds"] = {{"x", x}, {"series", series}, {"xlabel", "round (sequential Elo)"}};
  json values = json::array(), prompt_labels = json::array();
  for (int w = 0; w < n; ++w) {
    json row = json::array();
    for (int p = 0; p < np; ++p)
      row.push_back(cnt[size_t(w)][size_t(p)] > 0
                        ? json(sum[size_t(w)][size_t(p)] / cnt[size_t(w)][size_t(p)])
                        : json(nullptr));
    values.push_back(std::move(row));
  }
  for (int p = 0; p < np; ++p) prompt_labels.push_back(fmt::format("prompt {}", p + 1));
  out["heatmap"] = {{"title", "Writer × prompt: mean P(win) in its matches"},
                    {"writers", q.writers},
                    {"prompts", prompt_labels},
                    {"values", values}};
  if (auto b = meta::bias_report(bias_records); b.ok())
    out["bias"] = {{"position1_mean_prob", num(b->position1_mean_prob)},
                   {"position2_mean_prob", num(b->position2_mean_prob)},
                   {"position1_win_rate", num(b->position1_win_rate)},
                   {"position_skew", num(b->position_skew)},
                   {"length_n", b->length_n},
                   {"longer_win_rate", num(b->longer_win_rate)},
                   {"longer_ev_margin", num(b->longer_ev_margin)},
                   {"swap_flip_rate", num(b->swap_flip_rate)}};
  return out;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

ApiResult<TournamentRequest> parse_tournament_request(std::string_view body,
                                                      const RequestLimits& lim) {
  auto v = parse_body(body);
  if (!v.ok()) return v.error();
  try {
    FieldReader r(*v, "");
    TournamentRequest q;
    q.name = r.opt_string("name", 256).value_or("");
    q.model = r.opt_string("model", 1024).value_or("");
    q.prompts = string_list(r, "prompts", 1, kMaxPrompts, lim.max_text_bytes);
    const json* ws = r.get("writers");
    if (!ws) r.fail("writers", "is required: a list of {\"name\", \"responses\"}");
    if (!ws->is_array()) r.fail("writers", fmt::format("expected a list, got {}", json_kind(*ws)));
    if (ws->size() < 2 || ws->size() > kMaxWriters)
      r.fail("writers", fmt::format("has {} writers; give 2 to {}", ws->size(), kMaxWriters));
    std::set<std::string> names;
    for (size_t i = 0; i < ws->size(); ++i) {
      const std::string at = fmt::format("writers[{}]", i);
      if (!(*ws)[i].is_object())
        r.fail(at, fmt::format("expected an object {{\"name\", \"responses\"}}, got {}",
                               json_kind((*ws)[i])));
      FieldReader w((*ws)[i], at);
      q.writers.push_back(w.string("name", 256));
      if (q.writers.back().empty()) w.fail("name", "is empty");
      if (!names.insert(q.writers.back()).second)
        w.fail("name", fmt::format("'{}' names two writers", q.writers.back()));
      q.responses.push_back(
          string_list(w, "responses", q.prompts.size(), q.prompts.size(), lim.max_text_bytes));
      w.finish();
    }
    q.pairing = r.opt_string("pairing", 32).value_or("swiss");
    if (auto p = rank::parse_pairing(q.pairing); !p.ok()) r.fail("pairing", p.message());
    q.rounds = int(r.integer("rounds", 5, 1, 100));
    q.prompts_per_match = int(r.integer("prompts_per_match", 1, 1, 16));
    q.seed = uint64_t(r.integer("seed", 1, 0, std::numeric_limits<int64_t>::max()));
    q.bootstrap = int(r.integer("bootstrap", 200, 1, 2000));
    read_pairwise_options(r, q.config, lim);
    r.finish();
    q.spec = std::move(*v);
    return q;
  } catch (const FieldError& e) {
    return ApiError{400, e.what(), e.param};
  }
}

TournamentJobs::TournamentJobs(Context& ctx) : ctx_(ctx) {
  if (ctx_.store) {
    auto runs = ctx_.store->runs();
    if (runs.ok())
      for (const store::Run& r : *runs)
        if (r.kind == "tournament" && (r.status == "queued" || r.status == "running"))
          queue_.push_back(r.id);
  }
  worker_ = std::thread([this] { work(); });
}

TournamentJobs::~TournamentJobs() { stop(); }

void TournamentJobs::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

int TournamentJobs::pending() const {
  std::lock_guard lock(mu_);
  return int(queue_.size());
}

ApiResult<int64_t> TournamentJobs::submit(const TournamentRequest& q) {
  if (!ctx_.store) return no_store();
  auto id = ctx_.store->create_run("tournament", q.name, dump(q.spec), "queued");
  if (!id.ok()) return status_error(id.status());
  {
    std::lock_guard lock(mu_);
    if (stop_) return ApiError{503, "the server is shutting down", ""};
    queue_.push_back(*id);
  }
  cv_.notify_all();
  return *id;
}

void TournamentJobs::work() {
  for (;;) {
    int64_t id = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      id = queue_.front();
    }
    const Status st = run_job(id);
    if (!st.ok() && !stop_)
      (void)ctx_.store->update_run(id, "failed", dump({{"error", st.message()}}));
    std::lock_guard lock(mu_);
    queue_.pop_front();
  }
}

Status TournamentJobs::run_job(int64_t id) {
  store::Store& store = *ctx_.store;
  GAVEL_ASSIGN(auto run, store.run(id));
  if (!run) return Status::NotFound(fmt::format("no run {}", id));
  auto parsed = parse_tournament_request(run->config, ctx_.options.limits);
  if (!parsed.ok()) return Status::InvalidArgument("the stored job: " + parsed.error().message);
  const TournamentRequest& q = *parsed;
  GAVEL_ASSIGN(auto pairing, rank::parse_pairing(q.pairing));
  GAVEL_ASSIGN(std::shared_ptr<const judge::JudgeProtocol> protocol,
               judge::make_protocol(q.config, ctx_.backend.info(), ctx_.render));

  std::vector<Played> played;
  std::vector<std::vector<double>> elo_by_round;
  GAVEL_TRY(store.update_run(id, "running", dump(summary(q, pairing, played, elo_by_round))));

  rank::TournamentConfig cfg;
  cfg.pairing = pairing;
  cfg.rounds = q.rounds;
  cfg.prompts_per_match = q.prompts_per_match;
  cfg.seed = q.seed;
  for (size_t p = 0; p < q.prompts.size(); ++p) cfg.prompts.push_back(int(p));
  Status progress = Status::Ok();
  cfg.on_round = [&](int, const rank::TournamentResult& res) {
    elo_by_round.push_back(res.elo);
    if (progress.ok())
      progress = store.update_run(id, "running", dump(summary(q, pairing, played, elo_by_round)));
  };
  auto judge_match = [&](const rank::Match& m) -> Result<double> {
    if (stop_) return Status::Cancelled("the server is stopping");
    const json text = {
        {"id", fmt::format("tournament {}: {} vs {}, prompt {}", id, q.writers[size_t(m.a)],
                           q.writers[size_t(m.b)], m.prompt + 1)},
        {"instruction", q.prompts[size_t(m.prompt)]},
        {"A", q.responses[size_t(m.a)][size_t(m.prompt)]},
        {"B", q.responses[size_t(m.b)][size_t(m.prompt)]}};
    GAVEL_ASSIGN(judge::Item item, judge::make_item(text, 0, protocol->fields()));
    GAVEL_ASSIGN(judge::PlannedItem plan, judge::plan_item(*protocol, store, std::move(item)));
    auto planned = std::make_shared<std::vector<judge::PlannedItem>>();
    planned->push_back(std::move(plan));
    int64_t hits = 0, pending = 0;
    for (const judge::Task& t : planned->front().tasks) (t.record ? hits : pending) += 1;
    if (pending > 0) {
      Context* c = &ctx_;
      for (;;) {
        // One match per model job, so requests to the judge API interleave with the matches.
        auto done = ctx_.queue.run<int>(
            [c, planned, protocol]() -> ApiResult<int> {
              Status s = judge::complete_items(c->backend, *protocol, *c->store, *planned);
              if (!s.ok()) return status_error(s);
              return 0;
            },
            std::chrono::hours(24));
        if (done.ok()) break;
        if (done.error().status != 503 || stop_)
          return Error{done.error().message, StatusCode::kUnavailable};
        std::this_thread::sleep_for(std::chrono::seconds(1));  // queue full: wait for room
      }
    }
    ctx_.metrics.store(hits, pending);
    GAVEL_TRY(judge::item_error(planned->front()));
    const json rec = judge::item_record(*protocol, planned->front(), false);
    GAVEL_ASSIGN(auto verdict, protocol->pair_verdict(rec));
    if (!verdict.p_text1 || verdict.passes.size() != 2)
      return Status::Internal("the pairwise judgment has no P(text 1)");
    played.push_back({m, *verdict.p_text1, verdict.passes[0].p_a.value_or(0.5),
                      verdict.passes[1].p_a.value_or(0.5)});
    return *verdict.p_text1;
  };
  auto res = rank::run_tournament(int(q.writers.size()), cfg, judge_match);
  if (!res.ok()) {
    if (stop_) return Status::Ok();  // stays "running": taken up again at the next start
    return res.status();
  }
  GAVEL_TRY(progress);
  return store.update_run(id, "done", dump(summary(q, pairing, played, elo_by_round)));
}

}  // namespace gavel::server
