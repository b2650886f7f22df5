// Fuzzes `gavel tokenize --batch` (tokenize_batch): any bytes, as JSONL requests against a real
// vocabulary, must give answers or an Error naming the line and field, never a crash or an
// exception. The vocabulary: $GAVEL_FUZZ_VOCAB, else SmolLM2's from the model cache.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "gguf/gguf.h"
#include "tokenizer/batch.h"
#include "tokenizer/tokenizer.h"

namespace {

const gavel::Tokenizer& vocab() {
  static const std::unique_ptr<gavel::Tokenizer> tok = [] {
    std::string path;
    if (const char* v = std::getenv("GAVEL_FUZZ_VOCAB")) {
      path = v;
    } else {
      const char* home = std::getenv("HOME");
      path = std::string(home ? home : "") + "/.cache/gavel/models/smollm2-135m-instruct-q4_1.gguf";
    }
    auto f = gavel::gguf::File::open(path);
    if (!f.ok()) {
      std::fprintf(stderr, "fuzz_tokenizer: %s (set GAVEL_FUZZ_VOCAB)\n", f.message().c_str());
      std::abort();
    }
    auto t = gavel::Tokenizer::from_gguf(**f);
    if (!t.ok()) {
      std::fprintf(stderr, "fuzz_tokenizer: %s\n", t.message().c_str());
      std::abort();
    }
    return std::make_unique<gavel::Tokenizer>(std::move(t).value());
  }();
  return *tok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)gavel::tokenize_batch(vocab(), in, "fuzz.jsonl");
  return 0;
}
