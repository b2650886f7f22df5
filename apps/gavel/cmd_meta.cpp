// `gavel meta <what>`: meta-evaluation statistics over JSONL inputs whose fields are named by
// flags. Each prints a terminal table, --json prints JSON instead, --csv FILE writes the table.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "command.h"
#include "core/io.h"
#include "meta/classification.h"
#include "meta/correlation.h"
#include "meta/jsonl.h"
#include "meta/judge_metrics.h"
#include "meta/judgemark.h"
#include "meta/separability.h"
#include "meta/table.h"
#include "rank/data.h"

namespace {

using gavel::Error;
using gavel::Result;
using gavel::Status;
using nlohmann::json;
namespace meta = gavel::meta;

struct Output {
  bool json = false;
  std::string csv;
};

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

int emit(const Output& o, const json& j, const meta::Table& t) {
  if (!o.csv.empty()) {
    auto st = gavel::write_file_atomic(o.csv, t.csv());
    if (!st.ok()) return gavel::cli::fail(st.message());
  }
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s", t.text().c_str());
  }
  return 0;
}

void add_output(CLI::App* sub, std::shared_ptr<Output> o) {
  sub->add_flag("--json", o->json, "print JSON instead of a table");
  sub->add_option("--csv", o->csv, "also write the table as CSV to this file");
  gavel::cli::refuse_output_over_inputs(sub, "--csv");
}

// ---- separability ----
struct SepOpts {
  std::string in, group = "writer_model", prompt = "prompt_id", value = "clean_score_0_100";
  int bootstrap = 1000;
  uint64_t seed = 42;
  double level = 0.95;
  bool skip_missing = false;
};

int run_separability(const SepOpts& s, const Output& o) {
  gavel::rank::ItemFields f;
  f.group = s.group;
  f.prompt = s.prompt;
  f.value = s.value;
  f.skip_missing = s.skip_missing;
  auto d = gavel::rank::load_items(s.in, f);
  if (!d.ok()) return gavel::cli::fail(d.message());
  std::vector<meta::Item> items;
  for (const auto& r : d->rows) items.push_back({r.group, r.prompt, r.value});
  auto sep =
      meta::separability(items, d->groups.size(), d->prompts.size(), s.bootstrap, s.seed, s.level);
  if (!sep.ok()) return gavel::cli::fail(s.in + ": " + sep.message());
  const auto& r = *sep;
  json j = {{"n_items", items.size()},
            {"items_skipped", d->skipped},
            {"n_groups", d->groups.size()},
            {"n_prompts", d->prompts.size()},
            {"anova_f", num(r.anova.f)},
            {"anova_p", num(r.anova.p)},
            {"omega2", num(r.anova.omega2)},
            {"cliff_delta", num(r.cliff_delta)},
            {"score", num(r.score)},
            {"bootstrap", r.bootstrap},
            {"seed", s.seed},
            {"level", s.level},
            {"score_ci", {num(r.score_ci_low), num(r.score_ci_high)}},
            {"omega2_ci", {num(r.omega2_ci_low), num(r.omega2_ci_high)}},
            {"cliff_delta_ci", {num(r.delta_ci_low), num(r.delta_ci_high)}}};
  meta::Table t({"statistic", "value", "ci_low", "ci_high"});
  t.add({"items", std::to_string(items.size()), "", ""});
  t.add({"groups x prompts", fmt::format("{}x{}", d->groups.size(), d->prompts.size()), "", ""});
  t.add({"anova F", meta::fixed(r.anova.f, 4), "", ""});
  t.add({"anova p", fmt::format("{:.3g}", r.anova.p), "", ""});
  t.add({"omega^2", meta::fixed(r.anova.omega2, 4), meta::fixed(r.omega2_ci_low, 4),
         meta::fixed(r.omega2_ci_high, 4)});
  t.add({"mean |Cliff's delta|", meta::fixed(r.cliff_delta, 4), meta::fixed(r.delta_ci_low, 4),
         meta::fixed(r.delta_ci_high, 4)});
  t.add({"separability", meta::fixed(r.score, 2), meta::fixed(r.score_ci_low, 2),
         meta::fixed(r.score_ci_high, 2)});
  return emit(o, j, t);
}

// ---- correlation ----
struct CorrOpts {
  std::string in, x, y;
  double level = 0.95;
};

int run_correlation(const CorrOpts& c, const Output& o) {
  auto js = meta::read_jsonl(c.in);
  if (!js.ok()) return gavel::cli::fail(js.message());
  std::vector<double> x, y;
  for (const auto& row : js->rows) {
    auto a = js->number(row, c.x);
    if (!a.ok()) return gavel::cli::fail(a.message());
    auto b = js->number(row, c.y);
    if (!b.ok()) return gavel::cli::fail(b.message());
    x.push_back(*a);
    y.push_back(*b);
  }
  json j = json::object();
  meta::Table t({"method", "r", "p", "ci_low", "ci_high", "n"});
  const std::pair<const char*, Result<meta::Correlation> (*)(const std::vector<double>&,
                                                             const std::vector<double>&, double)>
      methods[] = {{"pearson", meta::pearson},
                   {"spearman", meta::spearman},
                   {"kendall_tau_b", meta::kendall_tau_b}};
  for (const auto& [name, fn] : methods) {
    auto r = fn(x, y, c.level);
    if (!r.ok()) return gavel::cli::fail(c.in + ": " + r.message());
    j[name] = {
        {"r", num(r->r)}, {"p", num(r->p)}, {"ci", {num(r->ci_low), num(r->ci_high)}}, {"n", r->n}};
    t.add({name, meta::fixed(r->r, 4), fmt::format("{:.3g}", r->p), meta::fixed(r->ci_low, 4),
           meta::fixed(r->ci_high, 4), std::to_string(r->n)});
  }
  j["level"] = c.level;
  j["ci_method"] = {{"pearson", "fisher z, se 1/sqrt(n-3)"},
                    {"spearman", "fisher z, se 1/sqrt(n-3)"},
                    {"kendall_tau_b", "fisher z, se sqrt(0.437/(n-4)) (Fieller et al. 1957)"}};
  j["p_method"] = {{"pearson", "exact t (n-2 df)"},
                   {"spearman", "t approximation (n-2 df)"},
                   {"kendall_tau_b", "normal approximation, tie-corrected variance"}};
  return emit(o, j, t);
}

// ---- pairwise (card section 3) ----
struct PairOpts {
  std::string in, score1 = "score_1", score2 = "score_2", len1 = "len_1", len2 = "len_2",
                  p1 = "p_a_pass1", p2 = "p_a_pass2";
  meta::PairFilter filter;
};

double length_of(const meta::Jsonl& js, const meta::JsonlRow& row, const std::string& field,
                 Status& st) {
  if (row.value.contains(field) && row.value[field].is_string())
    return static_cast<double>(row.value[field].get_ref<const std::string&>().size());
  auto v = js.number(row, field);
  if (!v.ok()) {
    st = v.status();
    return 0;
  }
  return *v;
}

int run_pairwise(const PairOpts& p, const Output& o) {
  auto js = meta::read_jsonl(p.in);
  if (!js.ok()) return gavel::cli::fail(js.message());
  std::vector<meta::PairJudgment> pairs;
  for (const auto& row : js->rows) {
    meta::PairJudgment pj;
    Status st;
    for (auto [field, dst] : {std::pair{&p.score1, &pj.score_1}, std::pair{&p.score2, &pj.score_2},
                              std::pair{&p.p1, &pj.p_a_pass1}, std::pair{&p.p2, &pj.p_a_pass2}}) {
      auto v = js->number(row, *field);
      if (!v.ok()) return gavel::cli::fail(v.message());
      *dst = *v;
    }
    for (double v : {pj.p_a_pass1, pj.p_a_pass2})
      if (v > 1 && v <= 100) {
        // Percentages (as the card prints them) are accepted and scaled.
        pj.p_a_pass1 = pj.p_a_pass1 > 1 ? pj.p_a_pass1 / 100 : pj.p_a_pass1;
        pj.p_a_pass2 = pj.p_a_pass2 > 1 ? pj.p_a_pass2 / 100 : pj.p_a_pass2;
      }
    pj.len_1 = length_of(*js, row, p.len1, st);
    if (st.ok()) pj.len_2 = length_of(*js, row, p.len2, st);
    if (!st.ok()) {
      if (p.filter.max_len_ratio > 0) return gavel::cli::fail(st.message());
      pj.len_1 = pj.len_2 = 1;
    }
    pairs.push_back(pj);
  }
  auto m = meta::pairwise_metrics(pairs, p.filter);
  if (!m.ok()) return gavel::cli::fail(p.in + ": " + m.message());
  json j = {{"n", m->n},
            {"filtered_out", m->filtered_out},
            {"strict_accuracy", m->strict_accuracy},
            {"positional_consistency", m->positional_consistency},
            {"mean_target_mass", m->mean_target_mass},
            {"mean_non_target_mass", m->mean_non_target_mass},
            {"soft_accuracy", m->soft_accuracy},
            {"filter",
             {{"max_len_ratio", p.filter.max_len_ratio},
              {"min_diff", p.filter.min_diff},
              {"max_diff", p.filter.max_diff},
              {"sample", p.filter.sample},
              {"seed", p.filter.seed}}}};
  meta::Table t({"metric", "value"});
  t.add({"pairs (after filters)", std::to_string(m->n)});
  t.add({"strict accuracy", meta::fixed(100 * m->strict_accuracy, 1) + "%"});
  t.add({"positional consistency", meta::fixed(100 * m->positional_consistency, 1) + "%"});
  t.add({"mean target mass", meta::fixed(100 * m->mean_target_mass, 1) + "%"});
  t.add({"mean non-target mass", meta::fixed(100 * m->mean_non_target_mass, 1) + "%"});
  t.add({"soft accuracy", meta::fixed(100 * m->soft_accuracy, 1) + "%"});
  return emit(o, j, t);
}

// ---- bias ----
struct BiasOpts {
  std::string in, first = "model_a", second = "model_b", prob = "prob", len_first = "len_a",
                  len_second = "len_b", pair = "pair_id";
};

json bias_json(const meta::BiasReport& b) {
  return {{"n", b.n},
          {"position1_mean_prob", b.position1_mean_prob},
          {"position2_mean_prob", b.position2_mean_prob},
          {"position1_win_rate", b.position1_win_rate},
          {"position_skew", b.position_skew},
          {"length_n", b.length_n},
          {"longer_win_rate", b.longer_win_rate},
          {"longer_ev_margin", b.longer_ev_margin},
          {"swap_pairs", b.swap_pairs},
          {"swap_flip_rate", b.swap_flip_rate}};
}

int run_bias(const BiasOpts& b, const Output& o) {
  auto js = meta::read_jsonl(b.in);
  if (!js.ok()) return gavel::cli::fail(js.message());
  gavel::rank::NameIndex names;
  std::vector<meta::MatchRecord> recs;
  for (const auto& row : js->rows) {
    meta::MatchRecord r;
    auto a = js->text(row, b.first);
    if (!a.ok()) return gavel::cli::fail(a.message());
    auto c = js->text(row, b.second);
    if (!c.ok()) return gavel::cli::fail(c.message());
    auto p = js->number(row, b.prob);
    if (!p.ok()) return gavel::cli::fail(p.message());
    r.first = names.id(*a);
    r.second = names.id(*c);
    r.p_first = *p;
    Status st;
    if (js->has(row, b.len_first)) {
      r.len_first = length_of(*js, row, b.len_first, st);
      if (st.ok()) r.len_second = length_of(*js, row, b.len_second, st);
      if (!st.ok()) return gavel::cli::fail(st.message());
    }
    if (js->has(row, b.pair)) {
      auto id = js->number(row, b.pair);
      if (!id.ok()) return gavel::cli::fail(id.message());
      r.pair_id = static_cast<long long>(*id);
    }
    recs.push_back(r);
  }
  auto rep = meta::bias_report(recs);
  if (!rep.ok()) return gavel::cli::fail(b.in + ": " + rep.message());
  meta::Table t({"bias", "value"});
  t.add({"matches", std::to_string(rep->n)});
  t.add({"position 1 (A) mean prob", meta::fixed(100 * rep->position1_mean_prob, 1) + "%"});
  t.add({"position 2 (B) mean prob", meta::fixed(100 * rep->position2_mean_prob, 1) + "%"});
  t.add({"position 1 hard win rate", meta::fixed(100 * rep->position1_win_rate, 1) + "%"});
  t.add({"longer response win rate", meta::fixed(100 * rep->longer_win_rate, 1) + "%"});
  t.add({"longer EV margin", fmt::format("{:+.1f}%", 100 * rep->longer_ev_margin)});
  t.add({"swap-flip rate",
         meta::fixed(100 * rep->swap_flip_rate, 1) + "% of " + std::to_string(rep->swap_pairs)});
  return emit(o, bias_json(*rep), t);
}

// ---- classification / calibration ----
struct ClassOpts {
  std::string in, gold = "label", pred = "pred", prob, outcome;
  int bins = 10;
};

int run_classify(const ClassOpts& c, const Output& o) {
  auto js = meta::read_jsonl(c.in);
  if (!js.ok()) return gavel::cli::fail(js.message());
  std::vector<std::string> gold, pred;
  for (const auto& row : js->rows) {
    auto g = js->text(row, c.gold);
    if (!g.ok()) return gavel::cli::fail(g.message());
    auto p = js->text(row, c.pred);
    if (!p.ok()) return gavel::cli::fail(p.message());
    gold.push_back(*g);
    pred.push_back(*p);
  }
  auto r = meta::classification(gold, pred);
  if (!r.ok()) return gavel::cli::fail(c.in + ": " + r.message());
  json classes = json::object();
  meta::Table t({"class", "support", "predicted", "precision", "recall", "f1"});
  for (const auto& k : r->classes) {
    classes[k.label] = {{"support", k.support},
                        {"predicted", k.predicted},
                        {"precision", k.precision},
                        {"recall", k.recall},
                        {"f1", k.f1}};
    t.add({k.label, std::to_string(k.support), std::to_string(k.predicted),
           meta::fixed(k.precision, 4), meta::fixed(k.recall, 4), meta::fixed(k.f1, 4)});
  }
  t.add({"accuracy", std::to_string(r->n), "", "", "", meta::fixed(r->accuracy, 4)});
  t.add({"macro F1", "", "", "", "", meta::fixed(r->macro_f1, 4)});
  json j = {
      {"n", r->n}, {"accuracy", r->accuracy}, {"macro_f1", r->macro_f1}, {"classes", classes}};
  return emit(o, j, t);
}

int run_calibration(const ClassOpts& c, const Output& o) {
  auto js = meta::read_jsonl(c.in);
  if (!js.ok()) return gavel::cli::fail(js.message());
  std::vector<double> p, y;
  for (const auto& row : js->rows) {
    auto a = js->number(row, c.prob);
    if (!a.ok()) return gavel::cli::fail(a.message());
    auto b = js->number(row, c.outcome);
    if (!b.ok()) return gavel::cli::fail(b.message());
    p.push_back(*a);
    y.push_back(*b);
  }
  auto r = meta::calibration(p, y, c.bins);
  if (!r.ok()) return gavel::cli::fail(c.in + ": " + r.message());
  meta::Table t({"bin", "count", "confidence", "accuracy"});
  for (int b = 0; b < r->bins; ++b)
    t.add({fmt::format("[{:.2f},{:.2f}{}", double(b) / r->bins, double(b + 1) / r->bins,
                       b + 1 == r->bins ? "]" : ")"),
           std::to_string(r->bin_count[b]), meta::fixed(r->bin_confidence[b], 4),
           meta::fixed(r->bin_accuracy[b], 4)});
  t.add({"ECE", "", meta::fixed(r->ece, 4), ""});
  t.add({"Brier", "", meta::fixed(r->brier, 4), ""});
  json j = {{"n", r->n},
            {"bins", r->bins},
            {"ece", r->ece},
            {"brier", r->brier},
            {"bin_count", r->bin_count}};
  return emit(o, j, t);
}

// ---- judgemark v1 ----
std::string short_name(const std::string& s) {
  auto k = s.rfind('/');
  return k == std::string::npos ? s : s.substr(k + 1);
}

int run_judgemark(const std::string& path, const Output& o) {
  auto text = gavel::read_file(path);
  if (!text.ok()) return gavel::cli::fail(text.message());
  json d = json::parse(*text, nullptr, false);
  if (d.is_discarded()) return gavel::cli::fail(path + ": invalid JSON");
  for (const char* k : {"writers", "reference_benchmarks_arena_eqbench_magi", "judges"})
    if (!d.contains(k)) return gavel::cli::fail(fmt::format("{}: missing field \"{}\"", path, k));
  const auto& writers = d["writers"];
  const auto& refs = d["reference_benchmarks_arena_eqbench_magi"];
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::map<std::string, std::vector<double>> reference{{"arena_elo", {}}, {"eq_bench", {}}};
  for (const auto& w : writers) {
    std::string s = short_name(w.get<std::string>());
    if (!refs.contains(s)) return gavel::cli::fail(fmt::format("{}: no reference for {}", path, s));
    const auto& r = refs[s];
    reference["arena_elo"].push_back(r[0].is_null() ? nan : r[0].get<double>());
    reference["eq_bench"].push_back(r[1].is_null() ? nan : r[1].get<double>());
  }
  json out = json::array();
  meta::Table t({"judge", "std_dev", "avg_pearson", "avg_kendall", "anova_f", "terms", "judgemark",
                 "from_published_stats", "published", "diff"});
  int idx = 0;
  for (const auto& jd : d["judges"]) {
    ++idx;
    std::string name = jd.value("judge", fmt::format("judge {}", idx));
    meta::JudgemarkInput in;
    in.references = reference;
    for (const auto& w : writers) {
      const auto& ws = jd["writer_scores"];
      if (!ws.contains(w.get<std::string>()))
        return gavel::cli::fail(
            fmt::format("{}: judge {} has no score for {}", path, name, w.get<std::string>()));
      in.scores.push_back(ws[w.get<std::string>()].get<double>());
    }
    const auto& st = jd["stats"];
    if (st.contains("anova_f") && !st["anova_f"].is_null()) in.anova_f = st["anova_f"];
    auto r = meta::judgemark_v1(in);
    if (!r.ok()) return gavel::cli::fail(name + ": " + r.message());
    // The same formula over the published (rounded) statistics, to separate formula from
    // input differences.
    double pk = 0, pp = 0;
    int nk = 0, np = 0;
    for (const auto& [k, v] : st.items()) {
      if (v.is_null()) continue;
      if (k.rfind("kendall_", 0) == 0) pk += v.get<double>(), ++nk;
      if (k.rfind("pearson_", 0) == 0) pp += v.get<double>(), ++np;
    }
    auto c01 = [](double v) { return std::min(1.0, std::max(0.0, v)); };
    double from_pub = nan;
    if (nk && np && st.contains("std_dev")) {
      double sum = c01(pk / nk) + c01(pp / np) + c01(st["std_dev"].get<double>() / 15);
      from_pub = in.anova_f >= 0 ? 100 * (sum + c01(in.anova_f / 28)) / 4 : 100 * sum / 3;
    }
    double published = jd.contains("judgemark_published") && !jd["judgemark_published"].is_null()
                           ? jd["judgemark_published"].get<double>()
                           : nan;
    json row = {{"judge", name},
                {"std_dev", r->std_dev},
                {"stats", r->stats},
                {"avg_pearson", r->avg_pearson},
                {"avg_kendall", r->avg_kendall},
                {"anova_f", num(in.anova_f >= 0 ? in.anova_f : nan)},
                {"terms", r->terms},
                {"judgemark", r->score},
                {"judgemark_from_published_stats", num(from_pub)},
                {"published", num(published)}};
    out.push_back(row);
    t.add({name, meta::fixed(r->std_dev, 2), meta::fixed(r->avg_pearson, 3),
           meta::fixed(r->avg_kendall, 3), in.anova_f >= 0 ? meta::fixed(in.anova_f, 2) : "-",
           std::to_string(r->terms), meta::fixed(r->score, 2), meta::fixed(from_pub, 2),
           meta::fixed(published, 2), fmt::format("{:+.2f}", r->score - published)});
  }
  return emit(o, out, t);
}

gavel::cli::Runner setup(CLI::App& app) {
  app.require_subcommand(1);
  auto out = std::make_shared<Output>();
  std::vector<std::pair<CLI::App*, std::function<int()>>> subs;

  auto sep = std::make_shared<SepOpts>();
  auto* s = app.add_subcommand("separability",
                               "omega^2, mean |Cliff's delta| and combined "
                               "separability of scored items, prompt-bootstrap CI");
  s->add_option("--in", sep->in, "JSONL of scored items")->required();
  s->add_option("--group", sep->group, "field naming the system (group)");
  s->add_option("--prompt", sep->prompt, "field naming the prompt (bootstrap unit)");
  s->add_option("--value", sep->value, "numeric score field");
  s->add_option("--bootstrap", sep->bootstrap, "bootstrap draws of the prompt set (0 = none)");
  s->add_option("--seed", sep->seed, "bootstrap seed");
  s->add_option("--level", sep->level, "CI level");
  s->add_flag("--skip-missing", sep->skip_missing, "skip items whose value is missing or null");
  add_output(s, out);
  subs.push_back({s, [=] { return run_separability(*sep, *out); }});

  auto corr = std::make_shared<CorrOpts>();
  auto* c = app.add_subcommand("correlation", "Pearson, Spearman, Kendall tau-b with p and CI");
  c->add_option("--in", corr->in, "JSONL")->required();
  c->add_option("--x", corr->x, "first numeric field")->required();
  c->add_option("--y", corr->y, "second numeric field")->required();
  c->add_option("--level", corr->level, "CI level");
  add_output(c, out);
  subs.push_back({c, [=] { return run_correlation(*corr, *out); }});

  auto pw = std::make_shared<PairOpts>();
  auto* p = app.add_subcommand("pairwise",
                               "strict accuracy, positional consistency, target "
                               "mass of a judge on pairs judged in both orders");
  p->add_option("--in", pw->in, "JSONL, one pair per line")->required();
  p->add_option("--score1", pw->score1, "gold score of text 1");
  p->add_option("--score2", pw->score2, "gold score of text 2");
  p->add_option("--len1", pw->len1, "length of text 1 (number, or a text field)");
  p->add_option("--len2", pw->len2, "length of text 2");
  p->add_option("--p1", pw->p1, "P(A) with text 1 as A (0-1 or 0-100)");
  p->add_option("--p2", pw->p2, "P(A) with text 2 as A (0-1 or 0-100)");
  p->add_option("--max-len-ratio", pw->filter.max_len_ratio, "keep max/min length <= R");
  p->add_option("--min-diff", pw->filter.min_diff, "keep |score diff| >= this");
  p->add_option("--max-diff", pw->filter.max_diff, "keep |score diff| <= this (0 = no limit)");
  p->add_option("--sample", pw->filter.sample, "then sample N pairs (0 = all)");
  p->add_option("--seed", pw->filter.seed, "sampling seed");
  add_output(p, out);
  subs.push_back({p, [=] { return run_pairwise(*pw, *out); }});

  auto bias = std::make_shared<BiasOpts>();
  auto* b = app.add_subcommand("bias", "position, length and swap-flip bias of judged matches");
  b->add_option("--in", bias->in, "JSONL, one judged orientation per line")->required();
  b->add_option("--first", bias->first, "field: system in position 1");
  b->add_option("--second", bias->second, "field: system in position 2");
  b->add_option("--prob", bias->prob, "field: P(position 1 better)");
  b->add_option("--len-first", bias->len_first, "field: length of the position-1 text");
  b->add_option("--len-second", bias->len_second, "field: length of the position-2 text");
  b->add_option("--pair-id", bias->pair, "field: id shared by the two orientations of a pair");
  add_output(b, out);
  subs.push_back({b, [=] { return run_bias(*bias, *out); }});

  auto cls = std::make_shared<ClassOpts>();
  auto* k = app.add_subcommand("classify", "accuracy and per-class / macro F1 of verdicts");
  k->add_option("--in", cls->in, "JSONL")->required();
  k->add_option("--gold", cls->gold, "gold label field");
  k->add_option("--pred", cls->pred, "predicted label field");
  add_output(k, out);
  subs.push_back({k, [=] { return run_classify(*cls, *out); }});

  auto* cal = app.add_subcommand("calibration", "ECE (equal-width bins) and Brier score");
  cal->add_option("--in", cls->in, "JSONL")->required();
  cal->add_option("--prob", cls->prob, "predicted probability field")->required();
  cal->add_option("--outcome", cls->outcome, "0/1 outcome field")->required();
  cal->add_option("--bins", cls->bins, "number of bins");
  add_output(cal, out);
  subs.push_back({cal, [=] { return run_calibration(*cls, *out); }});

  auto jm = std::make_shared<std::string>();
  auto* j = app.add_subcommand("judgemark", "recompute Judgemark v1 from a judge-results file");
  j->add_option("--in", *jm, "judgemark_v1_judge_results.json")->required();
  add_output(j, out);
  subs.push_back({j, [=] { return run_judgemark(*jm, *out); }});

  return [subs]() -> int {
    for (const auto& [sub, run] : subs)
      if (sub->parsed()) return run();
    return gavel::cli::fail("meta: no subcommand given (see gavel meta --help)");
  };
}

gavel::cli::Register reg{{"meta",
                          "meta-evaluate judges: separability, correlations, pairwise "
                          "accuracy, bias, F1, calibration, Judgemark",
                          setup}};

}  // namespace
