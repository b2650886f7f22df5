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
// Adaptive round: fits Bradley-Terry on the outcomes so far and greedily matches the pairs
// with the largest expected information p(1-p)(se_a^2 + se_b^2), preferring pairs not yet met.
Result<std::vector<Pair>> adaptive_round(PairingState& st, std::mt19937_64& rng,
                                         const BtConfig& bt);

}  // namespace gavel::rank
