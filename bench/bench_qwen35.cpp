// Qwen3.5: the delta rule at Qwen3.5-4B shapes (16 K heads, 32 V heads, d 128), recurrent vs
// chunked, and whole-model prefill / decode on a 4B-shaped GGUF when GAVEL_QWEN35_4B names one
// (tools/make_tiny_qwen35.py --which 4b). Threads: GAVEL_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "engine/engine.h"
#include "model/delta_net.h"

namespace {

namespace dn = gavel::model::delta_net;

dn::Shape shape_4b() {
  dn::Shape s;
  s.n_k_heads = 16;
  s.n_v_heads = 32;
  s.d_k = s.d_v = 128;
  s.conv_kernel = 4;
  return s;
}

struct RuleData {
  std::vector<float> qkv, g, beta, state, out;
  dn::RuleInputs in;
  RuleData(const dn::Shape& s, int T) {
    std::mt19937 rng(1);
    std::normal_distribution<float> nd;
    qkv.resize(size_t(T) * s.conv_channels());
    for (auto& x : qkv) x = nd(rng);
    for (int t = 0; t < T; ++t)
      for (int h = 0; h < 2 * s.n_k_heads; ++h)
        dn::l2_normalize(qkv.data() + size_t(t) * s.conv_channels() + size_t(h) * s.d_k, s.d_k,
                         1e-6f);
    g.assign(size_t(T) * s.n_v_heads, -0.05f);
    beta.assign(g.size(), 0.5f);
    state.assign(s.ssm_state_floats(), 0.0f);
    out.resize(size_t(T) * s.value_dim());
    in.q = qkv.data();
    in.k = qkv.data() + s.key_dim();
    in.v = qkv.data() + 2 * s.key_dim();
    in.g = g.data();
    in.beta = beta.data();
    in.n_tokens = T;
    in.qkv_stride = s.conv_channels();
    in.gate_stride = s.n_v_heads;
  }
};

// One layer's delta rule over all 32 V heads, single thread.
void BM_DeltaRuleRecurrent(benchmark::State& state) {
  const auto s = shape_4b();
  RuleData d(s, int(state.range(0)));
  for (auto _ : state)
    dn::delta_rule_recurrent(s, d.in, d.state.data(), d.out.data(), s.value_dim(), 0,
                             s.n_v_heads);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DeltaRuleRecurrent)->Arg(1)->Arg(64)->Arg(512);

void BM_DeltaRuleChunked(benchmark::State& state) {
  const auto s = shape_4b();
  RuleData d(s, int(state.range(0)));
  for (auto _ : state)
    dn::delta_rule_chunked(s, d.in, d.state.data(), d.out.data(), s.value_dim(), 0, s.n_v_heads);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DeltaRuleChunked)->Arg(64)->Arg(512);

int threads() {
  const char* t = std::getenv("GAVEL_BENCH_THREADS");
  return t ? std::atoi(t) : 2;
}

// Prefill of range(0) tokens from an empty sequence, next-token logits only.
void BM_Qwen35Prefill(benchmark::State& state) {
  const char* path = std::getenv("GAVEL_QWEN35_4B");
  if (!path) {
    state.SkipWithError("set GAVEL_QWEN35_4B to a qwen35 GGUF");
    return;
  }
  auto m = gavel::engine::load_model(path, {threads(), 4096});
  if (!m.ok()) {
    state.SkipWithError(m.message().c_str());
    return;
  }
  const int n = int(state.range(0));
  std::vector<int32_t> toks(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) toks[size_t(i)] = 1000 + (i * 7919) % 100000;
  const int last = n - 1;
  for (auto _ : state) {
    auto seq = (*m)->new_sequence();
    auto r = (*m)->eval(*seq, toks, std::span<const int>(&last, 1));
    if (!r.ok()) state.SkipWithError(r.message().c_str());
  }
  state.counters["tok/s"] =
      benchmark::Counter(double(n) * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Qwen35Prefill)->Arg(128)->Arg(512)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
