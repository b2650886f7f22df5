// `gavel tournament` and the server's tournament jobs: the model card's section-4 tournaments
// with a judge deciding every match. Option A: one isolated tournament per prompt (Swiss, 5
// rounds by default) -> per-prompt Elo of every writer -> separability across prompts. Option
// B: `iterations` bootstrap draws of the prompts, one global tournament (20 rounds) each ->
// mean +- sd per writer. Option global: one tournament over all the prompts (5 rounds), what
// B resamples: one rating per writer, no separability. The pairing, the Elo updates and the
// options themselves are rank::run_tournament / option_a / option_b; this layer feeds them a
// MatchJudge, keeps every match's details and derives the figures.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gavel/status.h"
#include "meta/judge_metrics.h"
#include "meta/separability.h"
#include "rank/elo.h"
#include "rank/tournament.h"
#include "tournament/match_judge.h"
#include "tournament/responses.h"

namespace gavel::tournament {

enum class Option { kA, kB, kGlobal };
Result<Option> parse_option(std::string_view s);  // "A", "B" or "global"
std::string_view name(Option o);                  // "A", "B", "global"

struct Config {
  Option option = Option::kA;
  rank::Pairing pairing = rank::Pairing::kSwiss;
  // Adaptive pairing reads each tournament with Bradley-Terry instead of sequential Elo
  // (rank::default_rating).
  int rounds = 0;  // per tournament; 0 = the option's default (A: 5, B: 20, global: 5)
  // Matches per pairing, each on its own drawn prompt; the pairing's outcome is their mean.
  int prompts_per_match = 1;
  int iterations = 10;  // option B: bootstrap draws of the prompts
  uint64_t seed = 1;
  IterationChoice iteration_choice = IterationChoice::kFirst;
  int ci_bootstrap = 1000;  // separability CI resamples
  int bt_bootstrap = 0;     // Bradley-Terry percentile CI resamples in analyze (0 = none)
  rank::EloConfig elo;
  rank::BtConfig bt;
  rank::StopRule stop;  // --until-stable (adaptive pairing)
  // Called after every round with the matches played so far.
  std::function<void(int64_t matches_done)> on_round;
};

int default_rounds(Option o);
// Matches the configuration plays (an upper bound when the stop rule may end tournaments
// early): option A, sum over prompts of rounds x pairs per round of that prompt's field;
// option B, iterations x rounds x pairs per round; global, rounds x pairs per round; each
// times prompts_per_match.
int64_t planned_matches(const ResponseSet& set, const Config& cfg);

struct PlayedMatch {
  MatchSpec spec;
  MatchResult result;
};

struct TournamentInfo {
  int id = 0;
  std::vector<int> prompts;  // option A: its prompt; option B: the bootstrap draw
  std::vector<int> writers;  // who played (option A: the writers that have the prompt)
};

// A tournament's ratings after one of its rounds (by the pairing's rating, rank::default_rating).
struct RoundRatings {
  int tournament = 0, round = 0;
  std::vector<double> rating;  // [writer], NaN: not in this tournament
};

struct Outcome {
  Config cfg;                        // as run (rounds resolved)
  std::vector<PlayedMatch> matches;  // in play order
  std::vector<TournamentInfo> tournaments;
  std::vector<std::vector<double>> ratings;  // [writer][tournament] Elo (NaN: not in it)
  std::vector<double> mean, sd;              // per writer over its tournaments
  meta::Separability separability;
  int unplayable = 0;  // pairings skipped for want of a common prompt (option B)
  // Matches the fixed rounds would have played (planned_matches), and the tournaments that
  // --until-stable or a settled adaptive ranking ended early: planned - played were saved.
  int64_t planned_matches = 0;
  int stopped_early = 0;
  std::vector<RoundRatings> round_ratings;  // every tournament's rounds, in play order
};

Result<Outcome> run(const ResponseSet& set, MatchJudge& judge, const Config& cfg);

// Ratings over rounds: [round][writer], the writer's mean rating after that round over the
// tournaments that played it (NaN: none). For option global, the one tournament's ratings.
std::vector<std::vector<double>> ratings_by_round(const Outcome& out, int n_writers);

// ---- figures derived from the matches ----

struct LeaderboardRow {
  int writer = 0;
  double rating = 0, sd = 0;  // Elo mean and sd over tournaments
  int tournaments = 0, matches = 0;
  double bt = 0, bt_se = 0;              // Bradley-Terry over the distinct judgments, Elo scale
  double lc = 0, lc_se = 0;              // the same with the length covariate (length-controlled)
  double bt_ci_low = 0, bt_ci_high = 0;  // percentile CI of bt (Config::bt_bootstrap; else NaN)
};

struct Analysis {
  std::vector<LeaderboardRow> rows;  // best first
  int judgments = 0;                 // distinct judgments (by store key) behind the BT fits
  double length_beta = 0, length_beta_se = 0;  // log-odds per unit of (la-lb)/(la+lb)
  bool length_fitted = false;                  // false: see length_error
  std::string length_error;  // why the length-controlled fit failed (no length variation...)
  std::string length_unit;   // "tokens" (judge model's) or "chars"
  meta::BiasReport bias;     // over the distinct judgments' passes
  int no_verdict = 0;
  // Writer x prompt: the writer's mean P(win) over its matches on the prompt that had a
  // verdict, in every match played (rematches count again); NaN: no such match.
  std::vector<std::vector<double>> prompt_win;
};

Result<Analysis> analyze(const ResponseSet& set, TextBook& texts, const Outcome& out);

}  // namespace gavel::tournament
