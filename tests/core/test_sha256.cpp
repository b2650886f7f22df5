#include <gtest/gtest.h>

#include <string>

#include "core/sha256.h"

namespace gavel {
namespace {

// Test vectors from FIPS 180-4 / NIST CAVP examples.
TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Feeding the same bytes in pieces of every size must give the one-shot digest: exercises
// the buffering across 64-byte block boundaries and the 55/56-byte padding edge.
TEST(Sha256, IncrementalMatchesOneShot) {
  for (size_t len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 200}) {
    std::string data;
    for (size_t i = 0; i < len; ++i) data.push_back(static_cast<char>((i * 131 + 7) & 0xff));
    std::string want = sha256_hex(data);
    for (size_t piece = 1; piece <= 70; piece += 3) {
      Sha256 h;
      for (size_t off = 0; off < len; off += piece)
        h.update(std::string_view(data).substr(off, piece));
      auto d = h.finish();
      EXPECT_EQ(to_hex(d.data(), d.size()), want) << "len " << len << " piece " << piece;
    }
  }
}

// An empty view (null data()) between pieces changes nothing; under UBSan a memcpy from null
// fails this test.
TEST(Sha256, EmptyViewsAreNoOps) {
  Sha256 h;
  h.update(std::string_view{});
  h.update("ab");
  h.update(std::string_view{});
  h.update("c");
  auto d = h.finish();
  EXPECT_EQ(to_hex(d.data(), d.size()), sha256_hex("abc"));
}

}  // namespace
}  // namespace gavel
