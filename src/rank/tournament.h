// Tournament driver: pairs players round by round, asks a judge callback for each match's
// outcome and turns the answers into ratings. The judge is anything that can say how likely
// the text in position 1 is the better one: cached judgments, a simulated judge
// (rank/judges.h) or a live judge model (src/tournament). Typical use:
//
//   rank::TournamentConfig cfg;            // Swiss, 5 rounds, Elo K=32 from 1500
//   cfg.prompts = {3};                     // every match judged on prompt 3
//   auto res = rank::run_tournament(n_writers, cfg, [&](const rank::Match& m) -> Result<double> {
//     return my_judge.prob_first_better(m.a, m.b, m.prompt);  // P(a better than b) in [0,1]
//   });
//
// Option A / Option B of the model card are built on the same driver (option_a, option_b).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "gavel/status.h"
#include "meta/separability.h"
#include "rank/elo.h"

namespace gavel::rank {

// One question to the judge: is the response of player `a` (shown in position 1 / "A")
// better than player `b`'s (position 2 / "B") on `prompt` (-1 when no prompt applies)?
struct Match {
  int a = 0, b = 0;
  int prompt = -1;
  int round = 0;
  int tournament = 0;  // option A: the prompt's tournament; option B: the iteration
};

// Returns P(a better than b) in [0, 1]; an error aborts the tournament and is passed up.
using Judge = std::function<Result<double>(const Match&)>;
// The same for a whole round at once (a judge model batches its requests): one answer per
// match, in order.
using RoundJudge = std::function<Result<std::vector<double>>(std::span<const Match>)>;
RoundJudge per_match(Judge judge);

// Which prompts a player can be judged on (a writer may lack a response); empty = all.
using HasPrompt = std::function<bool(int player, int prompt)>;

enum class Pairing { kSwiss, kRoundRobin, kRandom, kAdaptive };
enum class RatingMethod { kElo, kBradleyTerry };
// How a match's prompt is drawn from cfg.prompts: uniformly (the model card), or balanced: among
// the prompts the two players have been judged on least, so each player's matches spread over
// the prompts (a draw without replacement per player) and prompt luck averages out sooner.
enum class PromptDraw { kUniform, kBalanced };

struct JudgedMatch {
  Match match;
  double p = 0.5;          // the judge's answer for this orientation
  long long pair_id = -1;  // shared by the two orientations when both_orders is on
};

struct TournamentResult;

// --until-stable: from `min_rounds` on, after each round, refit Bradley-Terry on `bootstrap`
// resamples of the outcomes so far and take every player's rank interval (central `level`).
// The ranking counts as settled when the interval ends moved by at most `tolerance` ranks on
// average since the previous round; the tournament stops after `patience` settled rounds in a
// row. `rounds` stays the cap. (Exact equality never comes: resampling alone moves an end now
// and then.)
struct StopRule {
  bool until_stable = false;
  int min_rounds = 4;
  int patience = 2;
  int bootstrap = 200;
  double level = 0.9;
  double tolerance = 0.5;
};

struct TournamentConfig {
  Pairing pairing = Pairing::kSwiss;
  int rounds = 5;            // Swiss/random/adaptive rounds; round robin: full cycles
  bool both_orders = false;  // ask (a,b) and (b,a); the outcome is (p_ab + 1 - p_ba) / 2
  std::vector<int> prompts;  // each match draws one prompt from these (empty: -1)
  PromptDraw prompt_draw = PromptDraw::kUniform;
  int prompts_per_match = 1;  // judge each pairing on this many drawn prompts
  RatingMethod rating = RatingMethod::kElo;
  EloConfig elo;
  BtConfig bt;
  uint64_t seed = 1;
  // A match is drawn among the prompts both players have; a pair with none in cfg.prompts
  // does not play that round (counted in TournamentResult::unplayable).
  HasPrompt has_prompt;
  int tournament = 0;  // copied into every Match
  StopRule stop;
  // Called after each round with the state so far (for convergence curves); may be empty.
  std::function<void(int round, const TournamentResult&)> on_round;
};

struct TournamentResult {
  std::vector<double> rating;     // by cfg.rating
  std::vector<double> elo;        // sequential Elo over the matches in play order
  std::vector<Outcome> outcomes;  // one per pairing (orientations averaged), play order
  std::vector<JudgedMatch> log;   // every judge call
  int rounds_played = 0;
  int unplayable = 0;  // pairings skipped for want of a common prompt
  // The stop rule ended it before cfg.rounds, or adaptive pairing found every pair settled.
  bool stopped_early = false;
  std::vector<double> interval_change;  // stop rule: mean move of the rank-interval ends per round
  int tournament = 0;                   // cfg.tournament
};

// The rating a pairing's tournaments are read with by default: sequential Elo for Swiss,
// random and round robin (the model card), Bradley-Terry for adaptive pairing (its matches are
// chosen from a BT model and a player may play several times a round, which sequential Elo
// would weigh by order).
RatingMethod default_rating(Pairing p);

// Rank intervals (1 = best) of each player from `bootstrap` resampled BT fits (seeded).
Result<std::vector<std::pair<int, int>>> rank_intervals(int n_players,
                                                        const std::vector<Outcome>& outcomes,
                                                        const BtConfig& bt, int bootstrap,
                                                        double level, uint64_t seed);

Result<TournamentResult> run_tournament(int n_players, const TournamentConfig& cfg,
                                        const Judge& judge);
Result<TournamentResult> run_tournament(int n_players, const TournamentConfig& cfg,
                                        const RoundJudge& judge);

// Option A and B call cfg.on_round after every round of each of their tournaments with the
// result's `tournament`, `rounds_played`, `rating` and `elo` in the writers' indices (NaN for a
// writer not in that tournament); its other fields are left empty.
//
// Option A: an isolated tournament per prompt; ratings[w][p] is writer w's rating in the
// tournament of prompt p. Separability over those per-prompt distributions, CI by resampling
// prompts. With cfg.has_prompt, a prompt's tournament has only the writers that have it; the
// others get NaN there and the mean / sd / separability use the prompts a writer has.
struct OptionAResult {
  std::vector<std::vector<double>> ratings;  // [writer][prompt], NaN = not in that tournament
  std::vector<double> mean, sd;
  meta::Separability separability;
  std::vector<JudgedMatch> log;  // all prompts' judge calls
  int stopped_early = 0;         // tournaments the stop rule (or a settled ranking) ended early
};
Result<OptionAResult> option_a(int n_writers, int n_prompts, const TournamentConfig& cfg,
                               const Judge& judge, int ci_bootstrap = 1000);
Result<OptionAResult> option_a(int n_writers, int n_prompts, const TournamentConfig& cfg,
                               const RoundJudge& judge, int ci_bootstrap = 1000);

// Option B: `iterations` times, draw n_prompts prompts with replacement and run one global
// tournament over them; ratings[w][i] is writer w's rating in iteration i. mean +- sd per
// writer; separability treats iterations as the resampling unit.
struct OptionBResult {
  std::vector<std::vector<double>> ratings;  // [writer][iteration]
  std::vector<double> mean, sd;
  meta::Separability separability;
  std::vector<JudgedMatch> log;
  std::vector<std::vector<int>> samples;  // the prompts drawn for each iteration
  int unplayable = 0;                     // pairings without a common prompt in the sample
  int stopped_early = 0;                  // tournaments ended before cfg.rounds
};
Result<OptionBResult> option_b(int n_writers, int n_prompts, int iterations,
                               const TournamentConfig& cfg, const Judge& judge,
                               int ci_bootstrap = 1000);
Result<OptionBResult> option_b(int n_writers, int n_prompts, int iterations,
                               const TournamentConfig& cfg, const RoundJudge& judge,
                               int ci_bootstrap = 1000);

}  // namespace gavel::rank
