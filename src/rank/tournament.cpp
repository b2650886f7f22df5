#include "rank/tournament.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "meta/summary.h"
#include "rank/pairing.h"

namespace gavel::rank {

namespace {

Result<double> ask(const Judge& judge, const Match& m) {
  auto r = judge(m);
  if (!r.ok()) return r;
  double p = *r;
  if (!(p >= 0 && p <= 1))
    return Error{fmt::format("judge answered {} for players {} vs {} (prompt {}): not in [0,1]", p,
                             m.a, m.b, m.prompt)};
  return p;
}

// Seeds for sub-tournaments: distinct, reproducible streams from one seed.
uint64_t mix(uint64_t seed, uint64_t i) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (i + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Result<TournamentResult> run_tournament(int n_players, const TournamentConfig& cfg,
                                        const Judge& judge) {
  if (n_players < 2) return Error{fmt::format("tournament: needs >= 2 players, got {}", n_players)};
  if (cfg.rounds < 1)
    return Error{fmt::format("tournament: rounds must be >= 1, got {}", cfg.rounds)};
  if (cfg.prompts_per_match < 1) return Error{"tournament: prompts_per_match must be >= 1"};
  if (!judge) return Error{"tournament: no judge"};
  GAVEL_TRY(check_elo(cfg.elo));
  std::mt19937_64 rng(cfg.seed);
  TournamentResult res;
  res.elo.assign(n_players, cfg.elo.initial);
  PairingState st;
  st.n_players = n_players;
  st.byes.assign(n_players, 0);
  long long next_pair = 0;
  auto draw_prompt = [&]() -> int {
    if (cfg.prompts.empty()) return -1;
    std::uniform_int_distribution<size_t> pick(0, cfg.prompts.size() - 1);
    return cfg.prompts[pick(rng)];
  };
  const std::vector<Pair> all_pairs =
      cfg.pairing == Pairing::kRoundRobin ? round_robin_pairs(n_players) : std::vector<Pair>{};
  for (int round = 0; round < cfg.rounds; ++round) {
    std::vector<Pair> pairs;
    st.rating = res.elo;
    switch (cfg.pairing) {
      case Pairing::kSwiss:
        pairs = swiss_round(st, rng);
        break;
      case Pairing::kRandom:
        pairs = random_round(st, rng);
        break;
      case Pairing::kRoundRobin:
        pairs = all_pairs;
        break;
      case Pairing::kAdaptive: {
        GAVEL_ASSIGN(pairs, adaptive_round(st, rng, cfg.bt));
        break;
      }
    }
    for (const Pair& pr : pairs) {
      double sum = 0;
      for (int k = 0; k < cfg.prompts_per_match; ++k) {
        Match m{pr.first, pr.second, draw_prompt(), round};
        GAVEL_ASSIGN(double p, ask(judge, m));
        double s = p;
        if (cfg.both_orders) {
          Match swapped{pr.second, pr.first, m.prompt, round};
          GAVEL_ASSIGN(double q, ask(judge, swapped));
          res.log.push_back({m, p, next_pair});
          res.log.push_back({swapped, q, next_pair});
          ++next_pair;
          s = (p + (1 - q)) / 2;
        } else {
          res.log.push_back({m, p, -1});
        }
        sum += s;
      }
      Outcome o{pr.first, pr.second, sum / cfg.prompts_per_match, 1.0};
      elo_update(res.elo, o, cfg.elo);
      res.outcomes.push_back(o);
      st.outcomes.push_back(o);
      st.played.insert({std::min(pr.first, pr.second), std::max(pr.first, pr.second)});
    }
    res.rounds_played = round + 1;
    if (cfg.on_round) {
      res.rating = res.elo;
      cfg.on_round(round, res);
    }
  }
  if (cfg.rating == RatingMethod::kBradleyTerry) {
    GAVEL_ASSIGN(auto bt, bradley_terry(n_players, res.outcomes, cfg.bt));
    res.rating = bt.rating;
  } else {
    res.rating = res.elo;
  }
  return res;
}

namespace {

void summarize(const std::vector<std::vector<double>>& ratings, std::vector<double>& mean,
               std::vector<double>& sd) {
  mean.clear();
  sd.clear();
  for (const auto& r : ratings) {
    mean.push_back(meta::mean(r));
    sd.push_back(meta::stddev_sample(r));
  }
}

}  // namespace

Result<OptionAResult> option_a(int n_writers, int n_prompts, const TournamentConfig& cfg,
                               const Judge& judge, int ci_bootstrap) {
  if (n_prompts < 1) return Error{"option A: needs >= 1 prompt"};
  OptionAResult out;
  out.ratings.assign(n_writers, std::vector<double>(n_prompts, 0.0));
  std::vector<meta::Item> items;
  for (int p = 0; p < n_prompts; ++p) {
    TournamentConfig c = cfg;
    c.prompts = {p};
    c.seed = mix(cfg.seed, static_cast<uint64_t>(p));
    c.on_round = nullptr;
    auto r = run_tournament(n_writers, c, judge);
    if (!r.ok()) return Error{fmt::format("option A, prompt {}: {}", p, r.message())};
    for (int w = 0; w < n_writers; ++w) {
      out.ratings[w][p] = r->rating[w];
      items.push_back({w, p, r->rating[w]});
    }
    out.log.insert(out.log.end(), r->log.begin(), r->log.end());
  }
  summarize(out.ratings, out.mean, out.sd);
  if (n_prompts >= 2) {
    GAVEL_ASSIGN(out.separability,
                 meta::separability(items, n_writers, n_prompts, ci_bootstrap, cfg.seed));
  }
  return out;
}

Result<OptionBResult> option_b(int n_writers, int n_prompts, int iterations,
                               const TournamentConfig& cfg, const Judge& judge, int ci_bootstrap) {
  if (n_prompts < 1) return Error{"option B: needs >= 1 prompt"};
  if (iterations < 1) return Error{"option B: needs >= 1 iteration"};
  OptionBResult out;
  out.ratings.assign(n_writers, std::vector<double>(iterations, 0.0));
  std::vector<meta::Item> items;
  std::mt19937_64 rng(cfg.seed);
  std::uniform_int_distribution<int> pick(0, n_prompts - 1);
  for (int it = 0; it < iterations; ++it) {
    TournamentConfig c = cfg;
    c.prompts.clear();
    for (int i = 0; i < n_prompts; ++i) c.prompts.push_back(pick(rng));
    c.seed = mix(cfg.seed, static_cast<uint64_t>(it) + 1000003);
    c.on_round = nullptr;
    auto r = run_tournament(n_writers, c, judge);
    if (!r.ok()) return Error{fmt::format("option B, iteration {}: {}", it, r.message())};
    for (int w = 0; w < n_writers; ++w) {
      out.ratings[w][it] = r->rating[w];
      items.push_back({w, it, r->rating[w]});
    }
    out.log.insert(out.log.end(), r->log.begin(), r->log.end());
  }
  summarize(out.ratings, out.mean, out.sd);
  if (iterations >= 2) {
    GAVEL_ASSIGN(out.separability,
                 meta::separability(items, n_writers, iterations, ci_bootstrap, cfg.seed));
  }
  return out;
}

}  // namespace gavel::rank
