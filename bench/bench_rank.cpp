// Option B over cached judgments: 10 bootstrap iterations x 20-round Swiss tournaments over
// 100 writers x 32 prompts (the model card's setup), judged from a dense cache.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "rank/judges.h"
#include "rank/tournament.h"

namespace {

gavel::rank::DenseJudge make_cache(int writers, int prompts) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> n(0, 1);
  std::vector<std::vector<double>> q(writers, std::vector<double>(prompts));
  for (int w = 0; w < writers; ++w)
    for (int p = 0; p < prompts; ++p) q[w][p] = 0.03 * w + 0.5 * n(rng);
  gavel::rank::DenseJudge j(writers, prompts);
  for (int p = 0; p < prompts; ++p)
    for (int a = 0; a < writers; ++a)
      for (int b = 0; b < writers; ++b) j.set(p, a, b, 1 / (1 + std::exp(q[b][p] - q[a][p])));
  return j;
}

void BM_OptionB_10x20_100w_32p(benchmark::State& state) {
  auto cache = make_cache(100, 32);
  gavel::rank::TournamentConfig cfg;
  cfg.rounds = 20;
  cfg.both_orders = state.range(0) != 0;
  for (auto _ : state) {
    auto r = gavel::rank::option_b(100, 32, 10, cfg, std::cref(cache), /*ci_bootstrap=*/0);
    if (!r.ok()) state.SkipWithError(r.message().c_str());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_OptionB_10x20_100w_32p)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_OptionA_5rounds_100w_32p(benchmark::State& state) {
  auto cache = make_cache(100, 32);
  gavel::rank::TournamentConfig cfg;
  cfg.rounds = 5;
  for (auto _ : state) {
    auto r = gavel::rank::option_a(100, 32, cfg, std::cref(cache), /*ci_bootstrap=*/0);
    if (!r.ok()) state.SkipWithError(r.message().c_str());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_OptionA_5rounds_100w_32p)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
