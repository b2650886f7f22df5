// Test driver for tests/python/test_stats_reference.py: reads a JSON array of requests on
// stdin ({"op": ..., args}), writes a JSON array of results (or {"error": msg}) on stdout.
// Lets the reference test compare every statistic with scipy/choix in one process call.
#include <cmath>
#include <iostream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "meta/classification.h"
#include "meta/correlation.h"
#include "meta/judge_metrics.h"
#include "meta/judgemark.h"
#include "meta/report.h"
#include "meta/separability.h"
#include "rank/elo.h"

using nlohmann::json;
using namespace gavel;

namespace {

json num(double v) { return meta::json_number(v); }

json corr(const Result<meta::Correlation>& c) {
  if (!c.ok()) return {{"error", c.message()}};
  return {{"r", num(c->r)},
          {"p", num(c->p)},
          {"ci_low", num(c->ci_low)},
          {"ci_high", num(c->ci_high)},
          {"n", c->n}};
}

std::vector<rank::Outcome> outcomes(const json& q) {
  std::vector<rank::Outcome> out;
  for (const auto& o : q.at("outcomes"))
    out.push_back({o.at(0).get<int>(), o.at(1).get<int>(), o.at(2).get<double>(),
                   o.size() > 3 ? o.at(3).get<double>() : 1.0});
  return out;
}

json run(const json& q) {
  const std::string op = q.at("op");
  double level = q.value("level", 0.95);
  if (op == "pearson") return corr(meta::pearson(q.at("x"), q.at("y"), level));
  if (op == "spearman") return corr(meta::spearman(q.at("x"), q.at("y"), level));
  if (op == "kendall") return corr(meta::kendall_tau_b(q.at("x"), q.at("y"), level));
  if (op == "anova") {
    auto a = meta::one_way_anova(q.at("groups").get<std::vector<std::vector<double>>>());
    if (!a.ok()) return {{"error", a.message()}};
    return {{"f", num(a->f)}, {"p", num(a->p)}, {"omega2", num(a->omega2)}};
  }
  if (op == "cliff") {
    auto g = q.at("groups").get<std::vector<std::vector<double>>>();
    json pairs = json::array();
    for (size_t i = 0; i < g.size(); ++i)
      for (size_t j = i + 1; j < g.size(); ++j) pairs.push_back(meta::cliffs_delta(g[i], g[j]));
    return {{"pairs", pairs}, {"mean_abs", meta::mean_abs_cliffs_delta(g)}};
  }
  if (op == "elo") {
    rank::EloConfig cfg;
    cfg.k = q.value("k", 32.0);
    cfg.initial = q.value("initial", 1500.0);
    auto r = rank::elo_sequential(q.at("n"), outcomes(q), cfg);
    if (!r.ok()) return {{"error", r.message()}};
    return {{"rating", *r}};
  }
  if (op == "bt") {
    rank::BtConfig cfg;
    cfg.alpha = q.at("alpha");
    auto r = rank::bradley_terry(q.at("n"), outcomes(q), cfg);
    if (!r.ok()) return {{"error", r.message()}};
    return {{"theta", r->theta}, {"rating", r->rating}, {"std_error", r->std_error}};
  }
  if (op == "classification") {
    auto c = meta::classification(q.at("gold"), q.at("pred"));
    if (!c.ok()) return {{"error", c.message()}};
    json classes = json::object();
    for (const auto& k : c->classes)
      classes[k.label] = {{"precision", k.precision}, {"recall", k.recall}, {"f1", k.f1}};
    return {{"accuracy", c->accuracy}, {"macro_f1", c->macro_f1}, {"classes", classes}};
  }
  if (op == "calibration") {
    auto c = meta::calibration(q.at("p"), q.at("y"), q.value("bins", 10));
    if (!c.ok()) return {{"error", c.message()}};
    return {{"ece", c->ece}, {"brier", c->brier}};
  }
  if (op == "pairwise") {
    std::vector<meta::PairJudgment> pairs;
    for (const auto& p : q.at("pairs"))
      pairs.push_back({p.at(0), p.at(1), p.at(2), p.at(3), p.at(4), p.at(5)});
    meta::PairFilter f;
    f.max_len_ratio = q.value("max_len_ratio", 0.0);
    f.min_diff = q.value("min_diff", 0.0);
    f.max_diff = q.value("max_diff", 0.0);
    auto m = meta::pairwise_metrics(pairs, f);
    if (!m.ok()) return {{"error", m.message()}};
    return {{"n", m->n},
            {"strict_accuracy", m->strict_accuracy},
            {"positional_consistency", m->positional_consistency},
            {"mean_target_mass", m->mean_target_mass},
            {"mean_non_target_mass", m->mean_non_target_mass}};
  }
  if (op == "bias") {
    std::vector<meta::MatchRecord> recs;
    for (const auto& r : q.at("records"))
      recs.push_back({r.at(0), r.at(1), r.at(2), r.at(3), r.at(4), r.at(5)});
    auto b = meta::bias_report(recs);
    if (!b.ok()) return {{"error", b.message()}};
    return {{"position1_mean_prob", b->position1_mean_prob},
            {"position1_win_rate", b->position1_win_rate},
            {"longer_win_rate", b->longer_win_rate},
            {"longer_ev_margin", b->longer_ev_margin},
            {"swap_flip_rate", b->swap_flip_rate},
            {"swap_pairs", b->swap_pairs}};
  }
  if (op == "judgemark") {
    meta::JudgemarkInput in;
    in.scores = q.at("scores").get<std::vector<double>>();
    for (const auto& [name, vals] : q.at("references").items()) {
      std::vector<double> v;
      for (const auto& x : vals)
        v.push_back(x.is_null() ? std::numeric_limits<double>::quiet_NaN() : x.get<double>());
      in.references[name] = v;
    }
    in.anova_f = q.value("anova_f", -1.0);
    auto r = meta::judgemark_v1(in);
    if (!r.ok()) return {{"error", r.message()}};
    return {{"std_dev", r->std_dev}, {"stats", r->stats}, {"score", r->score}};
  }
  return {{"error", "unknown op " + op}};
}

}  // namespace

int main() {
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  json requests = json::parse(input);
  json out = json::array();
  for (const auto& q : requests) {
    try {
      out.push_back(run(q));
    } catch (const std::exception& e) {
      out.push_back({{"error", std::string("bad request: ") + e.what()}});
    }
  }
  std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  return 0;
}
