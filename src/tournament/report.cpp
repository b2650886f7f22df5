#include "tournament/report.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "core/io.h"
#include "meta/judgment_record.h"
#include "meta/table.h"
#include "rank/convergence.h"
#include "rank/tournament.h"

namespace gavel::tournament {
namespace {

using Json = nlohmann::json;

// Length figures where every judged pair's texts have equal lengths: undefined, not 0.
constexpr const char* kNoLengthVariation =
    "n/a (no length variation: every judged pair's texts have equal lengths)";

Json num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }
Json opt(const std::optional<double>& v) { return v ? num(*v) : Json(nullptr); }

std::string length_line(const Analysis& a) {
  if (!a.length_fitted)
    return a.bias.length_n == 0
               ? fmt::format("length coefficient: {}", kNoLengthVariation)
               : fmt::format("length coefficient: not fitted ({})", a.length_error);
  return fmt::format(
      "length coefficient (BT covariate (len_1-len_2)/(len_1+len_2), {}): beta = {:+.3f} +- {:.3f} "
      "log-odds ({:+.1f} Elo points at the extreme)",
      a.length_unit, a.length_beta, a.length_beta_se, a.length_beta * 400 / std::log(10.0));
}

std::string dump_line(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string option_title(const ReportContext& c) {
  const Outcome& o = c.outcome;
  if (o.cfg.option == Option::kA)
    return fmt::format("Option A: Prompt-Isolated Elo ({} {}-round {} tournaments, one per prompt)",
                       o.tournaments.size(), o.cfg.rounds, rank::pairing_name(o.cfg.pairing));
  if (o.cfg.option == Option::kGlobal)
    return fmt::format("Option global: one {}-round {} tournament over all {} prompts",
                       o.cfg.rounds, rank::pairing_name(o.cfg.pairing), c.set.n_prompts());
  return fmt::format(
      "Option B: Bootstrapped Tournament Elo ({} iterations drawing {} prompts with replacement, "
      "{}-round {} tournament each)",
      o.cfg.iterations, c.set.n_prompts(), o.cfg.rounds, rank::pairing_name(o.cfg.pairing));
}

std::string rating_label(const ReportContext& c) {
  int samples = c.outcome.cfg.option == Option::kA ? static_cast<int>(c.outcome.tournaments.size())
                                                   : c.outcome.cfg.iterations;
  const char* what =
      rank::default_rating(c.outcome.cfg.pairing) == rank::RatingMethod::kElo ? "Elo" : "BT";
  if (c.outcome.cfg.option == Option::kGlobal) return fmt::format("{} (one tournament)", what);
  return c.outcome.cfg.option == Option::kA
             ? fmt::format("Avg {} (Samples: {})", what, samples)
             : fmt::format("Avg {} (Across {} Bootstraps)", what, samples);
}

}  // namespace

Result<std::string> matches_jsonl(const ReportContext& c) {
  const ResponseSet& set = c.set;
  std::string out;
  for (const PlayedMatch& m : c.outcome.matches) {
    const MatchSpec& s = m.spec;
    GAVEL_ASSIGN(const JudgedText* t1, c.texts.get(s.writer1, s.prompt, s.iteration1));
    GAVEL_ASSIGN(const JudgedText* t2, c.texts.get(s.writer2, s.prompt, s.iteration2));
    const std::string& w1 = set.writers[s.writer1];
    const std::string& w2 = set.writers[s.writer2];
    Json passes = Json::array();
    for (const PassResult& p : m.result.passes)
      passes.push_back({{"A", p.writer1_is_a ? w1 : w2},
                        {"B", p.writer1_is_a ? w2 : w1},
                        {"p_A", opt(p.p_a)},
                        {"logprob_A", opt(p.logprob_a)},
                        {"logprob_B", opt(p.logprob_b)}});
    namespace record = meta::record;  // the names `gavel rank fit` reads by default
    Json line = {
        {"option", std::string(name(c.outcome.cfg.option))},
        {"tournament", s.tournament},
        {"round", s.round + 1},
        {"prompt_id", set.prompts[s.prompt]},
        {record::kSystemA, w1},
        {record::kSystemB, w2},
        {"iteration_1", set.responses[s.writer1][s.prompt][s.iteration1].iteration},
        {"iteration_2", set.responses[s.writer2][s.prompt][s.iteration2].iteration},
        {"passes", passes},
        {record::kPText1, m.result.p_writer1},
        {record::kVerdict,
         m.result.has_verdict ? Json(record::pair_verdict(m.result.p_writer1)) : Json(nullptr)},
        {"tokens_1", t1->tokens >= 0 ? Json(t1->tokens) : Json(nullptr)},
        {"tokens_2", t2->tokens >= 0 ? Json(t2->tokens) : Json(nullptr)},
        {"chars_1", t1->chars},
        {"chars_2", t2->chars},
        {"truncated_1", t1->truncated},
        {"truncated_2", t2->truncated},
        {"judged", std::string(name(m.result.source))},
        {"keys", m.result.keys}};
    out += dump_line(line);
  }
  return out;
}

Json leaderboard_json(const ReportContext& c) {
  const Outcome& o = c.outcome;
  const Analysis& a = c.analysis;
  Json writers = Json::array();
  for (size_t r = 0; r < a.rows.size(); ++r) {
    const LeaderboardRow& x = a.rows[r];
    writers.push_back({{"rank", r + 1},
                       {"writer", c.set.writers[x.writer]},
                       {"rating", num(x.rating)},
                       {"sd", num(x.sd)},
                       {"tournaments", x.tournaments},
                       {"matches", x.matches},
                       {"bt_rating", num(x.bt)},
                       {"bt_se", num(x.bt_se)},
                       {"bt_ci_low", num(x.bt_ci_low)},
                       {"bt_ci_high", num(x.bt_ci_high)},
                       {"lc_rating", num(x.lc)},
                       {"lc_se", num(x.lc_se)}});
  }
  Json tours = Json::array();
  for (const TournamentInfo& t : o.tournaments) {
    Json prompts = Json::array(), ws = Json::array();
    for (int p : t.prompts) prompts.push_back(c.set.prompts[p]);
    for (int w : t.writers) ws.push_back(c.set.writers[w]);
    tours.push_back({{"id", t.id}, {"prompts", prompts}, {"writers", ws}});
  }
  Json j = {{"option", std::string(name(o.cfg.option))},
            {"pairing", rank::pairing_name(o.cfg.pairing)},
            {"rounds", o.cfg.rounds},
            {"prompts_per_match", o.cfg.prompts_per_match},
            {"bt_bootstrap", o.cfg.bt_bootstrap},
            {"iterations", o.cfg.option == Option::kB ? Json(o.cfg.iterations) : Json(nullptr)},
            {"seed", o.cfg.seed},
            {"iteration_choice", std::string(name(o.cfg.iteration_choice))},
            {"until_stable", o.cfg.stop.until_stable},
            {"tournament_rating",
             rank::default_rating(o.cfg.pairing) == rank::RatingMethod::kElo ? "elo" : "bt"},
            {"planned_matches", o.planned_matches},
            {"stopped_early_tournaments", o.stopped_early},
            {"elo", {{"k", o.cfg.elo.k}, {"initial", o.cfg.elo.initial}}},
            {"bt_alpha", o.cfg.bt.alpha},
            {"input", c.set.path},
            {"writers_n", c.set.n_writers()},
            {"prompts_n", c.set.n_prompts()},
            {"missing_responses", c.set.missing()},
            {"max_response_tokens", c.max_response_tokens},
            {"judge", c.judge},
            {"matches", o.matches.size()},
            {"unplayable_pairings", o.unplayable},
            {"distinct_judgments", a.judgments},
            {"no_verdict_judgments", a.no_verdict},
            {"length_unit", a.length_unit},
            {"length_coefficient",
             {{"beta", num(a.length_beta)},
              {"se", num(a.length_beta_se)},
              {"covariate", "(len_1 - len_2) / (len_1 + len_2)"},
              {"elo_points_per_unit", num(a.length_beta * 400 / std::log(10.0))},
              {"not_fitted", a.length_fitted ? Json(nullptr) : Json(length_line(a))}}},
            {"writers", writers},
            {"tournaments", tours}};
  if (c.board) {
    j["public_leaderboard"] = {
        {"path", c.board_path},
        {"n", c.board->kendall.n},
        {"kendall_tau_b", num(c.board->kendall.r)},
        {"kendall_ci", {num(c.board->kendall.ci_low), num(c.board->kendall.ci_high)}},
        {"spearman", num(c.board->spearman.r)},
        {"not_on_leaderboard", c.board->not_on_leaderboard}};
  }
  return j;
}

namespace {

// A length-controlled figure: "n/a" where the fit could not be made (the length line says why).
std::string lc_cell(const Analysis& a, double v) {
  return a.length_fitted ? meta::fixed(v, 1) : std::string("n/a");
}

meta::Table leaderboard_table(const ReportContext& c) {
  meta::Table t({"rank", "writer", "rating", "sd", "tournaments", "matches", "bt_rating", "bt_se",
                 "lc_rating", "lc_se"});
  for (size_t r = 0; r < c.analysis.rows.size(); ++r) {
    const LeaderboardRow& x = c.analysis.rows[r];
    t.add({std::to_string(r + 1), c.set.writers[x.writer], meta::fixed(x.rating, 1),
           meta::fixed(x.sd, 1), std::to_string(x.tournaments), std::to_string(x.matches),
           meta::fixed(x.bt, 1), meta::fixed(x.bt_se, 1), lc_cell(c.analysis, x.lc),
           lc_cell(c.analysis, x.lc_se)});
  }
  return t;
}

}  // namespace

std::string leaderboard_csv(const ReportContext& c) { return leaderboard_table(c).csv(); }

std::string leaderboard_markdown(const ReportContext& c) {
  std::string s = fmt::format("# {}\n\n", option_title(c));
  s += fmt::format("judge: {}\n\n", c.judge);
  meta::Table t({"Rank", "Model Name", rating_label(c), "sd", "LC rating", "Matches"});
  for (size_t r = 0; r < c.analysis.rows.size(); ++r) {
    const LeaderboardRow& x = c.analysis.rows[r];
    t.add({std::to_string(r + 1), c.set.writers[x.writer], meta::fixed(x.rating, 1),
           meta::fixed(x.sd, 1), lc_cell(c.analysis, x.lc), std::to_string(x.matches)});
  }
  s += t.markdown();
  s += "\nrating: mean of the writer's Elo over its tournaments (sd across them); LC rating: "
       "Bradley-Terry over the distinct judgments with the length covariate, Elo scale.\n";
  s += length_line(c.analysis) + "\n";
  if (c.max_response_tokens > 0)
    s += fmt::format("responses truncated to their first {} tokens before judging\n",
                     c.max_response_tokens);
  return s;
}

Json separability_json(const ReportContext& c) {
  const meta::Separability& s = c.outcome.separability;
  const Option o = c.outcome.cfg.option;
  bool a = o == Option::kA;
  return {{"option", std::string(name(o))},
          {"groups", "writers"},
          {"samples", a                      ? "per-prompt Elo ratings (one per prompt tournament)"
                      : o == Option::kGlobal ? "none: one tournament (not computed)"
                                             : "global Elo ratings (one per bootstrap iteration)"},
          {"omega2", num(s.anova.omega2)},
          {"omega2_ci", {num(s.omega2_ci_low), num(s.omega2_ci_high)}},
          {"cliff_delta", num(s.cliff_delta)},
          {"cliff_delta_ci", {num(s.delta_ci_low), num(s.delta_ci_high)}},
          {"score", num(s.score)},
          {"score_ci", {num(s.score_ci_low), num(s.score_ci_high)}},
          {"anova_f", num(s.anova.f)},
          {"anova_p", num(s.anova.p)},
          {"ci_level", 0.95},
          {"ci_bootstrap", s.bootstrap},
          {"ci_resampling", a ? "prompts" : "iterations"},
          {"formula", "((0.5 * omega2 + 0.5 * cliff_delta) / 0.75) * 100"}};
}

Json bias_json(const ReportContext& c) {
  const meta::BiasReport& b = c.analysis.bias;
  return {{"option", std::string(name(c.outcome.cfg.option))},
          {"judgments", c.analysis.judgments},
          {"passes", b.n},
          {"position_1_avg_assignment", num(b.position1_mean_prob)},
          {"position_2_avg_assignment", num(b.position2_mean_prob)},
          {"position_1_win_rate", num(b.position1_win_rate)},
          // null where no pass had texts of different lengths (length_passes 0)
          {"longer_response_win_rate", b.length_n ? num(b.longer_win_rate) : Json(nullptr)},
          {"longer_avg_ev_margin", b.length_n ? num(b.longer_ev_margin) : Json(nullptr)},
          {"length_passes", b.length_n},
          {"length_unit", c.analysis.length_unit},
          {"swap_pairs", b.swap_pairs},
          {"swap_flip_rate", b.swap_pairs ? num(b.swap_flip_rate) : Json(nullptr)},
          {"definitions",
           {{"position_1_avg_assignment", "mean P(A) over all passes"},
            {"longer_response_win_rate", "passes whose longer text gets P > 0.5 (0.5 counts half)"},
            {"longer_avg_ev_margin", "mean of P(longer) - P(shorter) over passes"},
            {"swap_flip_rate", "judgments whose preferred text changes when A and B swap"}}}};
}

Status write_outputs(const std::string& dir, const ReportContext& c) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{fmt::format("{}: cannot create output directory: {}", dir, ec.message())};
  auto path = [&](const char* f) { return (std::filesystem::path(dir) / f).string(); };
  GAVEL_ASSIGN(std::string matches, matches_jsonl(c));
  GAVEL_TRY(write_file_atomic(path("matches.jsonl"), matches));
  GAVEL_TRY(write_file_atomic(path("leaderboard.json"), leaderboard_json(c).dump(2) + "\n"));
  GAVEL_TRY(write_file_atomic(path("leaderboard.csv"), leaderboard_csv(c)));
  GAVEL_TRY(write_file_atomic(path("leaderboard.md"), leaderboard_markdown(c)));
  GAVEL_TRY(write_file_atomic(path("separability.json"), separability_json(c).dump(2) + "\n"));
  GAVEL_TRY(write_file_atomic(path("bias.json"), bias_json(c).dump(2) + "\n"));
  return Status::Ok();
}

std::string summary_text(const ReportContext& c, const JudgeCounters& k, double seconds,
                         int max_rows) {
  const Outcome& o = c.outcome;
  const Analysis& a = c.analysis;
  const meta::Separability& s = o.separability;
  const meta::BiasReport& b = a.bias;
  std::string out = option_title(c) + "\n";
  out += fmt::format("judge: {}\n", c.judge);
  if (c.max_response_tokens > 0)
    out += fmt::format("responses truncated to their first {} tokens before judging\n",
                       c.max_response_tokens);
  out += "- Separability Results:\n";
  if (std::isfinite(s.anova.omega2)) {
    out += fmt::format("  - Omega-Squared (ANOVA effect size): {:.4f} [95% CI {:.4f}, {:.4f}]\n",
                       s.anova.omega2, s.omega2_ci_low, s.omega2_ci_high);
    out += fmt::format("  - Mean Absolute Cliff's Delta: {:.4f} [95% CI {:.4f}, {:.4f}]\n",
                       s.cliff_delta, s.delta_ci_low, s.delta_ci_high);
    out += fmt::format(
        "  - Combined Separability Score: {:.2f} / 100.0 [95% CI {:.2f}, {:.2f}] (Formula: ((0.5 "
        "* omega^2 + 0.5 * d_cliff) / 0.75) * 100)\n",
        s.score, s.score_ci_low, s.score_ci_high);
  } else {
    out += "  - not computed (needs at least 2 tournaments)\n";
  }
  out += "- Symmetry & Bias Results:\n";
  out += fmt::format(
      "  - Positional Bias (Avg Assignment): Position 1 (A): {:.1f}% | Position 2 "
      "(B): {:.1f}%\n",
      100 * b.position1_mean_prob, 100 * b.position2_mean_prob);
  // A figure over no passes is undefined, not 0%: say why instead of printing a number.
  if (b.length_n > 0) {
    out += fmt::format("  - Length Bias (Longer Response Win Rate): {:.1f}%\n",
                       100 * b.longer_win_rate);
    out += fmt::format("  - Length Bias (Avg EV Margin for Longer): {:+.1f}%\n",
                       100 * b.longer_ev_margin);
  } else {
    out += fmt::format("  - Length Bias (Longer Response Win Rate): {}\n", kNoLengthVariation);
    out += fmt::format("  - Length Bias (Avg EV Margin for Longer): {}\n", kNoLengthVariation);
  }
  if (b.swap_pairs > 0)
    out += fmt::format("  - Swap-Flip Rate: {:.1f}% of {} judgments\n", 100 * b.swap_flip_rate,
                       b.swap_pairs);
  else
    out += "  - Swap-Flip Rate: n/a (no pair was judged in both orders)\n";
  out += fmt::format("{} Leaderboard\n",
                     o.cfg.option == Option::kA   ? "Option A: Prompt-Isolated Elo"
                     : o.cfg.option == Option::kB ? "Option B: Bootstrapped Tournament Elo"
                                                  : "Option global: Tournament Elo");
  meta::Table t({"Rank", "Model Name", rating_label(c), "LC rating"});
  size_t rows = a.rows.size();
  if (max_rows > 0 && rows > static_cast<size_t>(max_rows)) rows = max_rows;
  for (size_t r = 0; r < rows; ++r) {
    const LeaderboardRow& x = a.rows[r];
    std::string rating =
        o.cfg.option != Option::kB
            ? meta::fixed(x.rating, 1)
            : fmt::format("{} +- {}", meta::fixed(x.rating, 1), meta::fixed(x.sd, 1));
    t.add({std::to_string(r + 1), c.set.writers[x.writer], rating, lc_cell(a, x.lc)});
  }
  out += t.markdown();
  if (rows < a.rows.size())
    out += fmt::format("... {} more in leaderboard.md\n", a.rows.size() - rows);
  out += length_line(a) + "\n";
  if (c.board)
    out += fmt::format(
        "Kendall tau-b vs {}: {:.4f} (n={}, 95% CI [{:.3f}, {:.3f}]){}\n", c.board_path,
        c.board->kendall.r, c.board->kendall.n, c.board->kendall.ci_low, c.board->kendall.ci_high,
        c.board->not_on_leaderboard.empty()
            ? ""
            : fmt::format(", {} writer(s) not on it", c.board->not_on_leaderboard.size()));
  out += fmt::format("{} matches, {} distinct judgments", o.matches.size(), a.judgments);
  if (o.unplayable)
    out += fmt::format(", {} pairings without a common prompt skipped", o.unplayable);
  out += "\n";
  if (o.stopped_early > 0)
    out += fmt::format(
        "stopped early: {} of {} tournaments (ranking settled); {} of {} planned matches "
        "played, {} saved ({:.0f}%)\n",
        o.stopped_early, o.tournaments.size(), o.matches.size(), o.planned_matches,
        o.planned_matches - static_cast<int64_t>(o.matches.size()),
        o.planned_matches > 0
            ? 100.0 * (o.planned_matches - static_cast<double>(o.matches.size())) /
                  o.planned_matches
            : 0.0);
  if (k.new_judgments || k.stored_judgments || k.reused_judgments)
    out += fmt::format(
        "judgments: {} new, {} from the store, {} reused within the run; {:.1f} s ({:.1f} s "
        "judging)\n",
        k.new_judgments, k.stored_judgments, k.reused_judgments, seconds, k.judge_seconds);
  else
    out += fmt::format("{:.1f} s\n", seconds);
  if (a.no_verdict)
    out += fmt::format("{} judgment(s) gave no verdict and count as ties\n", a.no_verdict);
  return out;
}

}  // namespace gavel::tournament
