// The core's fp32 FMA and int8 multiply-accumulate peaks, and gavel's matmul kernels on one
// thread at the kernel level GAVEL_ISA picks (avx2|avx512, default the best the CPU runs).
// bench/kernel_peak.py runs both levels and prints each kernel's fraction of its level's peak.
//
// peak/*: counter FLOP (fp32, 2 per FMA lane) or MAC (int8 u8 x s8 products), per second.
// matmul/<type>/<rows>x<cols>/<n_tok>: counter MAC = rows * cols * n_tok per call, per second.
// The weights (2-6 MB) stay in L2/L3 across iterations: decode (n_tok=1) rates here are the
// kernels' compute side, not the DRAM-bound rate of a real model's decode.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gguf/fp16.h"
#include "gguf/gguf.h"
#include "tensor/isa.h"
#include "tensor/matmul.h"
#include "tensor/quants.h"

namespace {

namespace gt = gavel::tensor;

// Independent accumulators per loop: more than FMA / VNNI latency (4-5 cycles) x 2 ports, so
// the loop is bound by issue throughput, not by any one chain. In the AVX2 int8 loop only the
// 1-cycle vpaddd is on a chain (the products are independent), and more accumulators than 6
// make GCC spill them to the stack with only 16 ymm registers.
constexpr int kChains = 12;
constexpr int kChainsAvx2Int8 = 6;
constexpr int64_t kSteps = 1 << 14;  // loop steps per benchmark iteration

#define TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TARGET_AVX512 __attribute__((target("avx512f,avx512vnni,avx512vl,avx512bw")))

TARGET_AVX2 float fma256(int64_t steps) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(float(c));
  // acc = acc * a + b converges to b / (1 - a): no overflow, no denormals.
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  for (int64_t i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  __m256 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm256_add_ps(s, acc[c]);
  return _mm256_cvtss_f32(s);
}

TARGET_AVX512 float fma512(int64_t steps) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
  for (int64_t i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, acc[c]);
  return _mm512_cvtss_f32(s);
}

// How AVX2 int8 dots run: vpmaddubsw (32 u8 x s8 products, pairs summed to i16), vpmaddwd by
// ones (pairs to i32), vpaddd into the accumulator.
TARGET_AVX2 int avx2_int8(int64_t steps) {
  __m256i acc[kChainsAvx2Int8];
  for (int c = 0; c < kChainsAvx2Int8; ++c) acc[c] = _mm256_set1_epi32(c);
  __m256i u = _mm256_set1_epi8(3);
  const __m256i s = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChainsAvx2Int8; ++c) {
      // Without this the products are loop-invariant and would be hoisted (or shared by all
      // chains); it emits no instruction.
      __asm__("" : "+x"(u));
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), ones);
      acc[c] = _mm256_add_epi32(acc[c], p);
    }
  }
  __m256i t = acc[0];
  for (int c = 1; c < kChainsAvx2Int8; ++c) t = _mm256_add_epi32(t, acc[c]);
  return _mm256_extract_epi32(t, 0);
}

TARGET_AVX512 int vnni256(int64_t steps) {
  __m256i acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_epi32(c);
  const __m256i u = _mm256_set1_epi8(3), s = _mm256_set1_epi8(-2);
  for (int64_t i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_dpbusd_epi32(acc[c], u, s);
  }
  __m256i t = acc[0];
  for (int c = 1; c < kChains; ++c) t = _mm256_add_epi32(t, acc[c]);
  return _mm256_extract_epi32(t, 0);
}

TARGET_AVX512 int vnni512(int64_t steps) {
  __m512i acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_epi32(c);
  const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
  for (int64_t i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbusd_epi32(acc[c], u, s);
  }
  __m512i t = acc[0];
  for (int c = 1; c < kChains; ++c) t = _mm512_add_epi32(t, acc[c]);
  return _mm512_cvtsi512_si32(t);
}

bool has_avx2() {
  const auto& c = gt::cpu_info();
  return c.avx2 && c.fma && c.os_avx;
}
bool has_avx512f() { return gt::cpu_info().avx512f && gt::cpu_info().os_avx512; }
bool has_vnni512() { return has_avx512f() && gt::cpu_info().avx512vnni; }
bool has_vnni256() { return has_vnni512() && gt::cpu_info().avx512vl; }

template <class Fn>
void register_peak(const char* name, const char* what, bool (*runs)(), Fn fn, int chains,
                   double per_insn, const char* counter) {
  benchmark::RegisterBenchmark(name, [=](benchmark::State& state) {
    if (!runs()) {
      state.SkipWithError((std::string("this CPU (or OS) cannot run ") + what).c_str());
      return;
    }
    for (auto _ : state) benchmark::DoNotOptimize(fn(kSteps));
    state.counters[counter] = benchmark::Counter(
        double(state.iterations()) * kSteps * chains * per_insn, benchmark::Counter::kIsRate);
    state.SetLabel(what);
  });
}

void register_peaks() {
  register_peak("peak/fp32_fma_avx2", "vfmadd ymm (AVX2+FMA)", has_avx2, fma256, kChains, 2 * 8,
                "FLOP");
  register_peak("peak/fp32_fma_avx512", "vfmadd zmm (AVX-512F)", has_avx512f, fma512, kChains,
                2 * 16, "FLOP");
  register_peak("peak/int8_maddubs_avx2", "vpmaddubsw+vpmaddwd+vpaddd ymm (AVX2)", has_avx2,
                avx2_int8, kChainsAvx2Int8, 32, "MAC");
  register_peak("peak/int8_vnni_avx512_256", "vpdpbusd ymm (AVX512VL+VNNI)", has_vnni256, vnni256,
                kChains, 32, "MAC");
  register_peak("peak/int8_vnni_avx512", "vpdpbusd zmm (AVX512-VNNI)", has_vnni512, vnni512,
                kChains, 64, "MAC");
}

// Valid blocks of type t: random quants, and fp16 scales (d, and m / dmin) set to small finite
// values so no dot product overflows or produces NaN.
std::vector<uint8_t> random_weights(gt::TensorType t, int64_t rows, int64_t cols) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<uint8_t> w(gavel::gguf::row_bytes(t, cols) * size_t(rows));
  const auto half = [&](float scale) { return gavel::gguf::fp32_to_fp16(scale * unit(rng)); };
  if (t == gt::TensorType::kF16) {
    auto* h = reinterpret_cast<uint16_t*>(w.data());
    for (size_t i = 0; i < w.size() / 2; ++i) h[i] = half(1.0f);
    return w;
  }
  for (auto& b : w) b = uint8_t(rng() >> 24);
  const size_t n_blocks = size_t(rows * cols / gavel::gguf::block_size(t));
  const auto each = [&](auto* blocks, auto set) {
    for (size_t i = 0; i < n_blocks; ++i) set(blocks[i]);
  };
  using namespace gavel::gguf;
  switch (t) {
    case TensorType::kQ8_0:
      each(reinterpret_cast<BlockQ8_0*>(w.data()), [&](auto& b) { b.d = half(0.01f); });
      break;
    case TensorType::kQ4_0:
      each(reinterpret_cast<BlockQ4_0*>(w.data()), [&](auto& b) { b.d = half(0.01f); });
      break;
    case TensorType::kQ5_0:
      each(reinterpret_cast<BlockQ5_0*>(w.data()), [&](auto& b) { b.d = half(0.01f); });
      break;
    case TensorType::kQ4_1:
      each(reinterpret_cast<BlockQ4_1*>(w.data()), [&](auto& b) {
        b.d = half(0.01f);
        b.m = half(0.1f);
      });
      break;
    case TensorType::kQ4_K:
      each(reinterpret_cast<BlockQ4_K*>(w.data()), [&](auto& b) {
        b.d = half(0.001f);
        b.dmin = half(0.001f);
      });
      break;
    case TensorType::kQ6_K:
      each(reinterpret_cast<BlockQ6_K*>(w.data()), [&](auto& b) { b.d = half(0.001f); });
      break;
    default:
      break;
  }
  return w;
}

void bm_matmul(benchmark::State& state, gt::TensorType type, int64_t rows, int64_t cols,
               int64_t n_tok) {
  gt::ThreadPool pool(1);
  const std::vector<uint8_t> w = random_weights(type, rows, cols);
  const gt::Matrix m{type, w.data(), rows, cols, gavel::gguf::row_bytes(type, cols)};
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  std::vector<float> x(size_t(n_tok * cols)), y(size_t(n_tok * rows));
  for (auto& v : x) v = nd(rng);
  gt::PackedInput in;  // the activations are converted once, as for q/k/v sharing one input
  gt::pack_input(pool, gt::traits(type).act, x.data(), cols, n_tok, cols, in);
  for (auto _ : state) {
    gt::matmul_packed(pool, m, in, y.data(), rows);
    benchmark::ClobberMemory();
  }
  state.counters["MAC"] = benchmark::Counter(double(state.iterations()) * rows * cols * n_tok,
                                             benchmark::Counter::kIsRate);
  std::string label = gt::isa_name(gt::active_isa());
  if (type == gt::TensorType::kQ4_K && gt::q4k_is_repacked(rows)) label += " q4k-repacked";
  state.SetLabel(label);
}

void register_matmuls() {
  using T = gt::TensorType;
  for (T type : {T::kF16, T::kQ8_0, T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ4_K, T::kQ6_K})
    for (int64_t rows : {1024, 3072})  // both multiples of 8: Q4_K takes the repacked path
      for (int64_t n_tok : {1, 8, 512}) {
        const std::string name = std::string("matmul/") + gavel::gguf::type_name(type) + "/" +
                                 std::to_string(rows) + "x1024/" + std::to_string(n_tok);
        benchmark::RegisterBenchmark(name.c_str(), bm_matmul, type, rows, int64_t{1024}, n_tok);
      }
  // The FFN's down projection: 3072 columns, whose activations outgrow L1 per token.
  for (T type : {T::kF16, T::kQ8_0, T::kQ4_K, T::kQ6_K}) {
    const std::string name =
        std::string("matmul/") + gavel::gguf::type_name(type) + "/1024x3072/512";
    benchmark::RegisterBenchmark(name.c_str(), bm_matmul, type, int64_t{1024}, int64_t{3072},
                                 int64_t{512});
  }
}

}  // namespace

int main(int argc, char** argv) {
  // The kernel level is fixed per process: GAVEL_ISA, else the best this CPU runs.
  if (auto s = gt::init_kernels(); !s.ok()) {
    std::fprintf(stderr, "bench_kernels: %s\n", s.message().c_str());
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("gavel_isa", gt::isa_name(gt::active_isa()));
  register_peaks();
  register_matmuls();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
