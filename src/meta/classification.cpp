#include "meta/classification.h"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "core/checks.h"

namespace gavel::meta {

Result<Classification> classification(const std::vector<std::string>& gold,
                                      const std::vector<std::string>& predicted) {
  if (gold.size() != predicted.size())
    return Error{fmt::format("classification: {} gold labels but {} predictions", gold.size(),
                             predicted.size())};
  if (gold.empty()) return Error{"classification: no items"};
  struct Counts {
    int tp = 0, gold = 0, pred = 0;
  };
  std::map<std::string, Counts> counts;
  Classification c;
  c.n = static_cast<int>(gold.size());
  int correct = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    ++counts[gold[i]].gold;
    ++counts[predicted[i]].pred;
    if (gold[i] == predicted[i]) {
      ++counts[gold[i]].tp;
      ++correct;
    }
  }
  c.accuracy = static_cast<double>(correct) / c.n;
  for (auto& [label, k] : counts) {
    ClassScores s;
    s.label = label;
    s.support = k.gold;
    s.predicted = k.pred;
    s.precision = k.pred ? static_cast<double>(k.tp) / k.pred : 0.0;
    s.recall = k.gold ? static_cast<double>(k.tp) / k.gold : 0.0;
    // F1 = 2 tp / (2 tp + fp + fn) = 2 tp / (pred + gold).
    s.f1 = (k.pred + k.gold) ? 2.0 * k.tp / (k.pred + k.gold) : 0.0;
    c.macro_f1 += s.f1;
    c.classes.push_back(s);
  }
  c.macro_f1 /= static_cast<double>(c.classes.size());
  return c;
}

Result<Calibration> calibration(const std::vector<double>& p, const std::vector<double>& y,
                                int bins) {
  if (p.size() != y.size())
    return Error{fmt::format("calibration: {} probabilities but {} outcomes", p.size(), y.size())};
  if (p.empty()) return Error{"calibration: no items"};
  GAVEL_TRY(check_count("bins", bins, 1, kMaxCalibrationBins));
  Calibration c;
  c.n = static_cast<int>(p.size());
  c.bins = bins;
  c.bin_count.assign(bins, 0);
  c.bin_confidence.assign(bins, 0);
  c.bin_accuracy.assign(bins, 0);
  for (size_t i = 0; i < p.size(); ++i) {
    if (!(p[i] >= 0 && p[i] <= 1))
      return Error{fmt::format("calibration: probability {} at index {} outside [0,1]", p[i], i)};
    if (y[i] != 0 && y[i] != 1)
      return Error{fmt::format("calibration: outcome {} at index {} is not 0 or 1", y[i], i)};
    int b = std::min(static_cast<int>(std::floor(p[i] * bins)), bins - 1);
    ++c.bin_count[b];
    c.bin_confidence[b] += p[i];
    c.bin_accuracy[b] += y[i];
    c.brier += (p[i] - y[i]) * (p[i] - y[i]);
  }
  c.brier /= c.n;
  for (int b = 0; b < bins; ++b) {
    if (!c.bin_count[b]) continue;
    c.bin_confidence[b] /= c.bin_count[b];
    c.bin_accuracy[b] /= c.bin_count[b];
    c.ece += static_cast<double>(c.bin_count[b]) / c.n *
             std::fabs(c.bin_accuracy[b] - c.bin_confidence[b]);
  }
  return c;
}

}  // namespace gavel::meta
