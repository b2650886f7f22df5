#include "tournament/driver.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "rank/style_control.h"

namespace gavel::tournament {

Result<Option> parse_option(std::string_view s) {
  if (s == "A" || s == "a") return Option::kA;
  if (s == "B" || s == "b") return Option::kB;
  if (s == "global") return Option::kGlobal;
  return Error{fmt::format("unknown option '{}' (expected A, B or global)", s)};
}

std::string_view name(Option o) {
  switch (o) {
    case Option::kA:
      return "A";
    case Option::kB:
      return "B";
    case Option::kGlobal:
      return "global";
  }
  return "?";
}

int default_rounds(Option o) { return o == Option::kB ? 20 : 5; }

namespace {

int64_t round_matches(int field, rank::Pairing p) {
  return p == rank::Pairing::kRoundRobin ? int64_t(field) * (field - 1) / 2 : field / 2;
}

}  // namespace

int64_t planned_matches(const ResponseSet& set, const Config& cfg) {
  const int rounds = cfg.rounds > 0 ? cfg.rounds : default_rounds(cfg.option);
  const int64_t per = std::max(1, cfg.prompts_per_match);
  if (cfg.option == Option::kB)
    return int64_t(cfg.iterations) * rounds * round_matches(set.n_writers(), cfg.pairing) * per;
  if (cfg.option == Option::kGlobal)
    return int64_t(rounds) * round_matches(set.n_writers(), cfg.pairing) * per;
  int64_t n = 0;
  for (int p = 0; p < set.n_prompts(); ++p) {
    int field = 0;
    for (int w = 0; w < set.n_writers(); ++w) field += set.has(w, p);
    if (field >= 2) n += rounds * round_matches(field, cfg.pairing);
  }
  return n * per;
}

Result<Outcome> run(const ResponseSet& set, MatchJudge& judge, const Config& cfg) {
  Outcome out;
  out.cfg = cfg;
  if (out.cfg.rounds <= 0) out.cfg.rounds = default_rounds(cfg.option);
  rank::TournamentConfig tc;
  tc.pairing = cfg.pairing;
  tc.rounds = out.cfg.rounds;
  tc.seed = cfg.seed;
  tc.elo = cfg.elo;
  tc.bt = cfg.bt;
  tc.stop = cfg.stop;
  tc.prompts_per_match = cfg.prompts_per_match;
  tc.on_round = [&out](int round, const rank::TournamentResult& r) {
    out.round_ratings.push_back({r.tournament, round, r.rating});
  };
  // The card's ratings: sequential Elo per tournament; adaptive pairing's tournaments are read
  // with Bradley-Terry (its matches follow the uncertainty, so play order would weigh them).
  tc.rating = rank::default_rating(cfg.pairing);
  out.planned_matches = planned_matches(set, out.cfg);
  tc.has_prompt = [&set](int w, int p) { return set.has(w, p); };
  // Each round's matches go to the judge in one call; every answer is kept with its match.
  rank::RoundJudge round_judge =
      [&](std::span<const rank::Match> ms) -> Result<std::vector<double>> {
    std::vector<MatchSpec> specs;
    for (const rank::Match& m : ms) {
      MatchSpec s;
      s.tournament = m.tournament;
      s.round = m.round;
      s.writer1 = m.a;
      s.writer2 = m.b;
      s.prompt = m.prompt;
      s.iteration1 =
          pick_iteration(set, m.a, m.prompt, cfg.iteration_choice, cfg.seed, m.tournament, m.round);
      s.iteration2 =
          pick_iteration(set, m.b, m.prompt, cfg.iteration_choice, cfg.seed, m.tournament, m.round);
      specs.push_back(s);
    }
    GAVEL_ASSIGN(auto results, judge.judge(specs));
    std::vector<double> p;
    for (size_t i = 0; i < specs.size(); ++i) {
      p.push_back(results[i].p_writer1);
      out.matches.push_back({specs[i], std::move(results[i])});
    }
    if (cfg.on_round) cfg.on_round(static_cast<int64_t>(out.matches.size()));
    return p;
  };
  if (cfg.option == Option::kA) {
    GAVEL_ASSIGN(auto a, rank::option_a(set.n_writers(), set.n_prompts(), tc, round_judge,
                                        cfg.ci_bootstrap));
    out.ratings = std::move(a.ratings);
    out.mean = std::move(a.mean);
    out.sd = std::move(a.sd);
    out.separability = a.separability;
    out.stopped_early = a.stopped_early;
    for (int p = 0; p < set.n_prompts(); ++p) {
      TournamentInfo t{p, {p}, {}};
      for (int w = 0; w < set.n_writers(); ++w)
        if (set.has(w, p)) t.writers.push_back(w);
      if (t.writers.size() >= 2) out.tournaments.push_back(std::move(t));
    }
  } else if (cfg.option == Option::kGlobal) {
    tc.prompts.resize(static_cast<size_t>(set.n_prompts()));
    std::iota(tc.prompts.begin(), tc.prompts.end(), 0);
    GAVEL_ASSIGN(auto g, rank::run_tournament(set.n_writers(), tc, round_judge));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int w = 0; w < set.n_writers(); ++w) out.ratings.push_back({g.rating[w]});
    out.mean = g.rating;
    out.sd.assign(g.rating.size(), nan);  // one tournament: no spread to report
    out.unplayable = g.unplayable;
    out.stopped_early = g.stopped_early;
    std::vector<int> all(set.n_writers());
    std::iota(all.begin(), all.end(), 0);
    out.tournaments.push_back({0, tc.prompts, all});
  } else {
    GAVEL_ASSIGN(auto b, rank::option_b(set.n_writers(), set.n_prompts(), cfg.iterations, tc,
                                        round_judge, cfg.ci_bootstrap));
    out.ratings = std::move(b.ratings);
    out.mean = std::move(b.mean);
    out.sd = std::move(b.sd);
    out.separability = b.separability;
    out.unplayable = b.unplayable;
    out.stopped_early = b.stopped_early;
    std::vector<int> all(set.n_writers());
    std::iota(all.begin(), all.end(), 0);
    for (int it = 0; it < cfg.iterations; ++it) out.tournaments.push_back({it, b.samples[it], all});
  }
  return out;
}

std::vector<std::vector<double>> ratings_by_round(const Outcome& out, int n_writers) {
  std::vector<std::vector<double>> sum, cnt;
  for (const RoundRatings& r : out.round_ratings) {
    if (r.round >= static_cast<int>(sum.size())) {
      sum.resize(r.round + 1, std::vector<double>(n_writers, 0.0));
      cnt.resize(r.round + 1, std::vector<double>(n_writers, 0.0));
    }
    for (int w = 0; w < n_writers && w < static_cast<int>(r.rating.size()); ++w)
      if (!std::isnan(r.rating[w])) sum[r.round][w] += r.rating[w], cnt[r.round][w] += 1;
  }
  for (size_t r = 0; r < sum.size(); ++r)
    for (int w = 0; w < n_writers; ++w)
      sum[r][w] = cnt[r][w] > 0 ? sum[r][w] / cnt[r][w] : std::numeric_limits<double>::quiet_NaN();
  return sum;
}

Result<Analysis> analyze(const ResponseSet& set, TextBook& texts, const Outcome& out) {
  Analysis a;
  const int n = set.n_writers();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<int> matches(n, 0), tournaments(n, 0);
  std::vector<std::vector<double>> win(n, std::vector<double>(set.n_prompts(), 0.0)), played = win;
  for (const PlayedMatch& m : out.matches) {
    ++matches[m.spec.writer1], ++matches[m.spec.writer2];
    if (!m.result.has_verdict) continue;
    win[m.spec.writer1][m.spec.prompt] += m.result.p_writer1;
    win[m.spec.writer2][m.spec.prompt] += 1 - m.result.p_writer1;
    played[m.spec.writer1][m.spec.prompt] += 1;
    played[m.spec.writer2][m.spec.prompt] += 1;
  }
  for (int w = 0; w < n; ++w)
    for (int p = 0; p < set.n_prompts(); ++p)
      win[w][p] = played[w][p] > 0 ? win[w][p] / played[w][p] : nan;
  a.prompt_win = std::move(win);
  for (int w = 0; w < n; ++w)
    for (double r : out.ratings[w]) tournaments[w] += !std::isnan(r);
  // Distinct judgments, each once, oriented as first played.
  std::vector<rank::Outcome> outcomes;
  std::vector<std::vector<double>> cov;
  std::vector<meta::MatchRecord> passes;
  std::map<std::vector<std::string>, bool> seen;
  bool tokens = texts.has_tokens();
  a.length_unit = tokens ? "tokens" : "chars";
  for (const PlayedMatch& m : out.matches) {
    if (!seen.emplace(m.result.keys, true).second) continue;
    if (!m.result.has_verdict) {
      ++a.no_verdict;
      continue;
    }
    GAVEL_ASSIGN(const JudgedText* t1, texts.get(m.spec.writer1, m.spec.prompt, m.spec.iteration1));
    GAVEL_ASSIGN(const JudgedText* t2, texts.get(m.spec.writer2, m.spec.prompt, m.spec.iteration2));
    double l1 = static_cast<double>(tokens ? t1->tokens : t1->chars);
    double l2 = static_cast<double>(tokens ? t2->tokens : t2->chars);
    outcomes.push_back({m.spec.writer1, m.spec.writer2, m.result.p_writer1, 1.0});
    cov.push_back({rank::length_covariate(l1, l2)});
    for (const PassResult& p : m.result.passes) {
      if (!p.p_a) continue;
      meta::MatchRecord r;
      r.first = p.writer1_is_a ? m.spec.writer1 : m.spec.writer2;
      r.second = p.writer1_is_a ? m.spec.writer2 : m.spec.writer1;
      r.p_first = *p.p_a;
      r.len_first = p.writer1_is_a ? l1 : l2;
      r.len_second = p.writer1_is_a ? l2 : l1;
      r.pair_id = static_cast<long long>(outcomes.size() - 1);
      passes.push_back(r);
    }
  }
  a.judgments = static_cast<int>(outcomes.size());
  a.rows.resize(n);
  for (int w = 0; w < n; ++w) {
    a.rows[w].writer = w;
    a.rows[w].rating = out.mean[w];
    a.rows[w].sd = out.sd[w];
    a.rows[w].tournaments = tournaments[w];
    a.rows[w].matches = matches[w];
  }
  if (!outcomes.empty()) {
    GAVEL_ASSIGN(auto boot, rank::bradley_terry_bootstrap(n, outcomes, out.cfg.bt,
                                                          out.cfg.bt_bootstrap, out.cfg.seed));
    for (int w = 0; w < n; ++w) {
      a.rows[w].bt = boot.fit.rating[w];
      a.rows[w].bt_se = boot.fit.std_error[w];
      a.rows[w].bt_ci_low = boot.ci_low[w];
      a.rows[w].bt_ci_high = boot.ci_high[w];
    }
    auto lc = rank::bradley_terry_covariates(n, outcomes, cov, out.cfg.bt);
    a.length_fitted = lc.ok();
    if (!lc.ok()) a.length_error = lc.message();
    for (int w = 0; w < n; ++w) {
      a.rows[w].lc = lc.ok() ? lc->bt.rating[w] : nan;
      a.rows[w].lc_se = lc.ok() ? lc->bt.std_error[w] : nan;
    }
    a.length_beta = lc.ok() ? lc->beta[0] : nan;
    a.length_beta_se = lc.ok() ? lc->beta_se[0] : nan;
  } else {
    for (auto& r : a.rows) r.bt = r.bt_se = r.lc = r.lc_se = r.bt_ci_low = r.bt_ci_high = nan;
    a.length_beta = a.length_beta_se = nan;
  }
  if (!passes.empty()) {
    GAVEL_ASSIGN(a.bias, meta::bias_report(passes));
  }
  std::stable_sort(a.rows.begin(), a.rows.end(),
                   [&](const LeaderboardRow& x, const LeaderboardRow& y) {
                     if (x.rating != y.rating) return x.rating > y.rating;
                     return set.writers[x.writer] < set.writers[y.writer];
                   });
  return a;
}

}  // namespace gavel::tournament
