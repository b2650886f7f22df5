#include "server/tournament_jobs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <span>
#include <thread>

#include "rank/convergence.h"
#include "rank/tournament.h"
#include "report/report_model.h"
#include "server/fields.h"
#include "server/judge_requests.h"
#include "server/routes.h"
#include "store/store.h"
#include "tournament/match_judge.h"

namespace gavel::server {

using nlohmann::json;
using tournament::TextBook;

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

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The served backend as the tournament's judge sees it: each scoring or generation call is one
// job on the model queue, so API requests are served between the tournament's judgments. A
// full queue is waited out; a stopping server cancels the call (the job stays resumable).
class QueuedBackend : public Backend {
 public:
  QueuedBackend(Context& ctx, const std::atomic<bool>& stop) : ctx_(ctx), stop_(stop) {}
  const BackendInfo& info() const override { return ctx_.backend.info(); }
  Result<std::vector<ScoreResult>> score(std::span<const ScoreRequest> reqs) override {
    auto owned = std::make_shared<std::vector<ScoreRequest>>(reqs.begin(), reqs.end());
    Backend* b = &ctx_.backend;
    return queued<std::vector<ScoreResult>>([b, owned] { return b->score(*owned); });
  }
  Result<std::vector<GenerateResult>> generate(std::span<const GenerateRequest> reqs) override {
    auto owned = std::make_shared<std::vector<GenerateRequest>>(reqs.begin(), reqs.end());
    Backend* b = &ctx_.backend;
    return queued<std::vector<GenerateResult>>([b, owned] { return b->generate(*owned); });
  }
  // Tokenizing reads only the tokenizer, which the HTTP threads use concurrently too
  // (/tokenize): not model work, so not queued.
  Result<std::vector<int32_t>> tokenize(std::string_view text) override {
    return ctx_.backend.tokenize(text);
  }
  Result<std::string> detokenize(std::span<const int32_t> tokens) override {
    return ctx_.backend.detokenize(tokens);
  }

 private:
  // `fn` owns what it uses: it may still run after this call gave up waiting.
  template <class T>
  Result<T> queued(std::function<Result<T>()> fn) {
    for (;;) {
      if (stop_) return Status::Cancelled("the server is stopping");
      auto done = ctx_.queue.run<Result<T>>([fn]() -> ApiResult<Result<T>> { return fn(); },
                                            std::chrono::hours(24));
      if (done.ok()) return std::move(*done);
      if (done.error().status != 503 || stop_)
        return Error{done.error().message, StatusCode::kUnavailable};
      std::this_thread::sleep_for(std::chrono::seconds(1));  // queue full: wait for room
    }
  }

  Context& ctx_;
  const std::atomic<bool>& stop_;
};

tournament::ResponseSet response_set(std::vector<std::string> prompts,
                                     std::vector<std::string> writers,
                                     const std::vector<std::vector<std::string>>& texts) {
  tournament::ResponseSet set;
  set.path = "POST /v1/tournaments";
  set.writers = std::move(writers);
  set.instructions = std::move(prompts);
  for (size_t p = 0; p < set.instructions.size(); ++p) set.prompts.push_back(std::to_string(p + 1));
  for (const auto& row : texts) {
    set.responses.emplace_back();
    for (const std::string& t : row) set.responses.back().push_back({{t, "", std::nullopt, 0}});
  }
  return set;
}

json config_json(const TournamentRequest& q) {
  const tournament::Config& c = q.tournament;
  return {{"option", std::string(tournament::name(c.option))},
          {"pairing", rank::pairing_name(c.pairing)},
          {"rounds", c.rounds > 0 ? c.rounds : tournament::default_rounds(c.option)},
          {"prompts_per_match", c.prompts_per_match},
          {"iterations", c.option == tournament::Option::kB ? json(c.iterations) : json(nullptr)},
          {"seed", c.seed},
          {"bootstrap", c.bt_bootstrap},
          {"writers", q.responses.n_writers()},
          {"prompts", q.responses.n_prompts()}};
}

json progress_json(int64_t done, int64_t planned, int64_t rounds) {
  return {{"matches_done", done}, {"matches_planned", planned}, {"rounds_done", rounds}};
}

// The job's results, all from the tournament layer's outcome and analysis: the leaderboard
// (Bradley-Terry on the Elo scale with its s.e. and bootstrap CI, the length-controlled fit,
// the tournament rating), ratings over rounds, the writer x prompt heatmap, bias, separability.
json results_json(const TournamentRequest& q, const tournament::Outcome& out,
                  const tournament::Analysis& a) {
  const tournament::ResponseSet& set = q.responses;
  const int n = set.n_writers();
  json out_json = {{"config", config_json(q)},
                   {"progress", progress_json(int64_t(out.matches.size()), out.planned_matches,
                                              int64_t(out.round_ratings.size()))},
                   {"judgments", a.judgments},
                   {"no_verdict", a.no_verdict},
                   {"length",
                    {{"unit", a.length_unit},
                     {"beta", num(a.length_beta)},
                     {"beta_se", num(a.length_beta_se)}}}};
  const bool elo = rank::default_rating(out.cfg.pairing) == rank::RatingMethod::kElo;
  json rows = json::array();
  for (const tournament::LeaderboardRow& r : a.rows)
    rows.push_back({{"writer", set.writers[size_t(r.writer)]},
                    {"rating", num(r.bt)},
                    {"se", num(r.bt_se)},
                    {"ci_low", num(r.bt_ci_low)},
                    {"ci_high", num(r.bt_ci_high)},
                    {"lc", num(r.lc)},
                    {"lc_se", num(r.lc_se)},
                    {"elo", num(r.rating)},
                    {"elo_sd", num(r.sd)},
                    {"tournaments", r.tournaments},
                    {"matches", r.matches}});
  std::stable_sort(rows.begin(), rows.end(), [](const json& x, const json& y) {
    return x["rating"].is_number() && (!y["rating"].is_number() || x["rating"] > y["rating"]);
  });
  out_json["leaderboard"] = std::move(rows);
  const auto by_round = tournament::ratings_by_round(out, n);
  json series = json::array(), x = json::array();
  for (size_t r = 0; r < by_round.size(); ++r) x.push_back(r + 1);
  for (int w = 0; w < n; ++w) {
    json values = json::array();
    for (const auto& row : by_round) values.push_back(num(row[size_t(w)]));
    series.push_back({{"name", set.writers[size_t(w)]}, {"values", std::move(values)}});
  }
  out_json["rounds"] = {
      {"x", x},
      {"series", series},
      {"xlabel", fmt::format("round ({}{})", elo ? "sequential Elo" : "Bradley-Terry",
                             out.tournaments.size() > 1 ? ", mean over tournaments" : "")}};
  json values = json::array(), prompt_labels = json::array();
  for (int w = 0; w < n; ++w) {
    json row = json::array();
    for (double v : a.prompt_win[size_t(w)]) row.push_back(num(v));
    values.push_back(std::move(row));
  }
  for (const std::string& id : set.prompts) prompt_labels.push_back("prompt " + id);
  out_json["heatmap"] = {{"title", "Writer × prompt: mean P(win) in its matches"},
                         {"writers", set.writers},
                         {"prompts", prompt_labels},
                         {"values", values}};
  if (a.bias.n > 0) out_json["bias"] = report::bias_view(a.bias);
  const meta::Separability& s = out.separability;
  if (out.tournaments.size() >= 2)  // A: per-prompt, B: per-iteration ratings
    out_json["separability"] = {{"score", num(s.score)},
                                {"score_ci_low", num(s.score_ci_low)},
                                {"score_ci_high", num(s.score_ci_high)},
                                {"omega2", num(s.anova.omega2)},
                                {"omega2_ci_low", num(s.omega2_ci_low)},
                                {"omega2_ci_high", num(s.omega2_ci_high)},
                                {"cliff_delta", num(s.cliff_delta)},
                                {"delta_ci_low", num(s.delta_ci_low)},
                                {"delta_ci_high", num(s.delta_ci_high)}};
  return out_json;
}

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
    std::vector<std::string> prompts =
        string_list(r, "prompts", 1, kMaxPrompts, lim.max_text_bytes);
    std::vector<std::string> writers;
    std::vector<std::vector<std::string>> texts;
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
      writers.push_back(w.string("name", 256));
      if (writers.back().empty()) w.fail("name", "is empty");
      if (!names.insert(writers.back()).second)
        w.fail("name", fmt::format("'{}' names two writers", writers.back()));
      texts.push_back(
          string_list(w, "responses", prompts.size(), prompts.size(), lim.max_text_bytes));
      w.finish();
    }
    q.responses = response_set(std::move(prompts), std::move(writers), texts);
    tournament::Config& c = q.tournament;
    auto option = tournament::parse_option(r.opt_string("option", 32).value_or("global"));
    if (!option.ok()) r.fail("option", option.message());
    c.option = *option;
    auto pairing = rank::parse_pairing(r.opt_string("pairing", 32).value_or("swiss"));
    if (!pairing.ok()) r.fail("pairing", pairing.message());
    c.pairing = *pairing;
    c.rounds = int(r.integer("rounds", tournament::default_rounds(c.option), 1, 100));
    c.prompts_per_match = int(r.integer("prompts_per_match", 1, 1, 16));
    if (r.has("iterations") && c.option != tournament::Option::kB)
      r.fail("iterations", "applies to option B only (bootstrap draws of the prompts)");
    c.iterations = int(r.integer("iterations", c.iterations, 1, 100));
    c.seed = uint64_t(r.integer("seed", 1, 0, std::numeric_limits<int64_t>::max()));
    c.bt_bootstrap = int(r.integer("bootstrap", 200, 1, 2000));
    read_pairwise_options(r, q.config, lim);
    // The tournament layer builds its items with the default field names, as `gavel
    // tournament` does (the judge API's items carry the logical names instead).
    q.config.fields = judge::FieldMap::defaults();
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
  const tournament::ResponseSet& set = q.responses;
  GAVEL_ASSIGN(std::shared_ptr<const judge::JudgeProtocol> protocol,
               judge::make_protocol(q.config, ctx_.backend.info(), ctx_.render));
  // The judge `gavel tournament` uses, over the queue; judged texts measured in the served
  // model's tokens when it can tokenize (as the CLI does), else in characters.
  QueuedBackend backend(ctx_, stop_);
  TextBook texts(set, backend.tokenize("probe").ok() ? &backend : nullptr, 0);
  auto judge = tournament::make_model_judge(backend, *protocol, store, set, texts, {1});

  const int64_t planned = tournament::planned_matches(set, q.tournament);
  int64_t rounds_done = 0;
  auto progress = [&](int64_t done) {
    return store.update_run(id, "running",
                            dump({{"config", config_json(q)},
                                  {"progress", progress_json(done, planned, rounds_done)}}));
  };
  GAVEL_TRY(progress(0));
  tournament::Config cfg = q.tournament;
  Status progress_status = Status::Ok();
  int64_t hits = 0, misses = 0;
  cfg.on_round = [&](int64_t done) {
    ++rounds_done;
    const tournament::JudgeCounters& k = judge->counters();
    ctx_.metrics.store(k.stored_judgments + k.reused_judgments - hits, k.new_judgments - misses);
    hits = k.stored_judgments + k.reused_judgments;
    misses = k.new_judgments;
    if (progress_status.ok()) progress_status = progress(done);
  };
  auto out = tournament::run(set, *judge, cfg);
  if (!out.ok()) {
    if (stop_) return Status::Ok();  // stays "running": taken up again at the next start
    return out.status();
  }
  GAVEL_TRY(progress_status);
  GAVEL_ASSIGN(tournament::Analysis analysis, tournament::analyze(set, texts, *out));
  return store.update_run(id, "done", dump(results_json(q, *out, analysis)));
}

}  // namespace gavel::server
