// How fast a pairing scheme reaches the full round-robin ranking: Kendall tau-b between the
// Bradley-Terry ratings fitted on the judgments so far and the Bradley-Terry ratings of the
// full round robin (every pair on every prompt), after each round.
#pragma once

#include <cstdint>
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

struct CurveConfig {
  int rounds = 20;
  int seeds = 5;
  uint64_t seed = 1;
  BtConfig bt;
  std::vector<Pairing> schemes = {Pairing::kRandom, Pairing::kSwiss, Pairing::kAdaptive};
};

struct Curve {
  std::vector<double> reference;  // BT ratings of the full round robin
  int reference_judgments = 0;
  std::vector<CurvePoint> points;
};

// n_prompts = 0: the judge is asked with prompt -1.
Result<Curve> convergence_curve(int n_players, int n_prompts, const Judge& judge,
                                const CurveConfig& cfg);

const char* pairing_name(Pairing p);
// The pairing a name gives ("swiss", "round-robin", "random", "adaptive"); an error lists them.
Result<Pairing> parse_pairing(std::string_view name);

}  // namespace gavel::rank
