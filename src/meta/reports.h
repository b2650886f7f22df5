// The reports of `gavel meta`: each reads a JSONL (or JSON) file whose fields the caller
// names, computes the meta-evaluation statistics and returns them as JSON and a table
// (meta::Report), ready to print. Errors name the file, line and field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gavel/status.h"
#include "meta/items.h"
#include "meta/judge_metrics.h"
#include "meta/judgment_record.h"
#include "meta/report.h"

namespace gavel::meta {

// omega^2, mean |Cliff's delta| and the combined separability of scored items.
struct SeparabilityReportConfig {
  std::string in;
  ItemFields fields;  // the length field is not used
  int bootstrap = 1000;
  uint64_t seed = 42;
  double level = 0.95;
};
Result<Report> separability_report(const SeparabilityReportConfig& cfg);

// Pearson, Spearman and Kendall tau-b of two numeric fields, with p-values and CIs.
struct CorrelationReportConfig {
  std::string in, x, y;
  double level = 0.95;
};
Result<Report> correlation_report(const CorrelationReportConfig& cfg);

// The model card's pairwise figures over pairs judged in both orders. The gold side is the
// score fields when a row has them, else its label ("A": text 1 better, "B": text 2; other
// labels are left out and counted). The defaults read `gavel judge` output as it is.
struct PairwiseReportConfig {
  std::string in, score1 = "score_1", score2 = "score_2", label = record::kLabel, len1 = "len_1",
                  len2 = "len_2", p1 = record::pass_p_a(record::kPass1),
                  p2 = record::pass_p_a(record::kPass2);
  PairFilter filter;
};
Result<Report> pairwise_report(const PairwiseReportConfig& cfg);

// Probabilities given as percentages (the card prints them that way) become fractions: when
// any probability of the pairs lies in (1, 100], all of them are divided by 100. Returns
// whether it scaled.
bool scale_percentages(std::vector<PairJudgment>& pairs);

// Position, length and swap-flip bias of judged matches.
struct BiasReportConfig {
  std::string in, first = "model_a", second = "model_b", prob = "prob", len_first = "len_a",
                  len_second = "len_b", pair = "pair_id";
};
Result<Report> bias_file_report(const BiasReportConfig& cfg);

// Accuracy and per-class / macro F1 of verdicts; ECE and Brier score of probabilities.
// A null prediction (a judge that gave no verdict) is left out and counted.
struct ClassifyReportConfig {
  std::string in, gold = record::kLabel, pred = record::kVerdict;
};
Result<Report> classify_report(const ClassifyReportConfig& cfg);
struct CalibrationReportConfig {
  std::string in, prob, outcome;
  int bins = 10;
};
Result<Report> calibration_report(const CalibrationReportConfig& cfg);

// Judgemark v1 recomputed from a judge-results file (judgemark_v1_judge_results.json), next
// to the same formula over the file's published statistics and the published score.
Result<Report> judgemark_report(const std::string& path);

}  // namespace gavel::meta
