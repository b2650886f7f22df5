#include "report/report_model.h"

#include <fmt/format.h>

#include <cmath>
#include <deque>
#include <filesystem>

#include "core/io.h"
#include "judge/items.h"
#include "judge/judge_protocol.h"
#include "meta/classification.h"
#include "meta/judge_metrics.h"
#include "report/dashboard.h"

namespace gavel::report {

using Json = nlohmann::json;

namespace {

Json parse_or_null(const std::string& text) {
  if (text.empty()) return nullptr;
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? Json(nullptr) : j;
}

Json num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

// Unicode code points of UTF-8 text (continuation bytes not counted).
double chars(const std::string& s) {
  double n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The card's verdict reading for pairwise-logprob records (the protocol owns the format).
const judge::JudgeProtocol& pairwise_reader() {
  static const auto p = judge::make_pairwise_logprob_protocol({}, BackendInfo{}, nullptr,
                                                              judge::FieldMap::defaults());
  return *p;
}

// A pairwise-logprob run's meta-evaluation over its items' stored judgments.
Result<Json> pairwise_meta(store::Store& store, const store::Run& run, int bins) {
  std::vector<meta::PairJudgment> labelled;
  std::vector<meta::MatchRecord> records;
  std::vector<double> cal_p, cal_y;
  int64_t items = 0, missing = 0;
  GAVEL_TRY(store.for_each_run_item(run.id, [&](const store::RunItem& it) -> Status {
    ++items;
    const Json keys = parse_or_null(it.keys), item = parse_or_null(it.item);
    if (!keys.is_array() || keys.empty() || !item.is_object()) return Status::Ok();
    // The visitor runs under the store's lock; get() takes it again (recursive).
    auto rec = store.get(keys[0].get<std::string>());
    if (!rec.ok()) return rec.status();
    if (!*rec) {
      ++missing;
      return Status::Ok();
    }
    auto v = pairwise_reader().pair_verdict(parse_or_null(**rec));
    if (!v.ok() || !v->p_text1 || v->passes.size() != 2) return Status::Ok();
    const double p1 = v->passes[0].p_a.value_or(0.5), p2 = v->passes[1].p_a.value_or(0.5);
    const double len1 = chars(item.value("A", "")), len2 = chars(item.value("B", ""));
    const long long pair = static_cast<long long>(records.size() / 2);
    records.push_back({int(2 * pair), int(2 * pair + 1), p1, len1, len2, pair});
    records.push_back({int(2 * pair + 1), int(2 * pair), p2, len2, len1, pair});
    const auto label = item.contains("label") ? judge::label_text(item["label"]) : std::nullopt;
    if (label == "A" || label == "B") {
      const bool text1 = *label == "A";
      labelled.push_back({text1 ? 1.0 : 0.0, text1 ? 0.0 : 1.0, len1, len2, p1, p2});
      cal_p.push_back(*v->p_text1);
      cal_y.push_back(text1 ? 1.0 : 0.0);
    }
    return Status::Ok();
  }));
  Json out = {{"run", run.id},
              {"name", run.name},
              {"items", items},
              {"pairs", records.size() / 2},
              {"labelled", labelled.size()},
              {"missing_judgments", missing}};
  if (!labelled.empty()) {
    GAVEL_ASSIGN(auto m, meta::pairwise_metrics(labelled, {}));
    out["accuracy"] = {{"strict", num(m.strict_accuracy)},
                       {"soft", num(m.soft_accuracy)},
                       {"positional_consistency", num(m.positional_consistency)},
                       {"mean_target_mass", num(m.mean_target_mass)}};
    GAVEL_ASSIGN(auto c, meta::calibration(cal_p, cal_y, bins));
    Json b = Json::array();
    for (int i = 0; i < c.bins; ++i)
      if (c.bin_count[size_t(i)] > 0)
        b.push_back({{"lo", double(i) / c.bins},
                     {"hi", double(i + 1) / c.bins},
                     {"n", c.bin_count[size_t(i)]},
                     {"confidence", num(c.bin_confidence[size_t(i)])},
                     {"accuracy", num(c.bin_accuracy[size_t(i)])}});
    out["calibration"] = {{"ece", num(c.ece)}, {"brier", num(c.brier)}, {"bins", b}};
  }
  if (!records.empty()) {
    GAVEL_ASSIGN(auto b, meta::bias_report(records));
    out["bias"] = bias_view(b);
  }
  return out;
}

}  // namespace

Json bias_view(const meta::BiasReport& b) {
  return {{"position1_mean_prob", num(b.position1_mean_prob)},
          {"position2_mean_prob", num(b.position2_mean_prob)},
          {"position1_win_rate", num(b.position1_win_rate)},
          {"position_skew", num(b.position_skew)},
          {"length_n", b.length_n},
          {"longer_win_rate", num(b.longer_win_rate)},
          {"longer_ev_margin", num(b.longer_ev_margin)},
          {"swap_flip_rate", num(b.swap_flip_rate)}};
}

Result<Json> build_report(store::Store& store, const ReportOptions& o) {
  GAVEL_ASSIGN(int64_t total, store.count());
  GAVEL_ASSIGN(auto runs, store.runs());
  Json jruns = Json::array(), metas = Json::array(), tournaments = Json::array();
  for (const store::Run& r : runs) {
    const Json config = parse_or_null(r.config), summary = parse_or_null(r.summary);
    Json row = {{"id", r.id},
                {"kind", r.kind},
                {"name", r.name},
                {"status", r.status},
                {"created_at", r.created_at},
                {"updated_at", r.updated_at},
                {"protocol", config.is_object() ? config.value("protocol", "") : ""},
                {"model", config.is_object() ? config.value("model", "") : ""},
                {"summary", summary}};
    jruns.push_back(row);
    if (r.kind == "tournament") {
      tournaments.push_back({{"id", r.id},
                             {"name", r.name},
                             {"status", r.status},
                             {"created_at", r.created_at},
                             {"result", summary}});
    } else if (row["protocol"] == "pairwise-logprob") {
      GAVEL_ASSIGN(Json m, pairwise_meta(store, r, o.calibration_bins));
      if (m["pairs"].get<size_t>() > 0) metas.push_back(std::move(m));
    }
  }
  // The newest judgments, for the one-judgment view.
  std::deque<Json> recent;
  GAVEL_TRY(store.for_each([&](const store::Judgment& j) -> Status {
    recent.push_back({{"key", j.key},
                      {"protocol", j.protocol},
                      {"model", j.model},
                      {"item_id", j.item_id},
                      {"created_at", j.created_at},
                      {"record", parse_or_null(j.record)}});
    if (int(recent.size()) > o.recent_judgments) recent.pop_front();
    return Status::Ok();
  }));
  Json judgments = Json::array();
  for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
    GAVEL_ASSIGN(auto p, store.prompts((*it)["key"].get<std::string>()));
    (*it)["prompts"] = p ? parse_or_null(*p) : Json(nullptr);
    judgments.push_back(std::move(*it));
  }
  return Json{{"store", store.path()}, {"judgment_count", total},    {"runs", jruns},
              {"meta", metas},         {"tournaments", tournaments}, {"judgments", judgments}};
}

Status write_report(const std::string& store_path, const std::string& out,
                    const ReportOptions& options) {
  if (!std::filesystem::exists(store_path))
    return Error{fmt::format("{}: no such store", store_path), StatusCode::kNotFound};
  GAVEL_ASSIGN(auto store, store::Store::open(store_path, store::Access::kReadOnly));
  GAVEL_ASSIGN(Json data, build_report(*store, options));
  return write_file_atomic(out, dashboard_with_data(data));
}

Result<std::optional<Json>> judgment_view(store::Store& store, std::string_view key) {
  GAVEL_ASSIGN(auto rec, store.get(key));
  if (!rec) return std::optional<Json>();
  GAVEL_ASSIGN(auto p, store.prompts(key));
  return std::optional<Json>(Json{{"key", key},
                                  {"record", parse_or_null(*rec)},
                                  {"prompts", p ? parse_or_null(*p) : Json(nullptr)}});
}

}  // namespace gavel::report
