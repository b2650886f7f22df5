#include "rank/pairing.h"

#include <algorithm>
#include <cmath>
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

namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// P(the order of a pair is wrong) for a strength difference ~ N(mu, var).
double misorder(double mu, double var) {
  if (!(var > 0)) return 0.0;
  return normal_cdf(-std::fabs(mu) / std::sqrt(var));
}

// Gauss-Hermite nodes and weights for E[f(Z)], Z ~ N(0, 1) (7 points, exact to degree 13).
// Floor of the outcome dispersion. Soft outcomes fit the model far better than wins and losses
// (CW v3 stand-in and the simulated judges: 0.1-0.15), but an estimate from a few rounds is
// noisy, and a low one declares pairs settled too early; 0.2 did better than 0.02 and 0.5 on
// the curves in docs/stats.md (chosen on those runs).
constexpr double kMinDispersion = 0.2;
// A pair whose misorder probability is below this is settled: no match is spent on it.
constexpr double kSettled = 1e-4;

constexpr double kGhNode[7] = {-3.7504397177257425, -2.3667594107345415, -1.1544053947399682, 0.0,
                               1.1544053947399682,  2.3667594107345415,  3.7504397177257425};
constexpr double kGhWeight[7] = {0.0005482688559722184, 0.030757123967586,  0.2401231786050127,
                                 0.45714285714285713,   0.2401231786050127, 0.030757123967586,
                                 0.0005482688559722184};

// Expected misorder after an observation that moves the posterior mean of the difference by
// N(0, shrink) and leaves variance var - shrink (the preposterior of a Gaussian update).
double expected_misorder_after(double mu, double var, double shrink) {
  double post = var - shrink;
  if (!(post > 0)) return 0.0;
  double sd = std::sqrt(std::max(0.0, shrink)), e = 0;
  for (int k = 0; k < 7; ++k) e += kGhWeight[k] * misorder(mu + sd * kGhNode[k], post);
  return e;
}

}  // namespace

Result<std::vector<Pair>> adaptive_round(PairingState& st, std::mt19937_64& rng,
                                         const BtConfig& bt) {
  const int n = st.n_players;
  if (st.outcomes.empty()) return random_round(st, rng);  // nothing known: everyone plays once
  // The pairing's own model: Bradley-Terry MAP with a weakly informative prior (strengths
  // within a few logits), and its Laplace covariance.
  BtConfig model = bt;
  model.alpha = std::max(bt.alpha, kAdaptivePrior);
  model.tol = std::max(bt.tol, 1e-8);
  GAVEL_ASSIGN(auto fit, bradley_terry(n, st.outcomes, model));
  GAVEL_ASSIGN(std::vector<double> cov, bt_covariance(n, st.outcomes, fit.theta, model.alpha));
  // Soft outcomes (probabilities, not wins) vary far less than Bernoulli outcomes: scale the
  // covariance, and the information a new match brings, by the dispersion of the outcomes
  // around the fit (quasi-likelihood; 1 for win/loss data), degrees of freedom corrected.
  double rss = 0, var = 0;
  for (const Outcome& o : st.outcomes) {
    double p = 1 / (1 + std::exp(fit.theta[o.b] - fit.theta[o.a]));
    rss += o.weight * (o.score - p) * (o.score - p);
    var += o.weight * p * (1 - p);
  }
  const double m = static_cast<double>(st.outcomes.size());
  double dispersion = 1.0;
  if (m > n && var > 0) dispersion = std::clamp(rss / var * m / (m - (n - 1)), kMinDispersion, 1.0);
  for (double& c : cov) c *= dispersion;
  auto C = [&](int i, int j) -> double& { return cov[static_cast<size_t>(i) * n + j]; };
  const std::vector<double>& mu = fit.theta;
  // Greedy batch: each pick is the match whose outcome is expected to remove the most
  // probability of misordered pairs among the pairs it touches; the covariance is then updated
  // as if it had been observed (the update does not depend on the outcome), so the next pick
  // accounts for it. Each player plays at most once a round (odd fields and settled pairs
  // leave some out), so a round is one batch of distinct writers, as in Swiss.
  const int picks = n / 2;
  std::vector<bool> busy(n, false);  // one match per player per round, like a Swiss round
  std::vector<Pair> out;
  std::vector<double> u(n);
  std::uniform_real_distribution<double> jitter(0.0, 1e-12);
  for (int k = 0; k < picks; ++k) {
    double best = -1;
    int bi = -1, bj = -1;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) {
        if (busy[i] || busy[j]) continue;
        double var_ij = C(i, i) + C(j, j) - 2 * C(i, j);
        double d = mu[i] - mu[j];
        if (misorder(d, var_ij) < kSettled) continue;  // settled: no match can matter
        double p = 1 / (1 + std::exp(-d));
        double info = p * (1 - p) / dispersion;
        for (int l = 0; l < n; ++l) u[l] = C(l, i) - C(l, j);  // cov x, x = e_i - e_j
        double c = info / (1 + info * (u[i] - u[j]));
        double gain = 0;
        // Pairs (a, l) for a in {i, j}: their difference's variance shrinks by c w^2.
        for (int a : {i, j})
          for (int l = 0; l < n; ++l) {
            if (l == a || (a == j && l == i)) continue;
            double m = mu[a] - mu[l];
            double var = C(a, a) + C(l, l) - 2 * C(a, l);
            double w = u[a] - u[l];
            double shrink = c * w * w;
            gain += misorder(m, var) - expected_misorder_after(m, var, shrink);
          }
        gain += jitter(rng);
        if (gain > best) best = gain, bi = i, bj = j;
      }
    if (bi < 0) break;  // every pair settled
    busy[bi] = busy[bj] = true;
    for (int l = 0; l < n; ++l) u[l] = C(l, bi) - C(l, bj);
    double d = mu[bi] - mu[bj], p = 1 / (1 + std::exp(-d)), info = p * (1 - p) / dispersion;
    double c = info / (1 + info * (u[bi] - u[bj]));
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b) C(a, b) -= c * u[a] * u[b];
    out.push_back((rng() & 1) ? Pair{bi, bj} : Pair{bj, bi});
  }
  return out;
}

}  // namespace gavel::rank
