// SHA-256 (FIPS 180-4), compact: judgments are keyed by the hash of their inputs and no crypto
// library is installed. Not constant-time; it hashes public content, not secrets.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gavel {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  std::array<uint8_t, 32> finish();  // the object is spent afterwards

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view data);
std::string to_hex(const uint8_t* p, size_t n);

}  // namespace gavel
