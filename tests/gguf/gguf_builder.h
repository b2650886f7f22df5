// Test helper: assembles GGUF images byte by byte so tests control every field (including
// invalid ones).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace gavel::gguf::testing {

class Bytes {
 public:
  template <class T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    buf_.insert(buf_.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    buf_.insert(buf_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& raw(const std::vector<uint8_t>& b) {
    buf_.insert(buf_.end(), b.begin(), b.end());
    return *this;
  }
  Bytes& pad_to(size_t align) {
    while (buf_.size() % align) buf_.push_back(0);
    return *this;
  }
  size_t size() const { return buf_.size(); }
  const std::vector<uint8_t>& data() const { return buf_; }
  std::vector<uint8_t>& data() { return buf_; }

 private:
  std::vector<uint8_t> buf_;
};

// A well-formed file: header, caller-written kv entries, tensor infos and data.
struct Tensor {
  std::string name;
  std::vector<uint64_t> ne;
  uint32_t type;
  std::vector<uint8_t> bytes;
};

inline std::vector<uint8_t> build_file(uint32_t version, uint64_t n_kv, const Bytes& kvs,
                                       const std::vector<Tensor>& tensors, size_t align = 32) {
  Bytes b;
  b.put<uint32_t>(0x46554747).put<uint32_t>(version);
  b.put<uint64_t>(tensors.size()).put<uint64_t>(n_kv);
  b.raw(kvs.data());
  uint64_t off = 0;
  for (const Tensor& t : tensors) {
    b.str(t.name).put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (uint64_t d : t.ne) b.put<uint64_t>(d);
    b.put<uint32_t>(t.type).put<uint64_t>(off);
    off += (t.bytes.size() + align - 1) / align * align;
  }
  b.pad_to(align);
  for (const Tensor& t : tensors) b.raw(t.bytes).pad_to(align);
  return b.data();
}

}  // namespace gavel::gguf::testing
