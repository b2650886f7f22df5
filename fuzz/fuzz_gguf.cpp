// libFuzzer target: any byte string must parse to a File or an Error, never crash; every
// tensor's data range must lie inside the input, and the typed getters and dequantizers
// must cope with whatever the parser accepted.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/quants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gavel::gguf;
  auto f = File::parse(data, size, "fuzz.gguf");
  if (!f.ok()) return 0;
  const File& file = **f;
  for (const std::string& k : file.keys()) {
    (void)file.get_string(k);
    (void)file.get_int(k);
    (void)file.get_float(k);
    (void)file.get_bool(k);
    (void)file.get_string_array(k);
    (void)file.get_int_array(k);
    (void)file.get_float_array(k);
  }
  volatile uint8_t sink = 0;
  std::vector<float> row;
  for (const TensorInfo& t : file.tensors()) {
    if (t.nbytes == 0) continue;
    // ASan traps if the range leaves the input buffer.
    if (t.data < data || t.data + t.nbytes > data + size) __builtin_trap();
    sink = sink ^ t.data[0] ^ t.data[t.nbytes - 1];
    const int64_t ne0 = t.ne.empty() ? 1 : t.ne[0];
    if (can_dequantize(t.type) && ne0 <= (1 << 16)) {
      row.resize(static_cast<size_t>(ne0));
      if (!dequantize_row(t.type, t.data, row.data(), ne0).ok()) __builtin_trap();
    }
  }
  return 0;
}
