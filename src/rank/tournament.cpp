#include "rank/tournament.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "meta/summary.h"
#include "rank/pairing.h"

namespace gavel::rank {

namespace {

// Seeds for sub-tournaments: distinct, reproducible streams from one seed.
uint64_t mix(uint64_t seed, uint64_t i) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (i + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Result<std::vector<std::pair<int, int>>> rank_intervals(int n_players,
                                                        const std::vector<Outcome>& outcomes,
                                                        const BtConfig& bt, int bootstrap,
                                                        double level, uint64_t seed) {
  std::vector<std::vector<double>> ranks(n_players);
  std::vector<std::pair<int, int>> out(n_players, {1, n_players});
  if (outcomes.empty() || bootstrap < 1) return out;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, outcomes.size() - 1);
  BtConfig quick = bt;
  quick.tol = std::max(bt.tol, 1e-9);
  std::vector<Outcome> sample(outcomes.size());
  std::vector<int> order(n_players);
  for (int b = 0; b < bootstrap; ++b) {
    for (Outcome& o : sample) o = outcomes[pick(rng)];
    GAVEL_ASSIGN(auto fit, bradley_terry(n_players, sample, quick));
    for (int i = 0; i < n_players; ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](int x, int y) { return fit.theta[x] > fit.theta[y]; });
    for (int r = 0; r < n_players; ++r) ranks[order[r]].push_back(r + 1);
  }
  const double lo = (1 - level) / 2;
  for (int i = 0; i < n_players; ++i)
    out[i] = {static_cast<int>(std::floor(meta::quantile_linear(ranks[i], lo))),
              static_cast<int>(std::ceil(meta::quantile_linear(ranks[i], 1 - lo)))};
  return out;
}

RatingMethod default_rating(Pairing p) {
  return p == Pairing::kAdaptive ? RatingMethod::kBradleyTerry : RatingMethod::kElo;
}

RoundJudge per_match(Judge judge) {
  return [judge = std::move(judge)](std::span<const Match> ms) -> Result<std::vector<double>> {
    std::vector<double> out;
    out.reserve(ms.size());
    for (const Match& m : ms) {
      GAVEL_ASSIGN(double p, judge(m));
      out.push_back(p);
    }
    return out;
  };
}

Result<TournamentResult> run_tournament(int n_players, const TournamentConfig& cfg,
                                        const Judge& judge) {
  if (!judge) return Error{"tournament: no judge"};
  return run_tournament(n_players, cfg, per_match(judge));
}

Result<TournamentResult> run_tournament(int n_players, const TournamentConfig& cfg,
                                        const RoundJudge& judge) {
  if (n_players < 2) return Error{fmt::format("tournament: needs >= 2 players, got {}", n_players)};
  if (cfg.rounds < 1)
    return Error{fmt::format("tournament: rounds must be >= 1, got {}", cfg.rounds)};
  if (cfg.prompts_per_match < 1) return Error{"tournament: prompts_per_match must be >= 1"};
  if (!judge) return Error{"tournament: no judge"};
  GAVEL_TRY(check_elo(cfg.elo));
  std::mt19937_64 rng(cfg.seed);
  TournamentResult res;
  res.tournament = cfg.tournament;
  res.elo.assign(n_players, cfg.elo.initial);
  PairingState st;
  st.n_players = n_players;
  st.byes.assign(n_players, 0);
  long long next_pair = 0;
  std::vector<int> common;
  // A prompt for the pair, drawn uniformly among cfg.prompts both players have; -2 if none.
  // uses[player][slot]: how often the player was judged on cfg.prompts[slot] (balanced draws).
  std::vector<std::vector<int>> uses(n_players, std::vector<int>(cfg.prompts.size(), 0));
  std::vector<size_t> slots;
  // A prompt for the pair among the slots of cfg.prompts both players have: uniformly, or
  // (balanced) among the slots the two have used least; -2 if they share none.
  auto draw_prompt = [&](int a, int b) -> int {
    if (cfg.prompts.empty()) return -1;
    slots.clear();
    int least = std::numeric_limits<int>::max();
    for (size_t k = 0; k < cfg.prompts.size(); ++k) {
      int p = cfg.prompts[k];
      if (cfg.has_prompt && !(cfg.has_prompt(a, p) && cfg.has_prompt(b, p))) continue;
      if (cfg.prompt_draw == PromptDraw::kBalanced) {
        int u = uses[a][k] + uses[b][k];
        if (u > least) continue;
        if (u < least) slots.clear(), least = u;
      }
      slots.push_back(k);
    }
    if (slots.empty()) return -2;
    std::uniform_int_distribution<size_t> pick(0, slots.size() - 1);
    size_t k = slots[pick(rng)];
    ++uses[a][k];
    ++uses[b][k];
    return cfg.prompts[k];
  };
  const std::vector<Pair> all_pairs =
      cfg.pairing == Pairing::kRoundRobin ? round_robin_pairs(n_players) : std::vector<Pair>{};
  std::vector<std::pair<int, int>> last_ci;
  int stable_rounds = 0;
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
    if (pairs.empty() && cfg.pairing == Pairing::kAdaptive && !res.outcomes.empty()) {
      res.stopped_early = true;  // every pair settled: nothing left worth a judgment
      break;
    }
    // The round's questions, in play order (each orientation right after the other), asked
    // in one batch; prompts drawn in the same order as a match-by-match loop would.
    std::vector<Match> asks;
    std::vector<Pair> played;
    std::vector<size_t> asked;  // questions per played pair
    for (const Pair& pr : pairs) {
      std::vector<Match> mine;
      for (int k = 0; k < cfg.prompts_per_match; ++k) {
        int prompt = draw_prompt(pr.first, pr.second);
        if (prompt == -2) break;
        mine.push_back({pr.first, pr.second, prompt, round, cfg.tournament});
        if (cfg.both_orders) mine.push_back({pr.second, pr.first, prompt, round, cfg.tournament});
      }
      if (mine.empty()) {
        ++res.unplayable;
        continue;
      }
      asks.insert(asks.end(), mine.begin(), mine.end());
      played.push_back(pr);
      asked.push_back(mine.size());
    }
    std::vector<double> answers;
    if (!asks.empty()) {
      GAVEL_ASSIGN(answers, judge(asks));
    }
    if (answers.size() != asks.size())
      return Error{fmt::format("tournament: the judge gave {} answers for {} matches",
                               answers.size(), asks.size())};
    for (size_t i = 0; i < asks.size(); ++i) {
      double p = answers[i];
      const Match& m = asks[i];
      if (!(p >= 0 && p <= 1))
        return Error{fmt::format("judge answered {} for players {} vs {} (prompt {}): not in [0,1]",
                                 p, m.a, m.b, m.prompt)};
    }
    size_t at = 0;
    for (size_t q = 0; q < played.size(); ++q) {
      const Pair& pr = played[q];
      double sum = 0;
      int n = 0;
      for (const size_t end = at + asked[q]; at < end;) {
        double s = answers[at];
        if (cfg.both_orders) {
          res.log.push_back({asks[at], answers[at], next_pair});
          res.log.push_back({asks[at + 1], answers[at + 1], next_pair});
          ++next_pair;
          s = (answers[at] + (1 - answers[at + 1])) / 2;
          at += 2;
        } else {
          res.log.push_back({asks[at], answers[at], -1});
          at += 1;
        }
        sum += s;
        ++n;
      }
      Outcome o{pr.first, pr.second, sum / n, 1.0};
      elo_update(res.elo, o, cfg.elo);
      res.outcomes.push_back(o);
      st.outcomes.push_back(o);
      st.played.insert({std::min(pr.first, pr.second), std::max(pr.first, pr.second)});
    }
    res.rounds_played = round + 1;
    if (cfg.on_round) {
      if (cfg.rating == RatingMethod::kBradleyTerry) {
        GAVEL_ASSIGN(auto bt, bradley_terry(n_players, res.outcomes, cfg.bt));
        res.rating = bt.rating;
      } else {
        res.rating = res.elo;
      }
      cfg.on_round(round, res);
    }
    if (cfg.stop.until_stable && round + 1 >= cfg.stop.min_rounds && round + 1 < cfg.rounds) {
      GAVEL_ASSIGN(auto ci, rank_intervals(n_players, res.outcomes, cfg.bt, cfg.stop.bootstrap,
                                           cfg.stop.level, mix(cfg.seed, 77 + round)));
      if (!last_ci.empty()) {
        double moved = 0;
        for (size_t i = 0; i < ci.size(); ++i)
          moved +=
              std::abs(ci[i].first - last_ci[i].first) + std::abs(ci[i].second - last_ci[i].second);
        moved /= 2.0 * static_cast<double>(ci.size());
        res.interval_change.push_back(moved);
        stable_rounds = moved <= cfg.stop.tolerance ? stable_rounds + 1 : 0;
      }
      last_ci = std::move(ci);
      if (stable_rounds >= cfg.stop.patience) {
        res.stopped_early = true;
        break;
      }
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

// Mean and sample sd per writer over the tournaments it played (NaN entries left out).
void summarize(const std::vector<std::vector<double>>& ratings, std::vector<double>& mean,
               std::vector<double>& sd) {
  mean.clear();
  sd.clear();
  for (const auto& r : ratings) {
    std::vector<double> v;
    for (double x : r)
      if (!std::isnan(x)) v.push_back(x);
    mean.push_back(meta::mean(v));
    sd.push_back(meta::stddev_sample(v));
  }
}

}  // namespace

Result<OptionAResult> option_a(int n_writers, int n_prompts, const TournamentConfig& cfg,
                               const Judge& judge, int ci_bootstrap) {
  if (!judge) return Error{"option A: no judge"};
  return option_a(n_writers, n_prompts, cfg, per_match(judge), ci_bootstrap);
}

Result<OptionAResult> option_a(int n_writers, int n_prompts, const TournamentConfig& cfg,
                               const RoundJudge& judge, int ci_bootstrap) {
  if (n_prompts < 1) return Error{"option A: needs >= 1 prompt"};
  OptionAResult out;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.ratings.assign(n_writers, std::vector<double>(n_prompts, nan));
  std::vector<meta::Item> items;
  for (int p = 0; p < n_prompts; ++p) {
    // The prompt's field: the writers that have it, as local players 0..k-1.
    std::vector<int> field;
    for (int w = 0; w < n_writers; ++w)
      if (!cfg.has_prompt || cfg.has_prompt(w, p)) field.push_back(w);
    if (field.size() < 2) continue;  // nobody to play: no ratings on this prompt
    TournamentConfig c = cfg;
    c.prompts = {p};
    c.seed = mix(cfg.seed, static_cast<uint64_t>(p));
    c.on_round = nullptr;
    if (cfg.on_round)
      c.on_round = [&](int round, const TournamentResult& local) {
        TournamentResult g;
        g.tournament = local.tournament;
        g.rounds_played = local.rounds_played;
        g.rating.assign(n_writers, nan);
        g.elo.assign(n_writers, nan);
        for (size_t i = 0; i < field.size(); ++i) {
          g.rating[field[i]] = local.rating[i];
          g.elo[field[i]] = local.elo[i];
        }
        cfg.on_round(round, g);
      };
    c.has_prompt = nullptr;
    c.tournament = p;
    RoundJudge local = [&](std::span<const Match> ms) {
      std::vector<Match> global(ms.begin(), ms.end());
      for (Match& m : global) m.a = field[m.a], m.b = field[m.b];
      return judge(global);
    };
    auto r = run_tournament(static_cast<int>(field.size()), c, local);
    if (!r.ok()) return Error{fmt::format("option A, prompt {}: {}", p, r.message())};
    for (size_t i = 0; i < field.size(); ++i) {
      out.ratings[field[i]][p] = r->rating[i];
      items.push_back({field[i], p, r->rating[i]});
    }
    out.stopped_early += r->stopped_early;
    for (JudgedMatch jm : r->log) {
      jm.match.a = field[jm.match.a];
      jm.match.b = field[jm.match.b];
      out.log.push_back(jm);
    }
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
  if (!judge) return Error{"option B: no judge"};
  return option_b(n_writers, n_prompts, iterations, cfg, per_match(judge), ci_bootstrap);
}

Result<OptionBResult> option_b(int n_writers, int n_prompts, int iterations,
                               const TournamentConfig& cfg, const RoundJudge& judge,
                               int ci_bootstrap) {
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
    c.tournament = it;
    auto r = run_tournament(n_writers, c, judge);
    if (!r.ok()) return Error{fmt::format("option B, iteration {}: {}", it, r.message())};
    for (int w = 0; w < n_writers; ++w) {
      out.ratings[w][it] = r->rating[w];
      items.push_back({w, it, r->rating[w]});
    }
    out.log.insert(out.log.end(), r->log.begin(), r->log.end());
    out.samples.push_back(c.prompts);
    out.unplayable += r->unplayable;
    out.stopped_early += r->stopped_early;
  }
  summarize(out.ratings, out.mean, out.sd);
  if (iterations >= 2) {
    GAVEL_ASSIGN(out.separability,
                 meta::separability(items, n_writers, iterations, ci_bootstrap, cfg.seed));
  }
  return out;
}

}  // namespace gavel::rank
