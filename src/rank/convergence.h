// How fast a pairing scheme reaches the full round-robin ranking: Kendall tau-b between the
// Bradley-Terry ratings fitted on the judgments so far and the Bradley-Terry ratings of the
// full round robin (every pair on every prompt), after each round.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "rank/tournament.h"

namespace gavel::rank {

struct CurvePoint {
  std::string scheme;    // "random", "swiss", "adaptive"
  int round = 0;         // 1-based
  double judgments = 0;  // mean judge calls so far (over seeds)
  double tau = 0;        // mean Kendall tau-b to the reference (over seeds)
  double tau_min = 0;    // worst seed
};

// Where --until-stable ended the tournaments of a scheme (means over seeds).
struct StopPoint {
  std::string scheme;
  double rounds = 0, judgments = 0, tau = 0, tau_min = 0;
};

struct CurveConfig {
  int rounds = 20;
  int seeds = 5;
  uint64_t seed = 1;
  BtConfig bt;
  std::vector<Pairing> schemes = {Pairing::kRandom, Pairing::kSwiss, Pairing::kAdaptive};
  // Called after the reference fit and after every round of every tournament: steps done of
  // 1 + schemes x seeds x rounds.
  std::function<void(int64_t done, int64_t total)> on_progress;
  bool both_orders = false;  // judge each match in both orientations (one judgment, two calls)
  PromptDraw prompt_draw = PromptDraw::kUniform;
  // false: every scheme ranked by a Bradley-Terry fit of its outcomes (like for like); true:
  // by its own rating (default_rating: Swiss/random sequential Elo as the card, adaptive BT).
  bool own_rating = false;
  StopRule stop;  // with until_stable: also run each scheme to its stop (stops)
};

struct Curve {
  std::vector<double> reference;  // BT ratings of the full round robin
  int reference_judgments = 0;
  std::vector<CurvePoint> points;  // judgments = matches (a match in both orders is one)
  std::vector<StopPoint> stops;    // cfg.stop.until_stable only
};

// n_prompts = 0: the judge is asked with prompt -1.
Result<Curve> convergence_curve(int n_players, int n_prompts, const Judge& judge,
                                const CurveConfig& cfg);

const char* pairing_name(Pairing p);
// "swiss" | "round-robin" | "random" | "adaptive" (kInvalidArgument otherwise, naming them).
Result<Pairing> parse_pairing(std::string_view name);

}  // namespace gavel::rank
