// Tokenizer throughput on a long judge-style prompt (both seed documents, ~58 KB) with the
// Qwen2.5 vocabulary. Reports tokens/s. Compare with llama.cpp on the same text:
//   ~/.cache/gavel/venv/bin/python -c "import llama_cpp,time; m=llama_cpp.Llama(
//     model_path=MODEL, vocab_only=True, verbose=False); t=open(TEXT,'rb').read();
//     s=time.perf_counter(); [m.tokenize(t, special=True) for _ in range(20)];
//     print(len(m.tokenize(t))*20/(time.perf_counter()-s), 'tokens/s')"
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The shared data dir sits beside the repository (override with GAVEL_SHARED).
std::string shared_dir() {
  if (const char* s = std::getenv("GAVEL_SHARED")) return s;
  std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/../../shared";
}

std::string model_path() {
  const char* m = std::getenv("GAVEL_MODELS");
  const char* home = std::getenv("HOME");
  return (m ? std::string(m) : std::string(home ? home : "") + "/.cache/gavel/models") +
         "/qwen2.5-coder-0.5b-instruct.gguf";
}

void BM_EncodeSeedPrompt(benchmark::State& state) {
  auto file = gavel::gguf::File::open(model_path());
  if (!file.ok()) {
    state.SkipWithError(file.message().c_str());
    return;
  }
  auto tok = gavel::Tokenizer::from_gguf(**file);
  if (!tok.ok()) {
    state.SkipWithError(tok.message().c_str());
    return;
  }
  const std::string dir = shared_dir() + "/seeds/";
  if (slurp(dir + "000_d0e01ba3fcf3b5e9.txt").empty()) {
    state.SkipWithError(("seed documents not found under " + dir).c_str());
    return;
  }
  const std::string text = "<|im_start|>system\nYou are a judge.<|im_end|>\n<|im_start|>user\n" +
                           slurp(dir + "000_d0e01ba3fcf3b5e9.txt") +
                           slurp(dir + "004_ef358f395ea97da2.txt") +
                           "<|im_end|>\n<|im_start|>assistant\n";
  size_t n_tokens = 0;
  for (auto _ : state) {
    auto ids = tok->encode(text, false, true);
    n_tokens += ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["tokens/s"] = benchmark::Counter(double(n_tokens), benchmark::Counter::kIsRate);
  state.counters["bytes/s"] =
      benchmark::Counter(double(text.size() * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncodeSeedPrompt)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
