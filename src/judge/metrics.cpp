#include "judge/metrics.h"

#include <algorithm>

#include "meta/correlation.h"
#include "meta/report.h"

namespace gavel::judge {

void UnscoredLabels::add(const nlohmann::json& label) {
  ++n_;
  if (values_.size() < 10 && std::find(values_.begin(), values_.end(), label) == values_.end())
    values_.push_back(label);
}

void UnscoredLabels::report_into(nlohmann::json& metrics) const {
  if (n_ > 0) metrics["labels_not_scored"] = {{"count", n_}, {"values", values_}};
}
namespace {

using Json = nlohmann::json;

std::optional<meta::Choice> choice(std::optional<bool> text1) {
  if (!text1) return std::nullopt;
  return *text1 ? meta::Choice::kText1 : meta::Choice::kText2;
}

// A coefficient of `fn` (meta::pearson / meta::spearman), null where it is undefined (fewer
// than two values, a constant series).
template <class Fn>
Json coefficient(Fn fn, const std::vector<double>& x, const std::vector<double>& y) {
  auto c = fn(x, y, 0.95);
  return c.ok() ? meta::json_number(c->r) : Json(nullptr);
}

}  // namespace

void PairwiseTally::add(bool gold_text1, std::optional<double> p_text1,
                        std::optional<bool> order1_text1, std::optional<bool> order2_text1) {
  tally_.add(gold_text1, p_text1, choice(order1_text1), choice(order2_text1));
}

Json PairwiseTally::report() const {
  const meta::Agreement a = tally_.result();
  return {{"n_labelled", a.n},
          {"n_scored", a.n_scored},
          {"accuracy", meta::json_number(a.accuracy)},
          {"mean_target_probability", meta::json_number(a.mean_target)},
          {"accuracy_first_order", meta::json_number(a.accuracy_first_order)},
          {"n_both_orders", a.n_both_orders},
          {"strict_accuracy_both_orders", meta::json_number(a.strict_accuracy)},
          {"positional_consistency", meta::json_number(a.positional_consistency)}};
}

void ScoreTally::add(double gold, std::optional<double> parsed, std::optional<double> expected) {
  ++n_;
  if (parsed) gold_parsed_.push_back(gold), parsed_.push_back(*parsed);
  if (expected) gold_expected_.push_back(gold), expected_.push_back(*expected);
}

Json ScoreTally::report() const {
  return {{"n_labelled", n_},
          {"n_valid", parsed_.size()},
          {"pearson", coefficient(meta::pearson, parsed_, gold_parsed_)},
          {"spearman", coefficient(meta::spearman, parsed_, gold_parsed_)},
          {"n_expected", expected_.size()},
          {"pearson_expected", coefficient(meta::pearson, expected_, gold_expected_)},
          {"spearman_expected", coefficient(meta::spearman, expected_, gold_expected_)}};
}

}  // namespace gavel::judge
