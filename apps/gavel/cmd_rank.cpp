// `gavel rank <what>`: ratings from pairwise judgments (fit), tournaments over scored items
// with a stand-in judge (tournament: Swiss, Option A, Option B), and convergence curves of
// pairing schemes (curve). Terminal tables by default, --json for JSON, --csv FILE for CSV.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>

#include "command.h"
#include "core/io.h"
#include "meta/correlation.h"
#include "meta/judge_metrics.h"
#include "meta/table.h"
#include "rank/convergence.h"
#include "rank/data.h"
#include "rank/judges.h"
#include "rank/tournament.h"

namespace {

using gavel::Error;
using gavel::Result;
using nlohmann::json;
namespace meta = gavel::meta;
namespace rank = gavel::rank;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

struct Output {
  bool json = false;
  bool markdown = false;
  std::string csv;
};

void add_output(CLI::App* sub, std::shared_ptr<Output> o) {
  sub->add_flag("--json", o->json, "print JSON instead of a table");
  sub->add_flag("--markdown", o->markdown, "print the table as markdown");
  sub->add_option("--csv", o->csv, "also write the main table as CSV to this file");
}

int emit(const Output& o, const json& j, const std::vector<meta::Table>& tables,
         const std::string& preface = "") {
  if (!o.csv.empty()) {
    auto st = gavel::write_file_atomic(o.csv, tables.front().csv());
    if (!st.ok()) return gavel::cli::fail(st.message());
  }
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s", preface.c_str());
  for (size_t i = 0; i < tables.size(); ++i) {
    if (i) std::printf("\n");
    std::printf("%s", o.markdown ? tables[i].markdown().c_str() : tables[i].text().c_str());
  }
  return 0;
}

// ---- fit ----
struct FitOpts {
  std::string in;
  rank::PairwiseFields fields;
  rank::BtConfig bt;
  rank::EloConfig elo;
  int bootstrap = 200;
  uint64_t seed = 42;
  double level = 0.95;
};

int run_fit(const FitOpts& f, const Output& o) {
  auto d = rank::load_pairwise(f.in, f.fields);
  if (!d.ok()) return gavel::cli::fail(d.message());
  const int n = d->players.size();
  auto bt = rank::bradley_terry_bootstrap(n, d->outcomes, f.bt, f.bootstrap, f.seed, f.level);
  if (!bt.ok()) return gavel::cli::fail(f.in + ": " + bt.message());
  auto elo = rank::elo_sequential(n, d->outcomes, f.elo);
  if (!elo.ok()) return gavel::cli::fail(f.in + ": " + elo.message());
  std::vector<int> games(n, 0);
  std::vector<double> score(n, 0);
  for (const auto& oc : d->outcomes) {
    ++games[oc.a];
    ++games[oc.b];
    score[oc.a] += oc.score;
    score[oc.b] += 1 - oc.score;
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return bt->fit.rating[a] > bt->fit.rating[b]; });
  meta::Table t(
      {"rank", "player", "bt_elo", "ci_low", "ci_high", "se", "seq_elo", "games", "score"});
  json players = json::array();
  for (int r = 0; r < n; ++r) {
    int i = order[r];
    t.add({std::to_string(r + 1), d->players.names()[i], meta::fixed(bt->fit.rating[i], 1),
           meta::fixed(bt->ci_low[i], 1), meta::fixed(bt->ci_high[i], 1),
           meta::fixed(bt->fit.std_error[i], 1), meta::fixed((*elo)[i], 1),
           std::to_string(games[i]), meta::fixed(score[i], 1)});
    players.push_back({{"rank", r + 1},
                       {"player", d->players.names()[i]},
                       {"bt_elo", bt->fit.rating[i]},
                       {"theta", bt->fit.theta[i]},
                       {"ci", {num(bt->ci_low[i]), num(bt->ci_high[i])}},
                       {"se", bt->fit.std_error[i]},
                       {"seq_elo", (*elo)[i]},
                       {"games", games[i]},
                       {"score", score[i]}});
  }
  json j = {
      {"players", players},
      {"comparisons", d->outcomes.size()},
      {"bt", {{"alpha", f.bt.alpha}, {"anchor", f.bt.anchor}, {"iterations", bt->fit.iterations}}},
      {"elo", {{"k", f.elo.k}, {"initial", f.elo.initial}}},
      {"bootstrap", {{"samples", f.bootstrap}, {"seed", f.seed}, {"level", f.level}}}};
  return emit(o, j, {t});
}

// ---- tournament over scored items ----
struct TourOpts {
  std::string in, mode = "swiss", rating = "elo", leaderboard, lb_name = "model_name",
                  lb_value = "elo_score";
  rank::ItemFields fields;
  double tau = 5.0;
  int rounds = 0;  // 0: mode default (swiss 20, option-a 5, option-b 20)
  int iterations = 10;
  int ci_bootstrap = 1000;
  bool both_orders = false;
  uint64_t seed = 42;
  rank::EloConfig elo;
};

struct LoadedItems {
  rank::ItemData data;
  rank::DenseJudge judge{0, 0};
};

Result<LoadedItems> load_stand_in(const std::string& in, const rank::ItemFields& fields,
                                  double tau) {
  GAVEL_ASSIGN(auto d, rank::load_items(in, fields));
  // A writer with no scored item on a prompt gets its mean over its other prompts there
  // (and the mean length), so every pair can still be judged on every prompt.
  for (auto* m : {&d.mean_value, &d.mean_length})
    for (auto& row : *m) {
      double sum = 0;
      int n = 0;
      for (double v : row)
        if (std::isfinite(v)) sum += v, ++n;
      for (double& v : row)
        if (!std::isfinite(v) && n) v = sum / n;
    }
  GAVEL_ASSIGN(auto j, rank::score_difference_judge(d.mean_value, tau));
  return LoadedItems{std::move(d), std::move(j)};
}

// Kendall tau-b (and Spearman) of our ratings against a leaderboard CSV column.
Result<json> leaderboard_agreement(const std::string& path, const std::string& name_col,
                                   const std::string& value_col,
                                   const std::vector<std::string>& names,
                                   const std::vector<double>& ratings) {
  GAVEL_ASSIGN(std::string text, gavel::read_file(path));
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cells;
    size_t s = 0;
    while (true) {
      size_t c = line.find(',', s);
      cells.push_back(line.substr(s, c == std::string::npos ? std::string::npos : c - s));
      if (c == std::string::npos) break;
      s = c + 1;
    }
    rows.push_back(cells);
  }
  if (rows.empty()) return Error{path + ": empty leaderboard"};
  auto col = [&](const std::string& n) -> int {
    for (size_t i = 0; i < rows[0].size(); ++i)
      if (rows[0][i] == n) return static_cast<int>(i);
    return -1;
  };
  int ci = col(name_col), vi = col(value_col);
  if (ci < 0) return Error{fmt::format("{}: no column \"{}\"", path, name_col)};
  if (vi < 0) return Error{fmt::format("{}: no column \"{}\"", path, value_col)};
  std::map<std::string, double> lb;
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() <= static_cast<size_t>(std::max(ci, vi)))
      return Error{fmt::format("{}:{}: too few columns", path, r + 1)};
    std::string n = rows[r][ci];
    if (!n.empty() && n[0] == '*') n = n.substr(1);  // leaderboard marks some names with '*'
    char* end = nullptr;
    double v = std::strtod(rows[r][vi].c_str(), &end);
    if (rows[r][vi].empty() || *end)
      return Error{fmt::format("{}:{}: \"{}\" is not a number", path, r + 1, rows[r][vi])};
    lb[n] = v;
  }
  std::vector<double> x, y;
  json missing = json::array();
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = lb.find(names[i]);
    if (it == lb.end()) {
      missing.push_back(names[i]);
      continue;
    }
    x.push_back(ratings[i]);
    y.push_back(it->second);
  }
  GAVEL_ASSIGN(auto k, meta::kendall_tau_b(x, y));
  GAVEL_ASSIGN(auto s, meta::spearman(x, y));
  return json{{"n", k.n},
              {"kendall_tau_b", num(k.r)},
              {"kendall_p", num(k.p)},
              {"kendall_ci", {num(k.ci_low), num(k.ci_high)}},
              {"spearman", num(s.r)},
              {"not_on_leaderboard", missing}};
}

std::vector<meta::MatchRecord> records(const std::vector<rank::JudgedMatch>& log,
                                       const rank::ItemData& d) {
  std::vector<meta::MatchRecord> out;
  long long base = 0;
  for (const auto& m : log) {
    meta::MatchRecord r;
    r.first = m.match.a;
    r.second = m.match.b;
    r.p_first = m.p;
    int p = std::max(0, m.match.prompt);
    r.len_first = d.mean_length[m.match.a][p];
    r.len_second = d.mean_length[m.match.b][p];
    r.pair_id = m.pair_id;
    out.push_back(r);
    base = std::max(base, m.pair_id);
  }
  return out;
}

json sep_json(const meta::Separability& s) {
  return {
      {"omega2", num(s.anova.omega2)}, {"cliff_delta", num(s.cliff_delta)},
      {"score", num(s.score)},         {"score_ci", {num(s.score_ci_low), num(s.score_ci_high)}},
      {"anova_f", num(s.anova.f)},     {"bootstrap", s.bootstrap}};
}

int run_tournament_cmd(const TourOpts& t, const Output& o) {
  auto li = load_stand_in(t.in, t.fields, t.tau);
  if (!li.ok()) return gavel::cli::fail(li.message());
  const auto& d = li->data;
  const int nw = d.groups.size(), np = d.prompts.size();
  rank::TournamentConfig cfg;
  cfg.pairing = rank::Pairing::kSwiss;
  cfg.both_orders = t.both_orders;
  cfg.elo = t.elo;
  cfg.seed = t.seed;
  if (t.rating == "bt") {
    cfg.rating = rank::RatingMethod::kBradleyTerry;
  } else if (t.rating != "elo") {
    return gavel::cli::fail("--rating must be elo or bt, got " + t.rating);
  }
  rank::Judge judge = std::cref(li->judge);
  std::vector<double> mean, sd;
  std::vector<rank::JudgedMatch> log;
  json extra = json::object();
  std::string label;
  meta::Separability sep;
  bool has_sep = false;
  if (t.mode == "swiss") {
    cfg.rounds = t.rounds ? t.rounds : 20;
    for (int p = 0; p < np; ++p) cfg.prompts.push_back(p);
    auto r = rank::run_tournament(nw, cfg, judge);
    if (!r.ok()) return gavel::cli::fail(r.message());
    mean = r->rating;
    sd.assign(nw, std::numeric_limits<double>::quiet_NaN());
    log = r->log;
    label = "rating";
  } else if (t.mode == "option-a") {
    cfg.rounds = t.rounds ? t.rounds : 5;
    auto r = rank::option_a(nw, np, cfg, judge, t.ci_bootstrap);
    if (!r.ok()) return gavel::cli::fail(r.message());
    mean = r->mean;
    sd = r->sd;
    log = r->log;
    sep = r->separability;
    has_sep = true;
    label = fmt::format("avg over {} prompts", np);
  } else if (t.mode == "option-b") {
    cfg.rounds = t.rounds ? t.rounds : 20;
    auto r = rank::option_b(nw, np, t.iterations, cfg, judge, t.ci_bootstrap);
    if (!r.ok()) return gavel::cli::fail(r.message());
    mean = r->mean;
    sd = r->sd;
    log = r->log;
    sep = r->separability;
    has_sep = true;
    label = fmt::format("mean over {} bootstraps", t.iterations);
  } else {
    return gavel::cli::fail("--mode must be swiss, option-a or option-b, got " + t.mode);
  }
  std::vector<int> order(nw);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return mean[a] > mean[b]; });
  meta::Table table({"rank", "writer", t.rating + " (" + label + ")", "sd"});
  json writers = json::array();
  for (int r = 0; r < nw; ++r) {
    int i = order[r];
    table.add({std::to_string(r + 1), d.groups.names()[i], meta::fixed(mean[i], 1),
               meta::fixed(sd[i], 1)});
    writers.push_back({{"rank", r + 1},
                       {"writer", d.groups.names()[i]},
                       {"rating", mean[i]},
                       {"sd", num(sd[i])}});
  }
  meta::Table stats({"statistic", "value"});
  json j = {{"mode", t.mode},
            {"writers", writers},
            {"judge_calls", log.size()},
            {"rounds", cfg.rounds},
            {"both_orders", t.both_orders},
            {"stand_in_judge", fmt::format("P(a better) = 1/(1+exp(-(s_a-s_b)/{})) over mean "
                                           "item scores per writer and prompt",
                                           t.tau)},
            {"seed", t.seed},
            {"items_skipped", d.skipped}};
  stats.add({"judge calls", std::to_string(log.size())});
  if (d.skipped) stats.add({"items skipped (no score)", std::to_string(d.skipped)});
  if (has_sep) {
    j["separability"] = sep_json(sep);
    stats.add({"omega^2", meta::fixed(sep.anova.omega2, 4)});
    stats.add({"mean |Cliff's delta|", meta::fixed(sep.cliff_delta, 4)});
    stats.add({"separability",
               fmt::format("{} [{}, {}]", meta::fixed(sep.score, 2),
                           meta::fixed(sep.score_ci_low, 2), meta::fixed(sep.score_ci_high, 2))});
  }
  if (!t.fields.length.empty()) {
    auto b = meta::bias_report(records(log, d));
    if (!b.ok()) return gavel::cli::fail(b.message());
    j["bias"] = {{"position1_mean_prob", b->position1_mean_prob},
                 {"position1_win_rate", b->position1_win_rate},
                 {"longer_win_rate", b->longer_win_rate},
                 {"longer_ev_margin", b->longer_ev_margin},
                 {"swap_pairs", b->swap_pairs},
                 {"swap_flip_rate", b->swap_flip_rate}};
    stats.add(
        {"position 1 / 2 mean prob", fmt::format("{:.1f}% / {:.1f}%", 100 * b->position1_mean_prob,
                                                 100 * b->position2_mean_prob)});
    stats.add({"longer response win rate", meta::fixed(100 * b->longer_win_rate, 1) + "%"});
    stats.add({"longer EV margin", fmt::format("{:+.1f}%", 100 * b->longer_ev_margin)});
    if (b->swap_pairs) stats.add({"swap-flip rate", meta::fixed(100 * b->swap_flip_rate, 1) + "%"});
  }
  if (!t.leaderboard.empty()) {
    auto lb = leaderboard_agreement(t.leaderboard, t.lb_name, t.lb_value, d.groups.names(), mean);
    if (!lb.ok()) return gavel::cli::fail(lb.message());
    j["leaderboard"] = *lb;
    stats.add({"Kendall tau-b vs leaderboard",
               fmt::format("{} (n={}, 95% CI [{}, {}])", meta::fixed((*lb)["kendall_tau_b"], 4),
                           (*lb)["n"].get<int>(), meta::fixed((*lb)["kendall_ci"][0], 3),
                           meta::fixed((*lb)["kendall_ci"][1], 3))});
  }
  return emit(o, j, {table, stats});
}

// ---- convergence curve ----
struct CurveOpts {
  std::string in;
  rank::ItemFields fields;
  double tau = 5.0;
  int simulate = 0, sim_prompts = 8;
  double sim_spread = 1.5, sim_noise = 0.5, sim_prompt_noise = 0.5;
  double sim_position_bias = 0, sim_length_bias = 0, sim_length_spread = 0.3;
  bool both_orders = false, until_stable = false, balanced_prompts = false, own_rating = false;
  std::vector<std::string> schemes;
  int rounds = 20, seeds = 5;
  std::vector<int> report;  // rounds to print (empty: all)
  uint64_t seed = 1;
};

int run_curve(const CurveOpts& c, const Output& o) {
  rank::CurveConfig cc;
  cc.rounds = c.rounds;
  cc.seeds = c.seeds;
  cc.seed = c.seed;
  cc.both_orders = c.both_orders;
  if (c.balanced_prompts) cc.prompt_draw = rank::PromptDraw::kBalanced;
  cc.own_rating = c.own_rating;
  cc.stop.until_stable = c.until_stable;
  if (!c.schemes.empty()) {
    cc.schemes.clear();
    for (const auto& s : c.schemes) {
      if (s == "random") cc.schemes.push_back(rank::Pairing::kRandom);
      else if (s == "swiss") cc.schemes.push_back(rank::Pairing::kSwiss);
      else if (s == "adaptive") cc.schemes.push_back(rank::Pairing::kAdaptive);
      else return gavel::cli::fail("--schemes: random, swiss or adaptive, got " + s);
    }
  }
  Result<rank::Curve> curve = Error{"no input"};
  int n = 0, np = 0;
  std::string source;
  if (!c.in.empty()) {
    auto li = load_stand_in(c.in, c.fields, c.tau);
    if (!li.ok()) return gavel::cli::fail(li.message());
    n = li->data.groups.size();
    np = li->data.prompts.size();
    curve = rank::convergence_curve(n, np, std::cref(li->judge), cc);
    source = fmt::format("{} ({} writers x {} prompts, stand-in judge tau {})", c.in, n, np, c.tau);
  } else if (c.simulate > 1) {
    rank::SimulatedJudgeConfig sc;
    n = c.simulate;
    np = c.sim_prompts;
    for (int i = 0; i < n; ++i) sc.strength.push_back(c.sim_spread * (2.0 * i / (n - 1) - 1));
    sc.n_prompts = np;
    sc.judge_noise = c.sim_noise;
    sc.prompt_noise = c.sim_prompt_noise;
    sc.position_bias = c.sim_position_bias;
    sc.length_bias = c.sim_length_bias;
    if (c.sim_length_bias != 0) sc.length = rank::random_lengths(n, np, c.sim_length_spread, c.seed);
    sc.seed = c.seed;
    rank::SimulatedJudge judge(sc);
    curve = rank::convergence_curve(n, np, std::cref(judge), cc);
    source = fmt::format(
        "simulated: {} writers x {} prompts, strengths uniform in +-{}, judge "
        "noise {}, prompt noise {}, position bias {}, length bias {} (length spread {})",
        n, np, c.sim_spread, c.sim_noise, c.sim_prompt_noise, c.sim_position_bias,
        c.sim_length_bias, c.sim_length_spread);
  } else {
    return gavel::cli::fail("curve: give --in (scored items) or --simulate N");
  }
  if (!curve.ok()) return gavel::cli::fail(curve.message());
  // One row per round, one tau column per scheme.
  std::map<int, std::map<std::string, rank::CurvePoint>> by_round;
  std::vector<std::string> schemes;
  for (const auto& p : curve->points) {
    if (std::find(schemes.begin(), schemes.end(), p.scheme) == schemes.end())
      schemes.push_back(p.scheme);
    by_round[p.round][p.scheme] = p;
  }
  std::vector<std::string> head{"round", "judgments"};
  for (const auto& s : schemes) head.push_back("tau " + s);
  head.push_back("% of round robin");
  meta::Table t(head);
  json points = json::array();
  for (const auto& [round, m] : by_round) {
    if (!c.report.empty() && std::find(c.report.begin(), c.report.end(), round) == c.report.end())
      continue;
    double calls = m.begin()->second.judgments;
    std::vector<std::string> row{std::to_string(round), meta::fixed(calls, 0)};
    for (const auto& s : schemes) row.push_back(m.count(s) ? meta::fixed(m.at(s).tau, 3) : "");
    row.push_back(meta::fixed(100 * calls / curve->reference_judgments, 1) + "%");
    t.add(row);
  }
  for (const auto& p : curve->points)
    points.push_back({{"scheme", p.scheme},
                      {"round", p.round},
                      {"judgments", p.judgments},
                      {"tau", p.tau},
                      {"tau_min", p.tau_min}});
  json stops = json::array();
  std::string stop_text;
  for (const auto& st : curve->stops) {
    stops.push_back({{"scheme", st.scheme},
                     {"rounds", st.rounds},
                     {"judgments", st.judgments},
                     {"tau", st.tau},
                     {"tau_min", st.tau_min}});
    stop_text += fmt::format("--until-stable, {}: stopped after {:.1f} rounds, {:.0f} judgments, "
                             "tau {:.3f} (worst seed {:.3f})\n",
                             st.scheme, st.rounds, st.judgments, st.tau, st.tau_min);
  }
  json j = {{"source", source},
            {"reference_judgments", curve->reference_judgments},
            {"seeds", c.seeds},
            {"both_orders", c.both_orders},
            {"points", points},
            {"until_stable", stops}};
  std::string preface = fmt::format(
      "{}\nreference: Bradley-Terry on the full round robin ({} judgments); tau = Kendall "
      "tau-b of BT on the judgments so far vs the reference, mean of {} seeds{}\n{}",
      source, curve->reference_judgments, c.seeds,
      c.both_orders ? "; every judgment in both orders" : "", stop_text);
  return emit(o, j, {t}, preface);
}

void add_item_fields(CLI::App* s, rank::ItemFields& f, double& tau) {
  s->add_option("--group", f.group, "field naming the writer");
  s->add_option("--prompt", f.prompt, "field naming the prompt");
  s->add_option("--value", f.value, "numeric item score");
  s->add_option("--tau", tau, "stand-in judge temperature: P = 1/(1+exp(-(s_a-s_b)/tau))");
  s->add_flag("--skip-missing", f.skip_missing, "skip items whose score is missing or null");
}

gavel::cli::Runner setup(CLI::App& app) {
  app.require_subcommand(1);
  auto out = std::make_shared<Output>();
  std::vector<std::pair<CLI::App*, std::function<int()>>> subs;

  auto fit = std::make_shared<FitOpts>();
  auto* f = app.add_subcommand("fit",
                               "Bradley-Terry (bootstrap CI) and sequential Elo from "
                               "pairwise judgments");
  f->add_option("--in", fit->in, "JSONL of pairwise judgments")->required();
  f->add_option("--a", fit->fields.a, "field: player in position A");
  f->add_option("--b", fit->fields.b, "field: player in position B");
  f->add_option("--outcome", fit->fields.outcome,
                "field: A/B/tie or a number in [0,1] (share of A's win)");
  f->add_option("--prob", fit->fields.prob, "field: P(A better), overrides --outcome");
  f->add_option("--weight", fit->fields.weight, "field: comparison weight");
  f->add_option("--prompt", fit->fields.prompt, "field: prompt id (kept for reference)");
  f->add_option("--alpha", fit->bt.alpha, "BT prior strength: + alpha |theta|^2 (choix)");
  f->add_option("--anchor", fit->bt.anchor, "Elo-scale rating of the field's mean");
  f->add_option("--k", fit->elo.k, "sequential Elo K");
  f->add_option("--initial", fit->elo.initial, "sequential Elo start rating");
  f->add_option("--bootstrap", fit->bootstrap, "bootstrap resamples of the comparisons");
  f->add_option("--seed", fit->seed, "bootstrap seed");
  f->add_option("--level", fit->level, "CI level");
  add_output(f, out);
  subs.push_back({f, [=] { return run_fit(*fit, *out); }});

  auto tour = std::make_shared<TourOpts>();
  auto* t = app.add_subcommand("tournament",
                               "Swiss / Option A / Option B tournaments over scored "
                               "items with a score-difference stand-in judge");
  t->add_option("--in", tour->in, "JSONL of scored items")->required();
  add_item_fields(t, tour->fields, tour->tau);
  t->add_option("--length", tour->fields.length,
                "field: response text (its length) or a number, for length bias");
  t->add_option("--mode", tour->mode, "swiss | option-a | option-b");
  t->add_option("--rating", tour->rating, "elo | bt");
  t->add_option("--rounds", tour->rounds, "rounds per tournament (default swiss 20, A 5, B 20)");
  t->add_option("--iterations", tour->iterations, "option B bootstrap iterations");
  t->add_option("--ci-bootstrap", tour->ci_bootstrap, "separability CI resamples");
  t->add_flag("--both-orders", tour->both_orders, "judge every match in both orientations");
  t->add_option("--k", tour->elo.k, "Elo K");
  t->add_option("--initial", tour->elo.initial, "Elo start rating");
  t->add_option("--seed", tour->seed, "seed");
  t->add_option("--leaderboard", tour->leaderboard, "CSV leaderboard to compare with");
  t->add_option("--leaderboard-name", tour->lb_name, "leaderboard column with the names");
  t->add_option("--leaderboard-value", tour->lb_value, "leaderboard column with the ratings");
  add_output(t, out);
  subs.push_back({t, [=] { return run_tournament_cmd(*tour, *out); }});

  auto cur = std::make_shared<CurveOpts>();
  auto* c = app.add_subcommand("curve",
                               "Kendall tau to the full round-robin ranking vs number "
                               "of judgments, for random / Swiss / adaptive pairing");
  c->add_option("--in", cur->in, "JSONL of scored items (stand-in judge)");
  add_item_fields(c, cur->fields, cur->tau);
  c->add_option("--simulate", cur->simulate, "simulate N writers instead of --in");
  c->add_option("--sim-prompts", cur->sim_prompts, "simulated prompts");
  c->add_option("--sim-spread", cur->sim_spread, "true strengths uniform in +-spread (logits)");
  c->add_option("--sim-noise", cur->sim_noise, "judge noise sd (logits)");
  c->add_option("--sim-prompt-noise", cur->sim_prompt_noise, "writer x prompt noise sd");
  c->add_option("--rounds", cur->rounds, "rounds");
  c->add_option("--seeds", cur->seeds, "tournaments averaged per scheme");
  c->add_option("--report", cur->report, "rounds to print (default all)");
  c->add_option("--seed", cur->seed, "seed");
  c->add_option("--sim-position-bias", cur->sim_position_bias, "logit bonus of position 1");
  c->add_option("--sim-length-bias", cur->sim_length_bias, "x ln(len_a / len_b) in the logit");
  c->add_option("--sim-length-spread", cur->sim_length_spread, "sd of ln length (writer, prompt)");
  c->add_flag("--both-orders", cur->both_orders, "judge every match in both orientations");
  c->add_flag("--until-stable", cur->until_stable,
              "also run each scheme until its bootstrap rank intervals stop changing");
  c->add_option("--schemes", cur->schemes, "random swiss adaptive (default all)");
  c->add_flag("--balanced-prompts", cur->balanced_prompts,
              "draw each match's prompt among those its players used least");
  c->add_flag("--own-rating", cur->own_rating,
              "rank each scheme by its own rating (Swiss: sequential Elo; adaptive: BT) instead "
              "of a BT fit for all");
  add_output(c, out);
  subs.push_back({c, [=] { return run_curve(*cur, *out); }});

  return [subs]() -> int {
    for (const auto& [sub, run] : subs)
      if (sub->parsed()) return run();
    return gavel::cli::fail("rank: no subcommand given (see gavel rank --help)");
  };
}

gavel::cli::Register reg{{"rank",
                          "rate systems from pairwise judgments, run tournaments "
                          "(Swiss, Option A/B) and pairing convergence curves",
                          setup}};

}  // namespace
