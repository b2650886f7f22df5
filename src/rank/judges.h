// Ready-made judges for the tournament driver: a seeded simulated judge with known truth and
// biases, a judge over cached pairwise judgments, and a stand-in judge from item scores.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "meta/items.h"
#include "rank/tournament.h"

namespace gavel::rank {

// P(a better) = sigmoid(quality_a(p) - quality_b(p) + position_bias
//                       + length_bias * ln(len_a(p) / len_b(p)) + noise),
// quality_w(p) = strength_w + prompt_noise * N(0,1) (fixed per writer x prompt),
// noise = judge_noise * N(0,1) drawn per (a, b, prompt) call, deterministic in the seed, so
// asking the same question twice gives the same answer (like a cached judge).
struct SimulatedJudgeConfig {
  std::vector<double> strength;  // true strengths (natural-log odds units)
  int n_prompts = 1;
  double prompt_noise = 0.0;
  double judge_noise = 0.0;
  double position_bias = 0.0;
  double length_bias = 0.0;
  std::vector<std::vector<double>> length;  // [writer][prompt]; empty = all equal
  uint64_t seed = 7;
};

class SimulatedJudge {
 public:
  explicit SimulatedJudge(SimulatedJudgeConfig cfg);
  Result<double> operator()(const Match& m) const;
  double quality(int writer, int prompt) const;
  double length(int writer, int prompt) const;

 private:
  SimulatedJudgeConfig cfg_;
  std::vector<std::vector<double>> quality_;
};

// Response lengths for a simulation: ln length = ln 1000 + writer effect + writer x prompt
// effect, both N(0, spread^2) (seeded), so writers differ in how long they write.
std::vector<std::vector<double>> random_lengths(int n_writers, int n_prompts, double spread,
                                                uint64_t seed);

// Judgments looked up by (prompt, a, b); a missing question is an error naming it. With
// `symmetric`, a missing (b, a) is answered 1 - p(a, b).
class CachedJudge {
 public:
  explicit CachedJudge(bool symmetric = true) : symmetric_(symmetric) {}
  void add(int prompt, int a, int b, double p);
  Result<double> operator()(const Match& m) const;
  size_t size() const { return table_.size(); }

 private:
  static uint64_t key(int prompt, int a, int b);
  bool symmetric_;
  std::unordered_map<uint64_t, double> table_;
};

// Dense cache [prompt][a][b] for benchmarks and stand-in judges.
class DenseJudge {
 public:
  DenseJudge(int n_writers, int n_prompts);
  void set(int prompt, int a, int b, double p) { p_[index(prompt, a, b)] = p; }
  double get(int prompt, int a, int b) const { return p_[index(prompt, a, b)]; }
  Result<double> operator()(const Match& m) const;

 private:
  size_t index(int prompt, int a, int b) const {
    return (static_cast<size_t>(prompt) * n_ + a) * n_ + b;
  }
  int n_, prompts_;
  std::vector<double> p_;
};

// Stand-in judge from item scores: P(a better on p) = 1 / (1 + exp(-(s_a(p) - s_b(p)) / tau)),
// s_w(p) = writer w's mean item score on prompt p. Writers missing a prompt make it an error.
Result<DenseJudge> score_difference_judge(const std::vector<std::vector<double>>& score,
                                          double tau);

// The stand-in judge over a file of scored items: the items (a group's prompts without a
// score take its mean over the others, meta::fill_missing_with_group_means, so every pair can
// be judged on every prompt) and score_difference_judge over their mean scores.
struct StandInJudge {
  meta::ItemData items;
  DenseJudge judge{0, 0};
};
Result<StandInJudge> stand_in_judge(const std::string& path, const meta::ItemFields& fields,
                                    double tau);

}  // namespace gavel::rank
