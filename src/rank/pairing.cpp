#include "rank/pairing.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace gavel::rank {

namespace {

Pair key(int a, int b) { return {std::min(a, b), std::max(a, b)}; }

// Chooses the bye for an odd field among `order` (strongest first) and removes it.
void take_bye(PairingState& st, std::vector<int>& order) {
  if (order.size() % 2 == 0) return;
  if (st.byes.size() != static_cast<size_t>(st.n_players)) st.byes.assign(st.n_players, 0);
  int best = -1;
  for (int i = static_cast<int>(order.size()) - 1; i >= 0; --i)
    if (best < 0 || st.byes[order[i]] < st.byes[order[best]]) best = i;
  ++st.byes[order[best]];
  order.erase(order.begin() + best);
}

}  // namespace

std::vector<Pair> round_robin_pairs(int n_players) {
  std::vector<Pair> out;
  for (int i = 0; i < n_players; ++i)
    for (int j = i + 1; j < n_players; ++j) out.push_back((i + j) % 2 ? Pair{i, j} : Pair{j, i});
  return out;
}

std::vector<Pair> swiss_round(PairingState& st, std::mt19937_64& rng) {
  std::vector<int> order(st.n_players);
  std::iota(order.begin(), order.end(), 0);
  // Shuffle first so equal ratings (round 1) meet random opponents, then a stable sort.
  std::shuffle(order.begin(), order.end(), rng);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return st.rating[a] > st.rating[b]; });
  take_bye(st, order);
  // Depth-first: the strongest unpaired player takes the nearest-rated opponent it has not
  // met; backtrack when someone is left without a fresh opponent. A step budget bounds the
  // search; past it (or when no rematch-free pairing exists) fall back to greedy with rematches.
  const size_t m = order.size();
  std::vector<bool> used(m, false);
  std::vector<size_t> partner(m, m);
  long budget = 200000;
  std::function<bool(size_t)> solve = [&](size_t i) -> bool {
    while (i < m && used[i]) ++i;
    if (i == m) return true;
    used[i] = true;
    for (size_t j = i + 1; j < m; ++j) {
      if (used[j] || st.played.count(key(order[i], order[j]))) continue;
      if (--budget < 0) break;
      used[j] = true;
      partner[i] = j;
      if (solve(i + 1)) return true;
      used[j] = false;
    }
    used[i] = false;
    return false;
  };
  if (!solve(0)) {
    std::fill(used.begin(), used.end(), false);
    std::fill(partner.begin(), partner.end(), m);
    for (size_t i = 0; i < m; ++i) {
      if (used[i]) continue;
      size_t pick = m;
      for (size_t j = i + 1; j < m && pick == m; ++j)
        if (!used[j] && !st.played.count(key(order[i], order[j]))) pick = j;
      for (size_t j = i + 1; j < m && pick == m; ++j)
        if (!used[j]) pick = j;
      if (pick == m) break;
      used[i] = used[pick] = true;
      partner[i] = pick;
    }
  }
  std::vector<Pair> out;
  std::vector<bool> taken(m, false);
  for (size_t i = 0; i < m; ++i) {
    if (taken[i] || partner[i] == m) continue;
    size_t j = partner[i];
    taken[i] = taken[j] = true;
    // Alternate who sits in position 1 so position bias averages out over a tournament.
    out.push_back((rng() & 1) ? Pair{order[i], order[j]} : Pair{order[j], order[i]});
  }
  return out;
}

std::vector<Pair> random_round(PairingState& st, std::mt19937_64& rng) {
  std::vector<int> order(st.n_players);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  take_bye(st, order);
  std::vector<Pair> out;
  for (size_t i = 0; i + 1 < order.size(); i += 2) out.push_back({order[i], order[i + 1]});
  return out;
}

Result<std::vector<Pair>> adaptive_round(PairingState& st, std::mt19937_64& rng,
                                         const BtConfig& bt) {
  const int n = st.n_players;
  BtConfig quick = bt;
  quick.tol = std::max(bt.tol, 1e-8);
  GAVEL_ASSIGN(auto fit, bradley_terry(n, st.outcomes, quick));
  struct Cand {
    double score;
    int a, b;
  };
  std::vector<Cand> cands;
  std::uniform_real_distribution<double> jitter(0.0, 1e-9);  // random tie-breaks
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b) {
      double d = fit.theta[a] - fit.theta[b];
      double p = 1 / (1 + std::exp(-d));
      double info =
          p * (1 - p) * (fit.std_error[a] * fit.std_error[a] + fit.std_error[b] * fit.std_error[b]);
      if (st.played.count(key(a, b))) info *= 1e-3;  // rematches only when nothing else is left
      cands.push_back({info + jitter(rng), a, b});
    }
  std::sort(cands.begin(), cands.end(),
            [](const Cand& x, const Cand& y) { return x.score > y.score; });
  std::vector<bool> used(n, false);
  std::vector<Pair> out;
  for (const Cand& c : cands) {
    if (used[c.a] || used[c.b]) continue;
    used[c.a] = used[c.b] = true;
    out.push_back((rng() & 1) ? Pair{c.a, c.b} : Pair{c.b, c.a});
  }
  return out;
}

}  // namespace gavel::rank
