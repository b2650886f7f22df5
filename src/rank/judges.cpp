#include "rank/judges.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "core/random.h"

namespace gavel::rank {

namespace {

double gaussian(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  return n(rng);
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

SimulatedJudge::SimulatedJudge(SimulatedJudgeConfig cfg) : cfg_(std::move(cfg)) {
  const int w = static_cast<int>(cfg_.strength.size());
  quality_.assign(w, std::vector<double>(std::max(1, cfg_.n_prompts)));
  for (int i = 0; i < w; ++i)
    for (int p = 0; p < std::max(1, cfg_.n_prompts); ++p)
      quality_[i][p] =
          cfg_.strength[i] +
          cfg_.prompt_noise * gaussian(splitmix64(cfg_.seed ^ splitmix64(i * 7919ULL + p)));
}

double SimulatedJudge::quality(int writer, int prompt) const {
  return quality_[writer][prompt < 0 ? 0 : prompt];
}

double SimulatedJudge::length(int writer, int prompt) const {
  if (cfg_.length.empty()) return 1.0;
  return cfg_.length[writer][prompt < 0 ? 0 : prompt];
}

Result<double> SimulatedJudge::operator()(const Match& m) const {
  const int w = static_cast<int>(quality_.size());
  if (m.a < 0 || m.a >= w || m.b < 0 || m.b >= w)
    return Error{fmt::format("simulated judge: player {} or {} out of range", m.a, m.b)};
  if (m.prompt >= static_cast<int>(quality_[0].size()))
    return Error{fmt::format("simulated judge: prompt {} out of range", m.prompt)};
  double x = quality(m.a, m.prompt) - quality(m.b, m.prompt) + cfg_.position_bias;
  if (cfg_.length_bias != 0)
    x += cfg_.length_bias * std::log(length(m.a, m.prompt) / length(m.b, m.prompt));
  if (cfg_.judge_noise > 0) {
    uint64_t k = splitmix64(cfg_.seed * 31 + static_cast<uint64_t>(m.a) * 1000003ULL +
                            static_cast<uint64_t>(m.b) * 7919ULL +
                            static_cast<uint64_t>(m.prompt + 1) * 104729ULL);
    x += cfg_.judge_noise * gaussian(k);
  }
  return sigmoid(x);
}

std::vector<std::vector<double>> random_lengths(int n_writers, int n_prompts, double spread,
                                                uint64_t seed) {
  std::vector<std::vector<double>> len(n_writers, std::vector<double>(std::max(1, n_prompts)));
  for (int w = 0; w < n_writers; ++w) {
    double writer = spread * gaussian(splitmix64(seed ^ splitmix64(0xABCDULL + w)));
    for (int p = 0; p < std::max(1, n_prompts); ++p)
      len[w][p] =
          1000 * std::exp(writer + spread * gaussian(splitmix64(seed ^ splitmix64(w * 7919ULL + p +
                                                                                  0x1234567ULL))));
  }
  return len;
}

uint64_t CachedJudge::key(int prompt, int a, int b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(prompt + 1)) << 40) ^
         (static_cast<uint64_t>(a) << 20) ^ static_cast<uint64_t>(b);
}

void CachedJudge::add(int prompt, int a, int b, double p) { table_[key(prompt, a, b)] = p; }

Result<double> CachedJudge::operator()(const Match& m) const {
  auto it = table_.find(key(m.prompt, m.a, m.b));
  if (it != table_.end()) return it->second;
  if (symmetric_) {
    it = table_.find(key(m.prompt, m.b, m.a));
    if (it != table_.end()) return 1 - it->second;
  }
  return Error{
      fmt::format("no cached judgment for players {} vs {} on prompt {}", m.a, m.b, m.prompt)};
}

DenseJudge::DenseJudge(int n_writers, int n_prompts)
    : n_(n_writers),
      prompts_(n_prompts),
      p_(static_cast<size_t>(n_writers) * n_writers * n_prompts, 0.5) {}

Result<double> DenseJudge::operator()(const Match& m) const {
  if (m.a < 0 || m.a >= n_ || m.b < 0 || m.b >= n_ || m.prompt < 0 || m.prompt >= prompts_)
    return Error{fmt::format("dense judge: no judgment for players {} vs {} on prompt {}", m.a, m.b,
                             m.prompt)};
  return get(m.prompt, m.a, m.b);
}

Result<DenseJudge> score_difference_judge(const std::vector<std::vector<double>>& score,
                                          double tau) {
  if (!(tau > 0)) return Error{"score judge: tau must be > 0"};
  const int w = static_cast<int>(score.size());
  if (w < 2) return Error{"score judge: needs >= 2 writers"};
  const int np = static_cast<int>(score[0].size());
  DenseJudge j(w, np);
  for (int i = 0; i < w; ++i) {
    if (static_cast<int>(score[i].size()) != np)
      return Error{fmt::format("score judge: writer {} has {} prompts, expected {}", i,
                               score[i].size(), np)};
    for (int p = 0; p < np; ++p)
      if (!std::isfinite(score[i][p]))
        return Error{fmt::format("score judge: writer {} has no score on prompt {}", i, p)};
  }
  for (int p = 0; p < np; ++p)
    for (int a = 0; a < w; ++a)
      for (int b = 0; b < w; ++b) j.set(p, a, b, sigmoid((score[a][p] - score[b][p]) / tau));
  return j;
}

Result<StandInJudge> stand_in_judge(const std::string& path, const meta::ItemFields& fields,
                                    double tau) {
  GAVEL_ASSIGN(meta::ItemData items, meta::load_items(path, fields));
  meta::fill_missing_with_group_means(items);
  GAVEL_ASSIGN(DenseJudge judge, score_difference_judge(items.mean_value, tau));
  return StandInJudge{std::move(items), std::move(judge)};
}

}  // namespace gavel::rank
