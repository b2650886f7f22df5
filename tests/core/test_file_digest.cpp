// The whole-file digest behind model fingerprints: every byte counts, and the per-file cache is
// never trusted for another version of the file (even with size and mtime restored).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/file_digest.h"
#include "core/io.h"
#include "temp_dir_test.h"

namespace gavel {
namespace {

namespace fs = std::filesystem;

class DigestTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    opt_.cache_dir = dir_ + "/cache";
  }
  // A "model" of 8 MiB: a change at any offset must show.
  std::string make(const std::string& name) const {
    std::string data(size_t(8) << 20, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = char((i * 2654435761u) >> 13);
    std::ofstream(path(name), std::ios::binary) << data;
    return path(name);
  }
  static void poke(const std::string& p, size_t offset) {
    std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
    f.seekg(std::streamoff(offset));
    char c = 0;
    f.read(&c, 1);
    c = char(c ^ 1);
    f.seekp(std::streamoff(offset));
    f.write(&c, 1);
  }
  DigestOptions opt_;
};

TEST_F(DigestTest, KnownValue) {
  // XXH3-128 of the empty input, as python's xxhash package prints it (canonical byte order).
  std::ofstream(path("empty"));
  auto d = file_digest(path("empty"), {"none"});
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->hex, "99aa06d3014798d86001c324468d497f");
}

TEST_F(DigestTest, EveryByteCounts) {
  const std::string p = make("m.gguf");
  auto base = file_digest(p, {"none"});
  ASSERT_TRUE(base.ok()) << base.message();
  EXPECT_EQ(base->hex.size(), 32u);
  for (size_t off : {size_t(0), size_t(4096) + 1, size_t(5) << 20, (size_t(8) << 20) - 1}) {
    poke(p, off);
    auto changed = file_digest(p, {"none"});
    ASSERT_TRUE(changed.ok());
    EXPECT_NE(changed->hex, base->hex) << "a change at byte " << off << " was missed";
    poke(p, off);  // back to the original
    EXPECT_EQ(file_digest(p, {"none"})->hex, base->hex);
  }
}

TEST_F(DigestTest, CacheIsUsedForTheSameVersionOnly) {
  const std::string p = make("m.gguf");
  auto first = file_digest(p, opt_);
  ASSERT_TRUE(first.ok()) << first.message();
  EXPECT_FALSE(first->cached);
  auto second = file_digest(p, opt_);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->cached);
  EXPECT_EQ(second->hex, first->hex);

  // Rewrite in place deep in the file and put size and mtime back (what cp -p or rsync -t
  // would leave): the status-change time still moves, so the cache entry is not used.
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  ::usleep(20000);
  poke(p, size_t(6) << 20);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  auto after = file_digest(p, opt_);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->cached);
  EXPECT_NE(after->hex, first->hex);
  EXPECT_EQ(after->hex, file_digest(p, {"none"})->hex);

  // Another path to the same content has its own entry; a replaced file (new inode) too.
  fs::copy_file(p, path("copy.gguf"));
  auto copy = file_digest(path("copy.gguf"), opt_);
  EXPECT_FALSE(copy->cached);
  EXPECT_EQ(copy->hex, after->hex);
  fs::rename(path("copy.gguf"), p);
  EXPECT_FALSE(file_digest(p, opt_)->cached);
  EXPECT_TRUE(file_digest(p, opt_)->cached);
}

TEST_F(DigestTest, CorruptOrUnwritableCacheIsHarmless) {
  const std::string p = make("m.gguf");
  const std::string truth = file_digest(p, {"none"})->hex;
  ASSERT_TRUE(file_digest(p, opt_).ok());
  int entries = 0;
  for (const auto& e : fs::directory_iterator(opt_.cache_dir + "/digests")) {
    ++entries;
    // Garbage, then a valid entry for this very file with a wrong digest but the wrong
    // algorithm name, then a truncated one: all ignored and rewritten.
    for (const std::string& junk :
         {std::string("\x00\xff not json", 11), std::string("{\"algorithm\":\"md5\"}"),
          std::string("{\"algorithm\":\"xxh3-128\",\"file\":")}) {
      ASSERT_TRUE(write_file_atomic(e.path().string(), junk).ok());
      auto d = file_digest(p, opt_);
      ASSERT_TRUE(d.ok()) << d.message();
      EXPECT_FALSE(d->cached);
      EXPECT_EQ(d->hex, truth);
    }
  }
  EXPECT_EQ(entries, 1);
  // A cache location that cannot be created (a file where the directory should be).
  std::ofstream(path("blocker")) << "x";
  auto d = file_digest(p, {path("blocker")});
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->hex, truth);
}

TEST_F(DigestTest, ErrorsNameThePath) {
  auto missing = file_digest(path("missing.gguf"), opt_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find(path("missing.gguf")), std::string::npos);
  auto dir = file_digest(dir_, opt_);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.message().find("is a directory"), std::string::npos) << dir.message();
}

}  // namespace
}  // namespace gavel
