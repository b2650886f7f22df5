// `gavel rank <what>`: ratings from pairwise judgments (fit), tournaments over scored items
// with a stand-in judge (tournament: Swiss, Option A, Option B), and convergence curves of
// pairing schemes (curve). Each maps its flags to a rank::*ReportConfig and prints the report
// of rank/reports.h.
#include <memory>
#include <string>

#include "command.h"
#include "core/progress.h"
#include "rank/convergence.h"
#include "rank/reports.h"
#include "report_flags.h"

namespace {

namespace rank = gavel::rank;
namespace meta = gavel::meta;
using gavel::cli::fail;
using gavel::cli::print_report;

struct TournamentFlags {
  rank::TournamentReportConfig cfg;
  std::string mode = "swiss", rating = "elo";
};

int run_tournament(const TournamentFlags& f, const meta::ReportFormat& out) {
  rank::TournamentReportConfig cfg = f.cfg;
  auto mode = rank::parse_tournament_mode(f.mode);
  if (!mode.ok()) return fail("--mode " + mode.message());
  auto rating = rank::parse_rating_method(f.rating);
  if (!rating.ok()) return fail("--rating " + rating.message());
  cfg.mode = *mode;
  cfg.rating = *rating;
  return print_report(rank::tournament_report(cfg), out);
}

// Scored items judged by the score-difference stand-in judge.
void add_stand_in(CLI::App* s, meta::ItemFields& f, double& tau) {
  gavel::cli::add_item_fields(s, f);
  s->add_option("--tau", tau, "stand-in judge temperature: P = 1/(1+exp(-(s_a-s_b)/tau))");
}

gavel::cli::Runner setup(CLI::App& app) {
  app.require_subcommand(1);
  auto out = std::make_shared<meta::ReportFormat>();
  gavel::cli::Subcommands subs("rank");

  auto fit = std::make_shared<rank::FitReportConfig>();
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
  gavel::cli::add_report_flags(f, out);
  subs.add(f, [=] { return print_report(rank::fit_report(*fit), *out); });

  auto tour = std::make_shared<TournamentFlags>();
  rank::TournamentReportConfig& tc = tour->cfg;
  auto* t = app.add_subcommand("tournament",
                               "Swiss / Option A / Option B tournaments over scored "
                               "items with a score-difference stand-in judge");
  t->add_option("--in", tc.in, "JSONL of scored items")->required();
  add_stand_in(t, tc.fields, tc.tau);
  t->add_option("--length", tc.fields.length,
                "field: response text (its length) or a number, for length bias");
  t->add_option("--mode", tour->mode, "swiss | option-a | option-b");
  t->add_option("--rating", tour->rating, "elo | bt");
  t->add_option("--rounds", tc.rounds, "rounds per tournament (default swiss 20, A 5, B 20)");
  t->add_option("--iterations", tc.iterations, "option B bootstrap iterations");
  t->add_option("--ci-bootstrap", tc.ci_bootstrap, "separability CI resamples");
  t->add_flag("--both-orders", tc.both_orders, "judge every match in both orientations");
  t->add_flag("--until-stable", tc.until_stable,
              "end a tournament once the bootstrap rank intervals stop changing (--rounds: the "
              "cap)");
  t->add_option("--k", tc.elo.k, "Elo K");
  t->add_option("--initial", tc.elo.initial, "Elo start rating");
  t->add_option("--seed", tc.seed, "seed");
  t->add_option("--leaderboard", tc.leaderboard, "CSV leaderboard to compare with");
  t->add_option("--leaderboard-name", tc.leaderboard_name, "leaderboard column with the names");
  t->add_option("--leaderboard-value", tc.leaderboard_value, "leaderboard column with the ratings");
  gavel::cli::add_report_flags(t, out);
  subs.add(t, [=] { return run_tournament(*tour, *out); });

  auto cur = std::make_shared<rank::CurveReportConfig>();
  auto* c = app.add_subcommand("curve",
                               "Kendall tau to the full round-robin ranking vs number "
                               "of judgments, for random / Swiss / adaptive pairing");
  c->add_option("--in", cur->in, "JSONL of scored items (stand-in judge)");
  add_stand_in(c, cur->fields, cur->tau);
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
  c->add_option("--sim-length-spread", cur->sim_length_spread,
                "sd of ln length per writer and per writer x prompt");
  c->add_flag("--both-orders", cur->both_orders, "judge every match in both orientations");
  c->add_flag("--until-stable", cur->until_stable,
              "also run each scheme until its bootstrap rank intervals stop changing");
  auto schemes = std::make_shared<std::vector<std::string>>();
  c->add_option("--schemes", *schemes, "random swiss adaptive (default all)");
  c->add_flag("--balanced-prompts", cur->balanced_prompts,
              "draw each match's prompt among those its players were judged on least");
  c->add_flag("--own-rating", cur->own_rating,
              "read each scheme with its own rating (Swiss/random: sequential Elo, adaptive: "
              "Bradley-Terry) instead of a Bradley-Terry fit for all");
  auto quiet = std::make_shared<bool>(false);
  c->add_flag("--no-progress", *quiet, "do not print progress to stderr");
  gavel::cli::add_report_flags(c, out);
  subs.add(c, [=] {
    rank::CurveReportConfig cfg = *cur;
    for (const std::string& s : *schemes) {
      auto p = rank::parse_pairing(s);
      if (!p.ok()) return fail("--schemes: " + p.message());
      cfg.schemes.push_back(*p);
    }
    if (!*quiet) {
      auto line = std::make_shared<gavel::ProgressLine>(stderr, "curve");
      cfg.on_progress = [line](int64_t done, int64_t total) {
        line->update(done, total, done == total);
      };
    }
    return print_report(rank::curve_report(cfg), *out);
  });

  return subs.runner();
}

gavel::cli::Register reg{{"rank",
                          "rate systems from pairwise judgments, run tournaments "
                          "(Swiss, Option A/B) and pairing convergence curves",
                          setup}};

}  // namespace
