// Decoding: one engine step for B sequences at once (engine::LoadedModel::eval_decode) against
// B one-token evals, on the GGUF named by GAVEL_BENCH_MODEL, each sequence after a prompt of
// 256 tokens. Threads: GAVEL_BENCH_THREADS (default 2). Reports generated tokens per second.
//   GAVEL_BENCH_MODEL=~/.cache/gavel/models/qwen2.5-coder-0.5b-instruct.gguf
//   build/bench/bench_decode
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

#include "engine/engine.h"

namespace {

using gavel::engine::LoadedModel;
using gavel::engine::Sequence;

LoadedModel* model() {
  static std::unique_ptr<LoadedModel> m = [] {
    const char* path = std::getenv("GAVEL_BENCH_MODEL");
    const char* threads = std::getenv("GAVEL_BENCH_THREADS");
    if (!path) return std::unique_ptr<LoadedModel>();
    auto r = gavel::engine::load_model(path, {threads ? std::atoi(threads) : 2, 8192});
    return r.ok() ? std::move(r).value() : std::unique_ptr<LoadedModel>();
  }();
  return m.get();
}

// B sequences holding the same 256-token prompt.
std::vector<std::unique_ptr<Sequence>> prompts(LoadedModel& m, int b) {
  std::vector<int32_t> ids;
  for (int i = 0; i < 256; ++i) ids.push_back(1000 + (i * 7919) % 20000);
  auto first = m.new_sequence();
  (void)m.eval(*first, ids, {});
  std::vector<std::unique_ptr<Sequence>> seqs;
  for (int i = 0; i < b; ++i) seqs.push_back(first->clone());
  return seqs;
}

void run(benchmark::State& state, bool together) {
  LoadedModel* m = model();
  if (!m) {
    state.SkipWithError("set GAVEL_BENCH_MODEL to a GGUF the engine runs");
    return;
  }
  const int b = int(state.range(0));
  // Made once per batch size (Google Benchmark calls this function several times).
  static std::map<int, std::vector<std::unique_ptr<Sequence>>> made;
  if (!made.count(b)) made[b] = prompts(*m, b);
  auto& seqs = made[b];
  std::vector<Sequence*> ptrs;
  for (auto& s : seqs) ptrs.push_back(s.get());
  std::vector<int32_t> toks(size_t(b), 1234);
  const int zero = 0;
  for (auto _ : state) {
    if (seqs[0]->n_past() + 1 >= m->n_ctx()) {
      state.SkipWithError("context full");
      break;
    }
    if (together) {
      auto r = m->eval_decode(ptrs, toks);
      benchmark::DoNotOptimize(r);
    } else {
      for (Sequence* s : ptrs) {
        auto r = m->eval(*s, std::span(&toks[0], 1), std::span(&zero, 1));
        benchmark::DoNotOptimize(r);
      }
    }
  }
  state.counters["tokens/s"] =
      benchmark::Counter(double(state.iterations()) * b, benchmark::Counter::kIsRate);
}

void BM_DecodeTogether(benchmark::State& state) { run(state, true); }
void BM_DecodeOneByOne(benchmark::State& state) { run(state, false); }

}  // namespace

BENCHMARK(BM_DecodeOneByOne)->Arg(1)->Arg(8)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeTogether)->Arg(8)->Arg(16)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
