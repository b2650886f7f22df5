// gavel's public tournament API: pair players round by round (Swiss, round robin, random or
// adaptive), ask a judge callback how likely the player in position 1 is the better one, and
// rate the players (sequential Elo or Bradley-Terry). The callback is anything that answers
// P(a better than b): a judge model through gavel::Judge, cached judgments, a simulation.
//
//   gavel::TournamentOptions o;                 // Swiss, 5 rounds, Elo
//   auto r = gavel::run_tournament(8, o, [&](const gavel::TournamentMatch& m) ->
//   gavel::Result<double> {
//     auto j = judge->pairwise({instruction, response[m.a], response[m.b]});
//     if (!j.ok()) return j.status();
//     return j->p_text1;
//   });
//
// Conventions (as gavel/judge.h): errors are values; results are plain structs.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "gavel/status.h"

namespace gavel {

// One question to the judge: is player `a` (position 1 / "A") better than player `b` on
// `prompt` (-1 when no prompt applies)? `round` is 1-based.
struct TournamentMatch {
  int a = 0, b = 0;
  int prompt = -1;
  int round = 0;
};

// Returns P(a better than b) in [0, 1]; an error stops the tournament and is returned by it.
using MatchJudge = std::function<Result<double>(const TournamentMatch&)>;

struct TournamentOptions {
  std::string pairing = "swiss";  // "swiss" | "round-robin" | "random" | "adaptive"
  int rounds = 5;                 // rounds (round robin: full cycles), >= 1
  bool both_orders = false;       // ask (a,b) and (b,a); the outcome is (p_ab + 1 - p_ba) / 2
  std::vector<int> prompts;       // each match draws one of these (empty: prompt -1)
  int prompts_per_match = 1;      // judge each pairing on this many drawn prompts
  std::string rating = "elo";     // "elo" (sequential, in play order) | "bt" (Bradley-Terry)
  double elo_k = 32, elo_initial = 1500, elo_scale = 400;
  double bt_alpha = 1e-4;   // Bradley-Terry Gaussian prior (choix's alpha)
  double bt_anchor = 1500;  // Elo-scale mean of the Bradley-Terry ratings
  uint64_t seed = 1;        // pairing and prompt draws
  // Adaptive stopping (`gavel tournament --until-stable`): after each round, refit
  // Bradley-Terry on bootstrap resamples of the outcomes and stop once every player's rank
  // interval has stopped moving (the rule and its parameters: rank::StopRule, described in
  // docs/tournament.md). `rounds` stays the cap. Adaptive pairing also stops, with or without
  // this, once every pair is settled.
  bool until_stable = false;
};

struct TournamentJudgment {
  TournamentMatch match;
  double p = 0.5;        // the judge's answer for this orientation
  int64_t pair_id = -1;  // shared by the two orientations with both_orders
};

struct TournamentOutcome {
  int a = 0, b = 0;
  double score = 0.5;  // how much a beat b (orientations averaged)
};

struct TournamentResult {
  std::vector<double> rating;                 // per player, by options.rating
  std::vector<double> elo;                    // sequential Elo over the matches in play order
  std::vector<TournamentOutcome> outcomes;    // one per pairing, play order
  std::vector<TournamentJudgment> judgments;  // every judge call, in order
  int rounds_played = 0;
  // Ended before options.rounds: by until_stable, or adaptive pairing found every pair settled.
  bool stopped_early = false;
  // until_stable: the mean move of the rank-interval ends after each round it was checked.
  std::vector<double> interval_change;
};

// Fails on a bad option, fewer than two players, or the first error the judge returns.
Result<TournamentResult> run_tournament(int n_players, const TournamentOptions& options,
                                        const MatchJudge& judge);

// Bradley-Terry ratings (Elo scale) from pairwise outcomes, as `gavel rank fit` fits them.
struct RatingsResult {
  std::vector<double> rating;     // Elo scale, mean = anchor
  std::vector<double> theta;      // natural-log strengths, mean 0
  std::vector<double> std_error;  // Elo-scale standard errors
  int iterations = 0;
};
Result<RatingsResult> bradley_terry(int n_players, std::span<const TournamentOutcome> outcomes,
                                    double alpha = 1e-4, double anchor = 1500);

}  // namespace gavel
