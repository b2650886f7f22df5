#include <gtest/gtest.h>

#include <cstdio>

#include "core/io.h"
#include "gavel/status.h"

namespace gavel {
namespace {

Result<int> half(int x) {
  if (x % 2) return Error{"odd: " + std::to_string(x)};
  return x / 2;
}

Result<int> quarter(int x) {
  GAVEL_ASSIGN(int h, half(x));
  GAVEL_ASSIGN(int q, half(h));
  return q;
}

TEST(Status, PropagatesFirstError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "odd: 3");
}

TEST(Io, MissingFileNamesPath) {
  auto r = read_file("/nonexistent/gavel.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("/nonexistent/gavel.txt"), std::string::npos);
}

TEST(Io, AtomicWriteRoundTrips) {
  std::string path = ::testing::TempDir() + "/gavel_io_test.txt";
  ASSERT_TRUE(write_file_atomic(path, "hello\n").ok());
  EXPECT_EQ(*read_file(path), "hello\n");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace gavel
