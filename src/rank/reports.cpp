#include "rank/reports.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <optional>

#include "core/checks.h"
#include "meta/judge_metrics.h"
#include "meta/separability.h"
#include "meta/summary.h"
#include "rank/convergence.h"
#include "rank/judges.h"
#include "rank/leaderboard.h"

namespace gavel::rank {

// Rounds, iterations and seeds are loops over whole tournaments: beyond this they only burn time.
constexpr int kMaxRounds = 10000;

namespace {

using meta::fixed;
using meta::json_number;
using nlohmann::json;

// Indices sorted by value, highest first (ties keep index order).
std::vector<int> descending(const std::vector<double>& v) {
  std::vector<int> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return v[a] > v[b]; });
  return order;
}

// The judge calls of a tournament as bias records; lengths from the writers' mean lengths.
std::vector<meta::MatchRecord> match_records(const std::vector<JudgedMatch>& log,
                                             const meta::ItemData& d) {
  std::vector<meta::MatchRecord> out;
  for (const auto& m : log) {
    meta::MatchRecord r;
    r.first = m.match.a;
    r.second = m.match.b;
    r.p_first = m.p;
    const int p = std::max(0, m.match.prompt);
    r.len_first = d.mean_length[m.match.a][p];
    r.len_second = d.mean_length[m.match.b][p];
    r.pair_id = m.pair_id;
    out.push_back(r);
  }
  return out;
}

json separability_json(const meta::Separability& s) {
  return {{"omega2", json_number(s.anova.omega2)},
          {"cliff_delta", json_number(s.cliff_delta)},
          {"score", json_number(s.score)},
          {"score_ci", {json_number(s.score_ci_low), json_number(s.score_ci_high)}},
          {"anova_f", json_number(s.anova.f)},
          {"bootstrap", s.bootstrap}};
}

}  // namespace

Result<meta::Report> fit_report(const FitReportConfig& f) {
  GAVEL_ASSIGN(PairwiseData d, load_pairwise(f.in, f.fields));
  const int n = d.players.size();
  auto bt = bradley_terry_bootstrap(n, d.outcomes, f.bt, f.bootstrap, f.seed, f.level);
  if (!bt.ok()) return bt.status().prefixed(f.in + ": ");
  auto elo = elo_sequential(n, d.outcomes, f.elo);
  if (!elo.ok()) return elo.status().prefixed(f.in + ": ");
  std::vector<int> games(n, 0);
  std::vector<double> score(n, 0);
  for (const auto& oc : d.outcomes) {
    ++games[oc.a];
    ++games[oc.b];
    score[oc.a] += oc.score;
    score[oc.b] += 1 - oc.score;
  }
  meta::Table t(
      {"rank", "player", "bt_elo", "ci_low", "ci_high", "se", "seq_elo", "games", "score"});
  json players = json::array();
  const std::vector<int> order = descending(bt->fit.rating);
  for (int r = 0; r < n; ++r) {
    const int i = order[r];
    t.add({std::to_string(r + 1), d.players.names()[i], fixed(bt->fit.rating[i], 1),
           fixed(bt->ci_low[i], 1), fixed(bt->ci_high[i], 1), fixed(bt->fit.std_error[i], 1),
           fixed((*elo)[i], 1), std::to_string(games[i]), fixed(score[i], 1)});
    players.push_back({{"rank", r + 1},
                       {"player", d.players.names()[i]},
                       {"bt_elo", bt->fit.rating[i]},
                       {"theta", bt->fit.theta[i]},
                       {"ci", {json_number(bt->ci_low[i]), json_number(bt->ci_high[i])}},
                       {"se", bt->fit.std_error[i]},
                       {"seq_elo", (*elo)[i]},
                       {"games", games[i]},
                       {"score", score[i]}});
  }
  json j = {
      {"players", players},
      {"comparisons", d.outcomes.size()},
      {"no_verdict", d.no_verdict},
      {"bt", {{"alpha", f.bt.alpha}, {"anchor", f.bt.anchor}, {"iterations", bt->fit.iterations}}},
      {"elo", {{"k", f.elo.k}, {"initial", f.elo.initial}}},
      {"bootstrap", {{"samples", f.bootstrap}, {"seed", f.seed}, {"level", f.level}}}};
  std::string preface =
      d.no_verdict ? fmt::format("{} row(s) without a verdict (\"{}\" null, no \"{}\") left out\n",
                                 d.no_verdict, f.fields.prob, f.fields.outcome)
                   : "";
  return meta::Report{std::move(j), {std::move(t)}, std::move(preface)};
}

Result<TournamentMode> parse_tournament_mode(std::string_view s) {
  if (s == "swiss") return TournamentMode::kSwiss;
  if (s == "option-a") return TournamentMode::kOptionA;
  if (s == "option-b") return TournamentMode::kOptionB;
  return Error{fmt::format("must be swiss, option-a or option-b, got {}", s),
               StatusCode::kInvalidArgument};
}

std::string_view name(TournamentMode mode) {
  switch (mode) {
    case TournamentMode::kSwiss:
      return "swiss";
    case TournamentMode::kOptionA:
      return "option-a";
    case TournamentMode::kOptionB:
      return "option-b";
  }
  return "?";
}

int default_rounds(TournamentMode mode) { return mode == TournamentMode::kOptionA ? 5 : 20; }

Result<RatingMethod> parse_rating_method(std::string_view s) {
  if (s == "elo") return RatingMethod::kElo;
  if (s == "bt") return RatingMethod::kBradleyTerry;
  return Error{fmt::format("must be elo or bt, got {}", s), StatusCode::kInvalidArgument};
}

std::string_view name(RatingMethod method) {
  return method == RatingMethod::kBradleyTerry ? "bt" : "elo";
}

Result<meta::Report> tournament_report(const TournamentReportConfig& t) {
  GAVEL_TRY(check_positive("tau", t.tau));
  GAVEL_TRY(check_count("rounds", t.rounds, 0, kMaxRounds, "(0: the mode's default)"));
  GAVEL_TRY(check_count("iterations", t.iterations, 1, kMaxRounds));
  GAVEL_TRY(check_count("ci_bootstrap", t.ci_bootstrap, 0, meta::kMaxBootstrap));
  GAVEL_TRY(check_elo(t.elo));
  GAVEL_ASSIGN(StandInJudge stand_in, stand_in_judge(t.in, t.fields, t.tau));
  const meta::ItemData& d = stand_in.items;
  const int nw = d.groups.size(), np = d.prompts.size();
  TournamentConfig cfg;
  cfg.pairing = Pairing::kSwiss;
  cfg.both_orders = t.both_orders;
  cfg.elo = t.elo;
  cfg.seed = t.seed;
  cfg.rating = t.rating;
  cfg.rounds = t.rounds ? t.rounds : default_rounds(t.mode);
  cfg.stop.until_stable = t.until_stable;
  const Judge judge = std::cref(stand_in.judge);
  std::vector<double> mean, sd;
  std::vector<JudgedMatch> log;
  std::string label;
  std::optional<meta::Separability> sep;
  int stopped_early = 0;             // tournaments ended before cfg.rounds
  std::optional<int> rounds_played;  // Swiss: the one tournament's
  switch (t.mode) {
    case TournamentMode::kSwiss: {
      for (int p = 0; p < np; ++p) cfg.prompts.push_back(p);
      GAVEL_ASSIGN(TournamentResult r, run_tournament(nw, cfg, judge));
      stopped_early = r.stopped_early;
      rounds_played = r.rounds_played;
      mean = r.rating;
      sd.assign(nw, std::numeric_limits<double>::quiet_NaN());
      log = std::move(r.log);
      label = "rating";
      break;
    }
    case TournamentMode::kOptionA: {
      GAVEL_ASSIGN(OptionAResult r, option_a(nw, np, cfg, judge, t.ci_bootstrap));
      stopped_early = r.stopped_early;
      mean = r.mean;
      sd = r.sd;
      log = std::move(r.log);
      sep = r.separability;
      label = fmt::format("avg over {} prompts", np);
      break;
    }
    case TournamentMode::kOptionB: {
      GAVEL_ASSIGN(OptionBResult r, option_b(nw, np, t.iterations, cfg, judge, t.ci_bootstrap));
      stopped_early = r.stopped_early;
      mean = r.mean;
      sd = r.sd;
      log = std::move(r.log);
      sep = r.separability;
      label = fmt::format("mean over {} bootstraps", t.iterations);
      break;
    }
  }
  meta::Table table({"rank", "writer", fmt::format("{} ({})", name(t.rating), label), "sd"});
  json writers = json::array();
  const std::vector<int> order = descending(mean);
  for (int r = 0; r < nw; ++r) {
    const int i = order[r];
    // One Swiss tournament has no spread across tournaments: "-", not nan.
    table.add({std::to_string(r + 1), d.groups.names()[i], fixed(mean[i], 1),
               std::isnan(sd[i]) ? "-" : fixed(sd[i], 1)});
    writers.push_back({{"rank", r + 1},
                       {"writer", d.groups.names()[i]},
                       {"rating", mean[i]},
                       {"sd", json_number(sd[i])}});
  }
  meta::Table stats({"statistic", "value"});
  json j = {{"mode", std::string(name(t.mode))},
            {"writers", writers},
            {"judge_calls", log.size()},
            {"rounds", cfg.rounds},
            {"both_orders", t.both_orders},
            {"until_stable", t.until_stable},
            {"stopped_early_tournaments", stopped_early},
            {"stand_in_judge", fmt::format("P(a better) = 1/(1+exp(-(s_a-s_b)/{})) over mean "
                                           "item scores per writer and prompt",
                                           t.tau)},
            {"seed", t.seed},
            {"items_skipped", d.skipped}};
  stats.add({"judge calls", std::to_string(log.size())});
  if (rounds_played) {
    j["rounds_played"] = *rounds_played;
    stats.add({"rounds played", fmt::format("{} of {}", *rounds_played, cfg.rounds)});
  }
  if (t.until_stable) stats.add({"tournaments stopped early", std::to_string(stopped_early)});
  if (d.skipped) stats.add({"items skipped (no score)", std::to_string(d.skipped)});
  if (sep) {
    j["separability"] = separability_json(*sep);
    stats.add({"omega^2", fixed(sep->anova.omega2, 4)});
    stats.add({"mean |Cliff's delta|", fixed(sep->cliff_delta, 4)});
    stats.add(
        {"separability", fmt::format("{} [{}, {}]", fixed(sep->score, 2),
                                     fixed(sep->score_ci_low, 2), fixed(sep->score_ci_high, 2))});
  }
  if (!t.fields.length.empty()) {
    GAVEL_ASSIGN(meta::BiasReport b, meta::bias_report(match_records(log, d)));
    j["bias"] = {{"position1_mean_prob", b.position1_mean_prob},
                 {"position1_win_rate", b.position1_win_rate},
                 {"longer_win_rate", b.longer_win_rate},
                 {"longer_ev_margin", b.longer_ev_margin},
                 {"swap_pairs", b.swap_pairs},
                 {"swap_flip_rate", b.swap_flip_rate}};
    stats.add(
        {"position 1 / 2 mean prob", fmt::format("{:.1f}% / {:.1f}%", 100 * b.position1_mean_prob,
                                                 100 * b.position2_mean_prob)});
    stats.add({"longer response win rate", fixed(100 * b.longer_win_rate, 1) + "%"});
    stats.add({"longer EV margin", fmt::format("{:+.1f}%", 100 * b.longer_ev_margin)});
    if (b.swap_pairs) stats.add({"swap-flip rate", fixed(100 * b.swap_flip_rate, 1) + "%"});
  }
  if (!t.leaderboard.empty()) {
    GAVEL_ASSIGN(Leaderboard board,
                 read_leaderboard(t.leaderboard, t.leaderboard_name, t.leaderboard_value));
    GAVEL_ASSIGN(LeaderboardAgreement a, leaderboard_agreement(board, d.groups.names(), mean));
    j["leaderboard"] = {
        {"n", a.kendall.n},
        {"kendall_tau_b", json_number(a.kendall.r)},
        {"kendall_p", json_number(a.kendall.p)},
        {"kendall_ci", {json_number(a.kendall.ci_low), json_number(a.kendall.ci_high)}},
        {"spearman", json_number(a.spearman.r)},
        {"not_on_leaderboard", a.not_on_leaderboard}};
    stats.add({"Kendall tau-b vs leaderboard",
               fmt::format("{} (n={}, 95% CI [{}, {}])", fixed(a.kendall.r, 4), a.kendall.n,
                           fixed(a.kendall.ci_low, 3), fixed(a.kendall.ci_high, 3))});
  }
  return meta::Report{std::move(j), {std::move(table), std::move(stats)}, ""};
}

Result<meta::Report> curve_report(const CurveReportConfig& c) {
  GAVEL_TRY(check_positive("tau", c.tau));
  GAVEL_TRY(check_count("rounds", c.rounds, 1, kMaxRounds));
  GAVEL_TRY(check_count("seeds", c.seeds, 1, kMaxRounds));
  for (int r : c.report) GAVEL_TRY(check_count("report", r, 1, c.rounds));
  if (c.in.empty()) {
    if (c.simulate != 0)
      GAVEL_TRY(check_count("simulate", c.simulate, 2, kMaxSimulatedWriters, "(writers)"));
    GAVEL_TRY(check_count("sim_prompts", c.sim_prompts, 1, kMaxRounds));
    GAVEL_TRY(check_at_least("sim_spread", c.sim_spread, 0));
    GAVEL_TRY(check_at_least("sim_noise", c.sim_noise, 0));
    GAVEL_TRY(check_at_least("sim_prompt_noise", c.sim_prompt_noise, 0));
  }
  CurveConfig cc;
  cc.rounds = c.rounds;
  cc.seeds = c.seeds;
  cc.seed = c.seed;
  cc.on_progress = c.on_progress;
  cc.both_orders = c.both_orders;
  if (c.balanced_prompts) cc.prompt_draw = PromptDraw::kBalanced;
  cc.own_rating = c.own_rating;
  cc.stop.until_stable = c.until_stable;
  if (!c.schemes.empty()) cc.schemes = c.schemes;
  Result<Curve> curve = Error{"no input", StatusCode::kInvalidArgument};
  std::string source;
  if (!c.in.empty()) {
    GAVEL_ASSIGN(StandInJudge stand_in, stand_in_judge(c.in, c.fields, c.tau));
    const int n = stand_in.items.groups.size(), np = stand_in.items.prompts.size();
    curve = convergence_curve(n, np, std::cref(stand_in.judge), cc);
    source = fmt::format("{} ({} writers x {} prompts, stand-in judge tau {})", c.in, n, np, c.tau);
  } else if (c.simulate > 1) {
    SimulatedJudgeConfig sc;
    const int n = c.simulate;
    for (int i = 0; i < n; ++i) sc.strength.push_back(c.sim_spread * (2.0 * i / (n - 1) - 1));
    sc.n_prompts = c.sim_prompts;
    sc.judge_noise = c.sim_noise;
    sc.prompt_noise = c.sim_prompt_noise;
    sc.position_bias = c.sim_position_bias;
    sc.length_bias = c.sim_length_bias;
    if (c.sim_length_bias != 0)
      sc.length = random_lengths(n, c.sim_prompts, c.sim_length_spread, c.seed);
    sc.seed = c.seed;
    SimulatedJudge judge(sc);
    curve = convergence_curve(n, c.sim_prompts, std::cref(judge), cc);
    source = fmt::format(
        "simulated: {} writers x {} prompts, strengths uniform in +-{}, judge noise {}, prompt "
        "noise {}, position bias {}, length bias {} (length spread {})",
        n, c.sim_prompts, c.sim_spread, c.sim_noise, c.sim_prompt_noise, c.sim_position_bias,
        c.sim_length_bias, c.sim_length_spread);
  } else {
    return Error{"curve: give --in (scored items) or --simulate N", StatusCode::kInvalidArgument};
  }
  if (!curve.ok()) return curve.status();
  // One row per round, one tau column per scheme.
  std::map<int, std::map<std::string, CurvePoint>> by_round;
  std::vector<std::string> schemes;
  for (const auto& p : curve->points) {
    if (std::find(schemes.begin(), schemes.end(), p.scheme) == schemes.end())
      schemes.push_back(p.scheme);
    by_round[p.round][p.scheme] = p;
  }
  // Schemes may play different numbers of matches a round (adaptive skips settled pairs), so
  // each has its own judgments column.
  std::vector<std::string> head{"round"};
  for (const auto& s : schemes) {
    head.push_back("judgments " + s);
    head.push_back("tau " + s);
  }
  meta::Table t(head);
  json points = json::array();
  for (const auto& [round, m] : by_round) {
    if (!c.report.empty() && std::find(c.report.begin(), c.report.end(), round) == c.report.end())
      continue;
    std::vector<std::string> row{std::to_string(round)};
    for (const auto& s : schemes) {
      row.push_back(m.count(s) ? fixed(m.at(s).judgments, 0) : "");
      row.push_back(m.count(s) ? fixed(m.at(s).tau, 3) : "");
    }
    t.add(row);
  }
  for (const auto& p : curve->points)
    points.push_back({{"scheme", p.scheme},
                      {"round", p.round},
                      {"judgments", p.judgments},
                      {"tau", p.tau},
                      {"tau_min", p.tau_min}});
  json stops = json::array();
  meta::Table st({"scheme", "rounds", "judgments", "% of round robin", "tau", "tau worst seed"});
  for (const StopPoint& s : curve->stops) {
    stops.push_back({{"scheme", s.scheme},
                     {"rounds", s.rounds},
                     {"judgments", s.judgments},
                     {"tau", s.tau},
                     {"tau_min", s.tau_min}});
    st.add({s.scheme, fixed(s.rounds, 1), fixed(s.judgments, 0),
            fixed(100 * s.judgments / curve->reference_judgments, 1) + "%", fixed(s.tau, 3),
            fixed(s.tau_min, 3)});
  }
  json j = {{"source", source}, {"reference_judgments", curve->reference_judgments},
            {"seeds", c.seeds}, {"both_orders", c.both_orders},
            {"points", points}, {"until_stable", stops}};
  std::string preface = fmt::format(
      "{}\nreference: Bradley-Terry on the full round robin ({} judgments); tau = Kendall "
      "tau-b of {} on the judgments so far vs the reference, mean of {} seeds; judgments = "
      "matches{}\n",
      source, curve->reference_judgments,
      c.own_rating ? "each scheme's own rating (Swiss/random: Elo, adaptive: BT)" : "BT", c.seeds,
      c.both_orders ? " (each judged in both orders)" : "");
  std::vector<meta::Table> tables{std::move(t)};
  if (!curve->stops.empty()) tables.push_back(std::move(st));
  return meta::Report{std::move(j), std::move(tables), std::move(preface)};
}

}  // namespace gavel::rank
