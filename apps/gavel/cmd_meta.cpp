// `gavel meta <what>`: meta-evaluation statistics over JSONL inputs whose fields are named by
// flags. Each maps its flags to a meta::*ReportConfig and prints the report of meta/reports.h:
// a terminal table by default, --markdown, --json, --csv FILE.
#include <memory>
#include <string>

#include "command.h"
#include "meta/reports.h"
#include "report_flags.h"

namespace {

namespace meta = gavel::meta;
using gavel::cli::print_report;

gavel::cli::Runner setup(CLI::App& app) {
  app.require_subcommand(1);
  auto out = std::make_shared<meta::ReportFormat>();
  gavel::cli::Subcommands subs("meta");

  auto sep = std::make_shared<meta::SeparabilityReportConfig>();
  auto* s = app.add_subcommand("separability",
                               "omega^2, mean |Cliff's delta| and combined "
                               "separability of scored items, prompt-bootstrap CI");
  s->add_option("--in", sep->in, "JSONL of scored items")->required();
  gavel::cli::add_item_fields(s, sep->fields);
  s->add_option("--bootstrap", sep->bootstrap, "bootstrap draws of the prompt set (0 = none)");
  s->add_option("--seed", sep->seed, "bootstrap seed");
  s->add_option("--level", sep->level, "CI level");
  gavel::cli::add_report_flags(s, out);
  subs.add(s, [=] { return print_report(meta::separability_report(*sep), *out); });

  auto corr = std::make_shared<meta::CorrelationReportConfig>();
  auto* c = app.add_subcommand("correlation", "Pearson, Spearman, Kendall tau-b with p and CI");
  c->add_option("--in", corr->in, "JSONL")->required();
  c->add_option("--x", corr->x, "first numeric field")->required();
  c->add_option("--y", corr->y, "second numeric field")->required();
  c->add_option("--level", corr->level, "CI level");
  gavel::cli::add_report_flags(c, out);
  subs.add(c, [=] { return print_report(meta::correlation_report(*corr), *out); });

  auto pw = std::make_shared<meta::PairwiseReportConfig>();
  auto* p = app.add_subcommand("pairwise",
                               "strict accuracy, positional consistency, target "
                               "mass of a judge on pairs judged in both orders");
  p->add_option("--in", pw->in, "JSONL, one pair per line")->required();
  p->add_option("--score1", pw->score1, "gold score of text 1");
  p->add_option("--score2", pw->score2, "gold score of text 2");
  p->add_option("--label", pw->label,
                "gold label (A: text 1 better, B: text 2), read when a row has no --score1");
  p->add_option("--len1", pw->len1, "length of text 1 (number, or a text field)");
  p->add_option("--len2", pw->len2, "length of text 2");
  p->add_option("--p1", pw->p1, "P(A) with text 1 as A (0-1, or 0-100 for the whole file)");
  p->add_option("--p2", pw->p2, "P(A) with text 2 as A (0-1, or 0-100 for the whole file)");
  p->add_option("--max-len-ratio", pw->filter.max_len_ratio, "keep max/min length <= R");
  p->add_option("--min-diff", pw->filter.min_diff, "keep |score diff| >= this");
  p->add_option("--max-diff", pw->filter.max_diff, "keep |score diff| <= this (0 = no limit)");
  p->add_option("--sample", pw->filter.sample, "then sample N pairs (0 = all)");
  p->add_option("--seed", pw->filter.seed, "sampling seed");
  gavel::cli::add_report_flags(p, out);
  subs.add(p, [=] { return print_report(meta::pairwise_report(*pw), *out); });

  auto bias = std::make_shared<meta::BiasReportConfig>();
  auto* b = app.add_subcommand("bias", "position, length and swap-flip bias of judged matches");
  b->add_option("--in", bias->in, "JSONL, one judged orientation per line")->required();
  b->add_option("--first", bias->first, "field: system in position 1");
  b->add_option("--second", bias->second, "field: system in position 2");
  b->add_option("--prob", bias->prob, "field: P(position 1 better)");
  b->add_option("--len-first", bias->len_first, "field: length of the position-1 text");
  b->add_option("--len-second", bias->len_second, "field: length of the position-2 text");
  b->add_option("--pair-id", bias->pair, "field: id shared by the two orientations of a pair");
  gavel::cli::add_report_flags(b, out);
  subs.add(b, [=] { return print_report(meta::bias_file_report(*bias), *out); });

  auto cls = std::make_shared<meta::ClassifyReportConfig>();
  auto* k = app.add_subcommand("classify", "accuracy and per-class / macro F1 of verdicts");
  k->add_option("--in", cls->in, "JSONL")->required();
  k->add_option("--gold", cls->gold, "gold label field");
  k->add_option("--pred", cls->pred, "predicted label field");
  gavel::cli::add_report_flags(k, out);
  subs.add(k, [=] { return print_report(meta::classify_report(*cls), *out); });

  auto cal = std::make_shared<meta::CalibrationReportConfig>();
  auto* l = app.add_subcommand("calibration", "ECE (equal-width bins) and Brier score");
  l->add_option("--in", cal->in, "JSONL")->required();
  l->add_option("--prob", cal->prob, "predicted probability field")->required();
  l->add_option("--outcome", cal->outcome, "0/1 outcome field")->required();
  l->add_option("--bins", cal->bins, "number of bins");
  gavel::cli::add_report_flags(l, out);
  subs.add(l, [=] { return print_report(meta::calibration_report(*cal), *out); });

  auto jm = std::make_shared<std::string>();
  auto* j = app.add_subcommand("judgemark", "recompute Judgemark v1 from a judge-results file");
  j->add_option("--in", *jm, "judgemark_v1_judge_results.json")->required();
  gavel::cli::add_report_flags(j, out);
  subs.add(j, [=] { return print_report(meta::judgemark_report(*jm), *out); });

  return subs.runner();
}

gavel::cli::Register reg{{"meta",
                          "meta-evaluate judges: separability, correlations, pairwise "
                          "accuracy, bias, F1, calibration, Judgemark",
                          setup}};

}  // namespace
