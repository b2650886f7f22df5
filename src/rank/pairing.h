// Who meets whom next: round robin, Swiss (by current rating, rematches avoided, byes),
// random, and adaptive (most informative pairs under the current Bradley-Terry fit).
#pragma once

#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "rank/elo.h"

namespace gavel::rank {

using Pair = std::pair<int, int>;  // (position 1, position 2)

// The adaptive pairing's prior: alpha |theta|^2 with alpha = 0.05 puts strengths within a few
// logits (sd 3.2) until the judgments say otherwise.
inline constexpr double kAdaptivePrior = 0.05;

// Every unordered pair once, orientation alternating so each player sits first about half
// the time.
std::vector<Pair> round_robin_pairs(int n_players);

struct PairingState {
  int n_players = 0;
  std::vector<double> rating;     // current ratings (higher = stronger)
  std::set<Pair> played;          // unordered pairs already met, stored (min, max)
  std::vector<int> byes;          // byes received per player
  std::vector<Outcome> outcomes;  // everything judged so far (adaptive refits on it)
};

// Swiss round: players sorted by rating (ties by index), each takes the highest-rated
// opponent below it it has not met; if all remaining were met, the nearest one (rematch).
// With an odd field the lowest-rated player with the fewest byes sits out (bye).
std::vector<Pair> swiss_round(PairingState& st, std::mt19937_64& rng);
// Random perfect matching (odd field: a random bye).
std::vector<Pair> random_round(PairingState& st, std::mt19937_64& rng);
// Adaptive round: n/2 matches chosen for what they are expected to settle about the ranking.
// Under the Laplace approximation of a Bradley-Terry fit (prior alpha >= kAdaptivePrior), a
// match (i, j) observed with Fisher information p(1-p) shrinks the variance of every strength
// difference; the gain of a candidate is the expected drop, over its outcome, of the
// probability that the pairs it touches ((i, l) and (j, l) for all l) are misordered. Picks are
// greedy with the covariance updated after each, so a round spreads over the open questions;
// each player plays at most once a round, and settled pairs (misorder < 1e-4) are skipped, so
// a round may have fewer than n/2 matches (none: the ranking is settled). The covariance is
// scaled by the outcomes' dispersion around the fit (soft outcomes vary less than wins),
// floored at 0.2. The first round (no outcomes) is a random matching.
Result<std::vector<Pair>> adaptive_round(PairingState& st, std::mt19937_64& rng,
                                         const BtConfig& bt);

}  // namespace gavel::rank
