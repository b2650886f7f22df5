#include "meta/reports.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "core/io.h"
#include "meta/classification.h"
#include "meta/correlation.h"
#include "meta/items.h"
#include "meta/jsonl.h"
#include "meta/judgemark.h"
#include "meta/separability.h"

namespace gavel::meta {
namespace {

using nlohmann::json;

Status prefixed(const Status& s, const std::string& path) { return s.prefixed(path + ": "); }

// Two numeric fields of every row, row by row (so the first bad row is the one reported).
Result<std::pair<std::vector<double>, std::vector<double>>> two_columns(const std::string& path,
                                                                       const std::string& fx,
                                                                       const std::string& fy) {
  GAVEL_ASSIGN(Jsonl js, read_jsonl(path));
  std::vector<double> x, y;
  for (const auto& row : js.rows) {
    GAVEL_ASSIGN(double a, js.number(row, fx));
    GAVEL_ASSIGN(double b, js.number(row, fy));
    x.push_back(a);
    y.push_back(b);
  }
  return std::pair{std::move(x), std::move(y)};
}

}  // namespace

Result<Report> separability_report(const SeparabilityReportConfig& s) {
  ItemFields f = s.fields;
  f.length.clear();
  GAVEL_ASSIGN(ItemData d, load_items(s.in, f));
  std::vector<Item> items;
  for (const auto& r : d.rows) items.push_back({r.group, r.prompt, r.value});
  auto sep = separability(items, d.groups.size(), d.prompts.size(), s.bootstrap, s.seed, s.level);
  if (!sep.ok()) return prefixed(sep.status(), s.in);
  const Separability& r = *sep;
  json j = {{"n_items", items.size()},
            {"items_skipped", d.skipped},
            {"n_groups", d.groups.size()},
            {"n_prompts", d.prompts.size()},
            {"anova_f", json_number(r.anova.f)},
            {"anova_p", json_number(r.anova.p)},
            {"omega2", json_number(r.anova.omega2)},
            {"cliff_delta", json_number(r.cliff_delta)},
            {"score", json_number(r.score)},
            {"bootstrap", r.bootstrap},
            {"seed", s.seed},
            {"level", s.level},
            {"score_ci", {json_number(r.score_ci_low), json_number(r.score_ci_high)}},
            {"omega2_ci", {json_number(r.omega2_ci_low), json_number(r.omega2_ci_high)}},
            {"cliff_delta_ci", {json_number(r.delta_ci_low), json_number(r.delta_ci_high)}}};
  Table t({"statistic", "value", "ci_low", "ci_high"});
  t.add({"items", std::to_string(items.size()), "", ""});
  t.add({"groups x prompts", fmt::format("{}x{}", d.groups.size(), d.prompts.size()), "", ""});
  t.add({"anova F", fixed(r.anova.f, 4), "", ""});
  t.add({"anova p", fmt::format("{:.3g}", r.anova.p), "", ""});
  t.add(
      {"omega^2", fixed(r.anova.omega2, 4), fixed(r.omega2_ci_low, 4), fixed(r.omega2_ci_high, 4)});
  t.add({"mean |Cliff's delta|", fixed(r.cliff_delta, 4), fixed(r.delta_ci_low, 4),
         fixed(r.delta_ci_high, 4)});
  t.add({"separability", fixed(r.score, 2), fixed(r.score_ci_low, 2), fixed(r.score_ci_high, 2)});
  return Report{std::move(j), {std::move(t)}, ""};
}

Result<Report> correlation_report(const CorrelationReportConfig& c) {
  GAVEL_ASSIGN(auto columns, two_columns(c.in, c.x, c.y));
  const auto& [x, y] = columns;
  json j = json::object();
  Table t({"method", "r", "p", "ci_low", "ci_high", "n"});
  const std::pair<const char*, Result<Correlation> (*)(const std::vector<double>&,
                                                       const std::vector<double>&, double)>
      methods[] = {{"pearson", pearson}, {"spearman", spearman}, {"kendall_tau_b", kendall_tau_b}};
  for (const auto& [name, fn] : methods) {
    auto r = fn(x, y, c.level);
    if (!r.ok()) return prefixed(r.status(), c.in);
    j[name] = {{"r", json_number(r->r)},
               {"p", json_number(r->p)},
               {"ci", {json_number(r->ci_low), json_number(r->ci_high)}},
               {"n", r->n}};
    t.add({name, fixed(r->r, 4), fmt::format("{:.3g}", r->p), fixed(r->ci_low, 4),
           fixed(r->ci_high, 4), std::to_string(r->n)});
  }
  j["level"] = c.level;
  j["ci_method"] = {{"pearson", "fisher z, se 1/sqrt(n-3)"},
                    {"spearman", "fisher z, se 1/sqrt(n-3)"},
                    {"kendall_tau_b", "fisher z, se sqrt(0.437/(n-4)) (Fieller et al. 1957)"}};
  j["p_method"] = {{"pearson", "exact t (n-2 df)"},
                   {"spearman", "t approximation (n-2 df)"},
                   {"kendall_tau_b", "normal approximation, tie-corrected variance"}};
  return Report{std::move(j), {std::move(t)}, ""};
}

bool scale_percentages(std::vector<PairJudgment>& pairs) {
  bool percent = false;
  for (const PairJudgment& p : pairs)
    for (double v : {p.p_a_pass1, p.p_a_pass2}) percent = percent || (v > 1 && v <= 100);
  if (percent)
    for (PairJudgment& p : pairs) {
      p.p_a_pass1 /= 100;
      p.p_a_pass2 /= 100;
    }
  return percent;
}

Result<Report> pairwise_report(const PairwiseReportConfig& p) {
  GAVEL_ASSIGN(Jsonl js, read_jsonl(p.in));
  std::vector<PairJudgment> pairs;
  std::map<std::string, int> unscored;  // labels that name no better text, and their counts
  for (const auto& row : js.rows) {
    PairJudgment pj;
    if (js.has(row, p.score1) || !js.has(row, p.label)) {
      GAVEL_ASSIGN(pj.score_1, js.number(row, p.score1));
      GAVEL_ASSIGN(pj.score_2, js.number(row, p.score2));
    } else {
      GAVEL_ASSIGN(std::string label, js.text(row, p.label));
      if (label != "A" && label != "B") {
        ++unscored[label];
        continue;
      }
      pj.score_1 = label == "A" ? 1 : 0;
      pj.score_2 = 1 - pj.score_1;
    }
    for (auto [field, dst] : {std::pair{&p.p1, &pj.p_a_pass1}, std::pair{&p.p2, &pj.p_a_pass2}}) {
      GAVEL_ASSIGN(*dst, js.number(row, *field));
    }
    // Lengths are needed only by the length-ratio filter; without them every pair has length 1.
    auto len1 = js.length(row, p.len1);
    auto len2 = len1.ok() ? js.length(row, p.len2) : len1;
    if (len1.ok() && len2.ok()) {
      pj.len_1 = *len1;
      pj.len_2 = *len2;
    } else if (p.filter.max_len_ratio > 0) {
      return len2.status();
    } else {
      pj.len_1 = pj.len_2 = 1;
    }
    pairs.push_back(pj);
  }
  scale_percentages(pairs);
  auto m = pairwise_metrics(pairs, p.filter);
  if (!m.ok()) return prefixed(m.status(), p.in);
  json j = {{"n", m->n},
            {"filtered_out", m->filtered_out},
            {"strict_accuracy", m->strict_accuracy},
            {"positional_consistency", m->positional_consistency},
            {"mean_target_mass", m->mean_target_mass},
            {"mean_non_target_mass", m->mean_non_target_mass},
            {"soft_accuracy", m->soft_accuracy},
            {"labels_not_scored", unscored},
            {"filter",
             {{"max_len_ratio", p.filter.max_len_ratio},
              {"min_diff", p.filter.min_diff},
              {"max_diff", p.filter.max_diff},
              {"sample", p.filter.sample},
              {"seed", p.filter.seed}}}};
  Table t({"metric", "value"});
  t.add({"pairs (after filters)", std::to_string(m->n)});
  t.add({"strict accuracy", fixed(100 * m->strict_accuracy, 1) + "%"});
  t.add({"positional consistency", fixed(100 * m->positional_consistency, 1) + "%"});
  t.add({"mean target mass", fixed(100 * m->mean_target_mass, 1) + "%"});
  t.add({"mean non-target mass", fixed(100 * m->mean_non_target_mass, 1) + "%"});
  t.add({"soft accuracy", fixed(100 * m->soft_accuracy, 1) + "%"});
  std::string preface;
  for (const auto& [label, n] : unscored)
    preface += fmt::format(
        "{} pair(s) labelled \"{}\" left out (only A or B names a better text)\n", n, label);
  return Report{std::move(j), {std::move(t)}, preface};
}

Result<Report> bias_file_report(const BiasReportConfig& b) {
  GAVEL_ASSIGN(Jsonl js, read_jsonl(b.in));
  NameIndex names;
  std::vector<MatchRecord> recs;
  for (const auto& row : js.rows) {
    MatchRecord r;
    GAVEL_ASSIGN(std::string first, js.text(row, b.first));
    GAVEL_ASSIGN(std::string second, js.text(row, b.second));
    GAVEL_ASSIGN(r.p_first, js.number(row, b.prob));
    r.first = names.id(first);
    r.second = names.id(second);
    if (js.has(row, b.len_first)) {
      GAVEL_ASSIGN(r.len_first, js.length(row, b.len_first));
      GAVEL_ASSIGN(r.len_second, js.length(row, b.len_second));
    }
    if (js.has(row, b.pair)) {
      GAVEL_ASSIGN(double id, js.number(row, b.pair));
      r.pair_id = static_cast<long long>(id);
    }
    recs.push_back(r);
  }
  auto rep = bias_report(recs);
  if (!rep.ok()) return prefixed(rep.status(), b.in);
  json j = {{"n", rep->n},
            {"position1_mean_prob", rep->position1_mean_prob},
            {"position2_mean_prob", rep->position2_mean_prob},
            {"position1_win_rate", rep->position1_win_rate},
            {"position_skew", rep->position_skew},
            {"length_n", rep->length_n},
            {"longer_win_rate", rep->longer_win_rate},
            {"longer_ev_margin", rep->longer_ev_margin},
            {"swap_pairs", rep->swap_pairs},
            {"swap_flip_rate", rep->swap_flip_rate}};
  Table t({"bias", "value"});
  t.add({"matches", std::to_string(rep->n)});
  t.add({"position 1 (A) mean prob", fixed(100 * rep->position1_mean_prob, 1) + "%"});
  t.add({"position 2 (B) mean prob", fixed(100 * rep->position2_mean_prob, 1) + "%"});
  t.add({"position 1 hard win rate", fixed(100 * rep->position1_win_rate, 1) + "%"});
  t.add({"longer response win rate", fixed(100 * rep->longer_win_rate, 1) + "%"});
  t.add({"longer EV margin", fmt::format("{:+.1f}%", 100 * rep->longer_ev_margin)});
  t.add({"swap-flip rate",
         fixed(100 * rep->swap_flip_rate, 1) + "% of " + std::to_string(rep->swap_pairs)});
  return Report{std::move(j), {std::move(t)}, ""};
}

Result<Report> classify_report(const ClassifyReportConfig& c) {
  GAVEL_ASSIGN(Jsonl js, read_jsonl(c.in));
  std::vector<std::string> gold, pred;
  int no_verdict = 0;
  for (const auto& row : js.rows) {
    if (js.has_null(row, c.pred)) {
      ++no_verdict;
      continue;
    }
    GAVEL_ASSIGN(std::string g, js.text(row, c.gold));
    GAVEL_ASSIGN(std::string p, js.text(row, c.pred));
    gold.push_back(std::move(g));
    pred.push_back(std::move(p));
  }
  auto r = classification(gold, pred);
  if (!r.ok()) return prefixed(r.status(), c.in);
  json classes = json::object();
  Table t({"class", "support", "predicted", "precision", "recall", "f1"});
  for (const auto& k : r->classes) {
    classes[k.label] = {{"support", k.support},
                        {"predicted", k.predicted},
                        {"precision", k.precision},
                        {"recall", k.recall},
                        {"f1", k.f1}};
    t.add({k.label, std::to_string(k.support), std::to_string(k.predicted), fixed(k.precision, 4),
           fixed(k.recall, 4), fixed(k.f1, 4)});
  }
  t.add({"accuracy", std::to_string(r->n), "", "", "", fixed(r->accuracy, 4)});
  t.add({"macro F1", "", "", "", "", fixed(r->macro_f1, 4)});
  json j = {{"n", r->n},
            {"accuracy", r->accuracy},
            {"macro_f1", r->macro_f1},
            {"classes", classes},
            {"no_verdict", no_verdict}};
  std::string preface =
      no_verdict
          ? fmt::format("{} row(s) without a verdict (\"{}\" null) left out\n", no_verdict, c.pred)
          : "";
  return Report{std::move(j), {std::move(t)}, std::move(preface)};
}

Result<Report> calibration_report(const CalibrationReportConfig& c) {
  GAVEL_ASSIGN(auto columns, two_columns(c.in, c.prob, c.outcome));
  const auto& [p, y] = columns;
  auto r = calibration(p, y, c.bins);
  if (!r.ok()) return prefixed(r.status(), c.in);
  Table t({"bin", "count", "confidence", "accuracy"});
  for (int b = 0; b < r->bins; ++b)
    t.add({fmt::format("[{:.2f},{:.2f}{}", double(b) / r->bins, double(b + 1) / r->bins,
                       b + 1 == r->bins ? "]" : ")"),
           std::to_string(r->bin_count[b]), fixed(r->bin_confidence[b], 4),
           fixed(r->bin_accuracy[b], 4)});
  t.add({"ECE", "", fixed(r->ece, 4), ""});
  t.add({"Brier", "", fixed(r->brier, 4), ""});
  json j = {{"n", r->n},
            {"bins", r->bins},
            {"ece", r->ece},
            {"brier", r->brier},
            {"bin_count", r->bin_count}};
  return Report{std::move(j), {std::move(t)}, ""};
}

namespace {

// The writer's name without its organisation ("org/model" -> "model").
std::string short_name(const std::string& s) {
  auto k = s.rfind('/');
  return k == std::string::npos ? s : s.substr(k + 1);
}

Error bad_file(const std::string& path, const std::string& what) {
  return Error{fmt::format("{}: {}", path, what), StatusCode::kInvalidArgument};
}

// A number or null (NaN) in a judge-results file.
Result<double> number_or_null(const json& v, const std::string& path, const std::string& what) {
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number()) return bad_file(path, what + " is not a number");
  return v.get<double>();
}

}  // namespace

Result<Report> judgemark_report(const std::string& path) {
  GAVEL_ASSIGN(std::string text, read_file(path));
  json d = json::parse(text, nullptr, false);
  if (d.is_discarded()) return bad_file(path, "invalid JSON");
  if (!d.is_object()) return bad_file(path, "not a judge-results object");
  for (const char* k : {"writers", "reference_benchmarks_arena_eqbench_magi", "judges"})
    if (!d.contains(k)) return bad_file(path, fmt::format("missing field \"{}\"", k));
  const auto& writers = d["writers"];
  const auto& refs = d["reference_benchmarks_arena_eqbench_magi"];
  if (!writers.is_array() || !refs.is_object() || !d["judges"].is_array())
    return bad_file(path, "\"writers\" and \"judges\" must be lists, the references an object");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::map<std::string, std::vector<double>> reference{{"arena_elo", {}}, {"eq_bench", {}}};
  for (const auto& w : writers) {
    if (!w.is_string()) return bad_file(path, "a writer name is not a string");
    std::string s = short_name(w.get<std::string>());
    if (!refs.contains(s)) return bad_file(path, fmt::format("no reference for {}", s));
    const auto& r = refs[s];
    if (!r.is_array() || r.size() < 2)
      return bad_file(path, fmt::format("the reference of {} is not a list of values", s));
    GAVEL_ASSIGN(double arena, number_or_null(r[0], path, "arena_elo of " + s));
    GAVEL_ASSIGN(double eq, number_or_null(r[1], path, "eq_bench of " + s));
    reference["arena_elo"].push_back(arena);
    reference["eq_bench"].push_back(eq);
  }
  json out = json::array();
  Table t({"judge", "std_dev", "avg_pearson", "avg_kendall", "anova_f", "terms", "judgemark",
           "from_published_stats", "published", "diff"});
  int idx = 0;
  for (const auto& jd : d["judges"]) {
    ++idx;
    if (!jd.is_object()) return bad_file(path, fmt::format("judge {} is not an object", idx));
    std::string name = fmt::format("judge {}", idx);
    if (jd.contains("judge")) {
      if (!jd["judge"].is_string())
        return bad_file(path,
                        fmt::format("judge {}: field \"judge\" (its name) is not a string", idx));
      name = jd["judge"].get<std::string>();
    }
    JudgemarkInput in;
    in.references = reference;
    const json& ws = jd.contains("writer_scores") ? jd["writer_scores"] : json::object();
    if (!ws.is_object())
      return bad_file(path,
                      fmt::format("judge {}: field \"writer_scores\" is not an object", name));
    if (jd.contains("stats") && !jd["stats"].is_object())
      return bad_file(path, fmt::format("judge {}: field \"stats\" is not an object", name));
    for (const auto& w : writers) {
      const std::string& wn = w.get_ref<const std::string&>();
      if (!ws.contains(wn))
        return bad_file(path, fmt::format("judge {} has no score for {}", name, wn));
      if (!ws[wn].is_number())
        return bad_file(path, fmt::format("judge {}: the score of {} is not a number", name, wn));
      in.scores.push_back(ws[wn].get<double>());
    }
    std::map<std::string, double> published_stats;
    if (jd.contains("stats"))
      for (const auto& [k, v] : jd["stats"].items()) {
        GAVEL_ASSIGN(published_stats[k],
                     number_or_null(v, path, fmt::format("judge {}: stats.{}", name, k)));
      }
    if (auto f = published_stats.find("anova_f");
        f != published_stats.end() && !std::isnan(f->second))
      in.anova_f = f->second;
    auto r = judgemark_v1(in);
    if (!r.ok()) return r.status().prefixed(name + ": ");
    // The same formula over the published (rounded) statistics, to separate formula from
    // input differences.
    const double from_pub = judgemark_v1_from_stats(published_stats, in.anova_f);
    double published = nan;
    if (jd.contains("judgemark_published")) {
      GAVEL_ASSIGN(published, number_or_null(jd["judgemark_published"], path,
                                             fmt::format("judge {}: judgemark_published", name)));
    }
    out.push_back({{"judge", name},
                   {"std_dev", r->std_dev},
                   {"stats", r->stats},
                   {"avg_pearson", r->avg_pearson},
                   {"avg_kendall", r->avg_kendall},
                   {"anova_f", json_number(in.anova_f >= 0 ? in.anova_f : nan)},
                   {"terms", r->terms},
                   {"judgemark", r->score},
                   {"judgemark_from_published_stats", json_number(from_pub)},
                   {"published", json_number(published)}});
    t.add({name, fixed(r->std_dev, 2), fixed(r->avg_pearson, 3), fixed(r->avg_kendall, 3),
           in.anova_f >= 0 ? fixed(in.anova_f, 2) : "-", std::to_string(r->terms),
           fixed(r->score, 2), fixed(from_pub, 2), fixed(published, 2),
           fmt::format("{:+.2f}", r->score - published)});
  }
  return Report{std::move(out), {std::move(t)}, ""};
}

}  // namespace gavel::meta
