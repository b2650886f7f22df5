#include "rank/convergence.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "meta/correlation.h"

namespace gavel::rank {

const char* pairing_name(Pairing p) {
  switch (p) {
    case Pairing::kSwiss:
      return "swiss";
    case Pairing::kRoundRobin:
      return "round-robin";
    case Pairing::kRandom:
      return "random";
    case Pairing::kAdaptive:
      return "adaptive";
  }
  return "?";
}

Result<Pairing> parse_pairing(std::string_view s) {
  std::string names;
  for (Pairing p : {Pairing::kSwiss, Pairing::kRoundRobin, Pairing::kRandom, Pairing::kAdaptive}) {
    if (s == pairing_name(p)) return p;
    names += names.empty() ? "" : "|";
    names += pairing_name(p);
  }
  return Error{fmt::format("unknown pairing '{}' (expected {})", s, names),
               StatusCode::kInvalidArgument};
}

Result<Curve> convergence_curve(int n_players, int n_prompts, const Judge& judge,
                                const CurveConfig& cfg) {
  Curve curve;
  std::vector<Outcome> all;
  std::vector<int> prompts;
  for (int p = 0; p < n_prompts; ++p) prompts.push_back(p);
  if (prompts.empty()) prompts.push_back(-1);
  for (int p : prompts)
    for (int a = 0; a < n_players; ++a)
      for (int b = a + 1; b < n_players; ++b) {
        GAVEL_ASSIGN(double s, judge(Match{a, b, p, 0}));
        all.push_back({a, b, s, 1.0});
      }
  curve.reference_judgments = static_cast<int>(all.size());
  GAVEL_ASSIGN(auto ref, bradley_terry(n_players, all, cfg.bt));
  curve.reference = ref.rating;
  BtConfig quick = cfg.bt;
  quick.tol = std::max(cfg.bt.tol, 1e-9);
  for (Pairing scheme : cfg.schemes) {
    std::map<int, std::vector<double>> taus, calls;
    for (int s = 0; s < cfg.seeds; ++s) {
      TournamentConfig tc;
      tc.pairing = scheme;
      tc.rounds = cfg.rounds;
      tc.bt = cfg.bt;
      tc.seed = cfg.seed + 7919ULL * static_cast<uint64_t>(s);
      if (n_prompts > 0) tc.prompts = prompts;
      Status inner;
      tc.on_round = [&](int round, const TournamentResult& so_far) {
        if (!inner.ok()) return;
        auto fit = bradley_terry(n_players, so_far.outcomes, quick);
        if (!fit.ok()) {
          inner = fit.status();
          return;
        }
        auto t = meta::kendall_tau_b(fit->rating, curve.reference);
        if (!t.ok()) {
          inner = t.status();
          return;
        }
        taus[round + 1].push_back(t->r);
        calls[round + 1].push_back(static_cast<double>(so_far.log.size()));
      };
      GAVEL_ASSIGN(auto res, run_tournament(n_players, tc, judge));
      (void)res;
      GAVEL_TRY(inner);
    }
    for (auto& [round, t] : taus) {
      CurvePoint pt;
      pt.scheme = pairing_name(scheme);
      pt.round = round;
      double sum = 0, csum = 0;
      for (double v : t) sum += v;
      for (double v : calls[round]) csum += v;
      pt.tau = sum / t.size();
      pt.tau_min = *std::min_element(t.begin(), t.end());
      pt.judgments = csum / calls[round].size();
      curve.points.push_back(pt);
    }
  }
  return curve;
}

}  // namespace gavel::rank
