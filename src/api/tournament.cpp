// The public tournament API over the rank layer's driver.
#include "gavel/tournament.h"

#include <fmt/format.h>

#include "rank/convergence.h"
#include "rank/elo.h"
#include "rank/tournament.h"

namespace gavel {

Result<TournamentResult> run_tournament(int n_players, const TournamentOptions& o,
                                        const MatchJudge& judge) {
  rank::TournamentConfig cfg;
  auto pairing = rank::parse_pairing(o.pairing);
  if (!pairing.ok()) return pairing.status().prefixed("pairing: ");
  cfg.pairing = *pairing;
  if (o.rating == "elo")
    cfg.rating = rank::RatingMethod::kElo;
  else if (o.rating == "bt")
    cfg.rating = rank::RatingMethod::kBradleyTerry;
  else
    return Error{fmt::format("rating: must be \"elo\" or \"bt\", got \"{}\"", o.rating)};
  if (!judge) return Error{"tournament: no judge"};
  cfg.rounds = o.rounds;
  cfg.both_orders = o.both_orders;
  cfg.prompts = o.prompts;
  cfg.prompts_per_match = o.prompts_per_match;
  cfg.elo = {o.elo_k, o.elo_initial, o.elo_scale};
  cfg.bt.alpha = o.bt_alpha;
  cfg.bt.anchor = o.bt_anchor;
  cfg.seed = o.seed;
  cfg.stop.until_stable = o.until_stable;
  GAVEL_ASSIGN(rank::TournamentResult r,
               rank::run_tournament(n_players, cfg, [&](const rank::Match& m) {
                 return judge(TournamentMatch{m.a, m.b, m.prompt, m.round});
               }));
  TournamentResult out;
  out.rating = std::move(r.rating);
  out.elo = std::move(r.elo);
  for (const rank::Outcome& oc : r.outcomes) out.outcomes.push_back({oc.a, oc.b, oc.score});
  for (const rank::JudgedMatch& j : r.log)
    out.judgments.push_back(
        {{j.match.a, j.match.b, j.match.prompt, j.match.round}, j.p, j.pair_id});
  out.rounds_played = r.rounds_played;
  out.stopped_early = r.stopped_early;
  out.interval_change = std::move(r.interval_change);
  return out;
}

Result<RatingsResult> bradley_terry(int n_players, std::span<const TournamentOutcome> outcomes,
                                    double alpha, double anchor) {
  std::vector<rank::Outcome> in;
  in.reserve(outcomes.size());
  for (const TournamentOutcome& o : outcomes) in.push_back({o.a, o.b, o.score, 1.0});
  rank::BtConfig cfg;
  cfg.alpha = alpha;
  cfg.anchor = anchor;
  GAVEL_ASSIGN(rank::BtResult r, rank::bradley_terry(n_players, in, cfg));
  return RatingsResult{std::move(r.rating), std::move(r.theta), std::move(r.std_error),
                       r.iterations};
}

}  // namespace gavel
