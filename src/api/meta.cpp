// The public meta-evaluation API over the meta layer (and rank's name index, which gives
// groups and prompts the indices `gavel meta` gives them: order of first appearance).
#include "gavel/meta.h"

#include <fmt/format.h>

#include "meta/classification.h"
#include "meta/correlation.h"
#include "meta/judge_metrics.h"
#include "meta/separability.h"
#include "rank/data.h"

namespace gavel {

Result<SeparabilityResult> separability(std::span<const ScoredItem> items,
                                        const SeparabilityOptions& o) {
  meta::NameIndex groups, prompts;
  std::vector<meta::Item> rows;
  rows.reserve(items.size());
  for (const ScoredItem& it : items)
    rows.push_back({groups.id(it.group), prompts.id(it.prompt), it.value});
  GAVEL_ASSIGN(meta::Separability s, meta::separability(rows, groups.size(), prompts.size(),
                                                        o.bootstrap, o.seed, o.level));
  SeparabilityResult r;
  r.n_items = static_cast<int>(items.size());
  r.n_groups = groups.size();
  r.n_prompts = prompts.size();
  r.groups = groups.names();
  r.prompts = prompts.names();
  r.anova_f = s.anova.f;
  r.anova_p = s.anova.p;
  r.omega2 = s.anova.omega2;
  r.cliff_delta = s.cliff_delta;
  r.score = s.score;
  r.bootstrap = s.bootstrap;
  r.score_ci_low = s.score_ci_low;
  r.score_ci_high = s.score_ci_high;
  r.omega2_ci_low = s.omega2_ci_low;
  r.omega2_ci_high = s.omega2_ci_high;
  r.delta_ci_low = s.delta_ci_low;
  r.delta_ci_high = s.delta_ci_high;
  return r;
}

Result<CorrelationResult> correlation(std::span<const double> x, std::span<const double> y,
                                      const std::string& method, double level) {
  std::vector<double> xs(x.begin(), x.end()), ys(y.begin(), y.end());
  Result<meta::Correlation> c = Error{""};
  if (method == "pearson")
    c = meta::pearson(xs, ys, level);
  else if (method == "spearman")
    c = meta::spearman(xs, ys, level);
  else if (method == "kendall")
    c = meta::kendall_tau_b(xs, ys, level);
  else
    return Error{fmt::format("method: must be \"pearson\", \"spearman\" or \"kendall\", got \"{}\"",
                             method)};
  if (!c.ok()) return c.status();
  return CorrelationResult{c->r, c->p, c->ci_low, c->ci_high, c->n};
}

Result<PairwiseMetricsResult> pairwise_metrics(std::span<const JudgedPair> pairs,
                                               const PairFilterOptions& f) {
  return meta::pairwise_metrics({pairs.begin(), pairs.end()}, f);
}

Result<BiasResult> bias(std::span<const JudgedMatchRecord> records) {
  meta::NameIndex names;
  std::vector<meta::MatchRecord> in;
  in.reserve(records.size());
  for (const JudgedMatchRecord& r : records)
    in.push_back({names.id(r.first), names.id(r.second), r.p_first, r.len_first, r.len_second,
                  static_cast<long long>(r.pair_id)});
  GAVEL_ASSIGN(meta::BiasReport b, meta::bias_report(in));
  return BiasResult{b.n,
                    b.position1_mean_prob,
                    b.position2_mean_prob,
                    b.position1_win_rate,
                    b.position_skew,
                    b.length_n,
                    b.longer_win_rate,
                    b.longer_ev_margin,
                    b.swap_pairs,
                    b.swap_flip_rate};
}

Result<ClassificationResult> classification(std::span<const std::string> gold,
                                            std::span<const std::string> predicted) {
  GAVEL_ASSIGN(meta::Classification c, meta::classification({gold.begin(), gold.end()},
                                                            {predicted.begin(), predicted.end()}));
  ClassificationResult r{c.n, c.accuracy, c.macro_f1, {}};
  for (const meta::ClassScores& s : c.classes)
    r.classes.push_back({s.label, s.support, s.predicted, s.precision, s.recall, s.f1});
  return r;
}

Result<CalibrationResult> calibration(std::span<const double> p, std::span<const double> outcome,
                                      int bins) {
  GAVEL_ASSIGN(meta::Calibration c,
               meta::calibration({p.begin(), p.end()}, {outcome.begin(), outcome.end()}, bins));
  return CalibrationResult{c.n,         c.bins,           c.ece,         c.brier,
                           c.bin_count, c.bin_confidence, c.bin_accuracy};
}

}  // namespace gavel
