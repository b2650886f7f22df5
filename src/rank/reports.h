// The reports of `gavel rank`: each reads its input file, runs the computation and returns
// the figures as JSON and tables (meta::Report), ready to print.
//   fit_report         Bradley-Terry (bootstrap CI) and sequential Elo from pairwise judgments
//   tournament_report  Swiss / Option A / Option B over scored items with a stand-in judge,
//                      optionally compared with a published leaderboard
//   curve_report       convergence of random / Swiss / adaptive pairing to the round robin
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gavel/status.h"
#include "meta/items.h"
#include "meta/report.h"
#include "rank/data.h"
#include "rank/elo.h"
#include "rank/tournament.h"

namespace gavel::rank {

struct FitReportConfig {
  std::string in;  // JSONL of pairwise judgments
  PairwiseFields fields;
  BtConfig bt;
  EloConfig elo;
  int bootstrap = 200;
  uint64_t seed = 42;
  double level = 0.95;
};
Result<meta::Report> fit_report(const FitReportConfig& cfg);

enum class TournamentMode { kSwiss, kOptionA, kOptionB };
// "swiss", "option-a", "option-b".
Result<TournamentMode> parse_tournament_mode(std::string_view name);
std::string_view name(TournamentMode mode);
// Rounds per tournament when none are given: Swiss 20, Option A 5 (one tournament per
// prompt), Option B 20.
int default_rounds(TournamentMode mode);
// "elo", "bt".
Result<RatingMethod> parse_rating_method(std::string_view name);
std::string_view name(RatingMethod method);

struct TournamentReportConfig {
  std::string in;  // JSONL of scored items
  meta::ItemFields fields;
  double tau = 5.0;  // stand-in judge temperature
  TournamentMode mode = TournamentMode::kSwiss;
  RatingMethod rating = RatingMethod::kElo;
  int rounds = 0;       // 0: default_rounds(mode)
  int iterations = 10;  // Option B bootstrap iterations
  int ci_bootstrap = 1000;
  bool both_orders = false;
  bool until_stable = false;  // StopRule: end a tournament once its rank intervals settle
  uint64_t seed = 42;
  EloConfig elo;
  // Optional published leaderboard to compare the ratings with.
  std::string leaderboard, leaderboard_name = "model_name", leaderboard_value = "elo_score";
};
Result<meta::Report> tournament_report(const TournamentReportConfig& cfg);

struct CurveReportConfig {
  // Scored items with a stand-in judge, or (in empty) `simulate` writers.
  std::string in;
  meta::ItemFields fields;
  double tau = 5.0;
  int simulate = 0, sim_prompts = 8;
  double sim_spread = 1.5, sim_noise = 0.5, sim_prompt_noise = 0.5;
  // The simulated judge's biases: a logit bonus for position 1, and length_bias x ln(len_a /
  // len_b) with lengths from random_lengths(spread).
  double sim_position_bias = 0, sim_length_bias = 0, sim_length_spread = 0.3;
  std::vector<Pairing> schemes;   // empty: random, swiss, adaptive
  bool both_orders = false;       // every match judged in both orientations
  bool balanced_prompts = false;  // PromptDraw::kBalanced
  bool own_rating = false;        // each scheme read with default_rating() instead of BT
  bool until_stable = false;      // also run each scheme to its --until-stable stop
  int rounds = 20, seeds = 5;
  std::vector<int> report;  // rounds to print (empty: all)
  uint64_t seed = 1;
  std::function<void(int64_t done, int64_t total)> on_progress;  // see CurveConfig
};

// The most writers `curve --simulate` takes: the round robin and every Bradley-Terry fit
// (a dense Newton step, cubic in the writers) grow past minutes beyond it.
inline constexpr int kMaxSimulatedWriters = 1000;
Result<meta::Report> curve_report(const CurveReportConfig& cfg);

}  // namespace gavel::rank
