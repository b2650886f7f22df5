// Agreement of a judge's discrete verdicts with gold labels (accuracy, per-class and macro
// F1) and calibration of its probabilities (ECE, Brier).
#pragma once

#include <string>
#include <vector>

#include "gavel/status.h"

namespace gavel::meta {

struct ClassScores {
  std::string label;
  int support = 0;  // gold count
  int predicted = 0;
  double precision = 0, recall = 0, f1 = 0;  // 0 when undefined (sklearn zero_division=0)
};

struct Classification {
  int n = 0;
  double accuracy = 0;
  double macro_f1 = 0;               // unweighted mean over the union of gold and predicted labels
  std::vector<ClassScores> classes;  // sorted by label
};

Result<Classification> classification(const std::vector<std::string>& gold,
                                      const std::vector<std::string>& predicted);

struct Calibration {
  int n = 0;
  int bins = 0;
  double ece = 0;    // sum_b (n_b / n) |mean(y in b) - mean(p in b)|
  double brier = 0;  // mean (p - y)^2
  std::vector<int> bin_count;
  std::vector<double> bin_confidence, bin_accuracy;
};

// More bins than this leave nearly all of them empty; the bound keeps a typo such as 1e9 bins
// from allocating gigabytes.
inline constexpr int kMaxCalibrationBins = 10000;

// Binary calibration: p = predicted probability of the positive outcome, y in {0,1}.
// Equal-width bins over [0,1]; bin b holds p in [b/B, (b+1)/B), the last bin includes 1.
Result<Calibration> calibration(const std::vector<double>& p, const std::vector<double>& y,
                                int bins = 10);

}  // namespace gavel::meta
