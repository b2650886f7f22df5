// Parity debugging: when GAVEL_DUMP_DIR is set, forward passes write named intermediate
// activations as .npy files (float32, [n_tokens][dim]) under llama.cpp's graph names
// ("attn_norm-0", "ffn_out-1", ...), so tools/llamacpp_tensors.py --compare can diff them
// against llama.cpp's. Off (one getenv per forward) otherwise.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace gavel::model {

inline const char* dump_dir() {
  static const char* dir = std::getenv("GAVEL_DUMP_DIR");
  return dir && *dir ? dir : nullptr;
}

// Layer index used in names by code that does not know it (the DeltaNet mixer).
inline int& dump_layer_index() {
  static int layer = 0;
  return layer;
}

inline void dump_tensor(const std::string& name, const float* data, int rows, int cols, int ld) {
  const char* dir = dump_dir();
  if (!dir) return;
  const std::string path = std::string(dir) + "/" + name + ".npy";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::string hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) +
                    ", " + std::to_string(cols) + "), }";
  while ((10 + hdr.size() + 1) % 64) hdr += ' ';
  hdr += '\n';
  const unsigned short len = static_cast<unsigned short>(hdr.size());
  std::fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  std::fputc(len & 0xff, f);
  std::fputc(len >> 8, f);
  std::fwrite(hdr.data(), 1, hdr.size(), f);
  for (int r = 0; r < rows; ++r) std::fwrite(data + size_t(r) * size_t(ld), 4, size_t(cols), f);
  std::fclose(f);
}

}  // namespace gavel::model
