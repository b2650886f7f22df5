#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/csv.h"
#include "core/io.h"
#include "core/utf8.h"
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

Status must_exist(const std::string& what) {
  if (what.empty()) return Status::NotFound("nothing named");
  return Status::Ok();
}

Result<int> lookup(const std::string& what) {
  GAVEL_TRY(must_exist(what));
  return 1;
}

TEST(Status, PropagatesFirstError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(), "odd: 3");
  EXPECT_EQ(r.code(), StatusCode::kUnknown);  // Error{"msg"} is unclassified
}

TEST(Status, CodesSurviveTryAssignAndConversions) {
  auto r = lookup("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), StatusCode::kNotFound);
  EXPECT_EQ(r.message(), "nothing named");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  Result<int> from_error = Error{"bad flag", StatusCode::kInvalidArgument};
  EXPECT_EQ(from_error.code(), StatusCode::kInvalidArgument);
  Status s = from_error.status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.prefixed("file.jsonl: ").message(), "file.jsonl: bad flag");
  EXPECT_EQ(s.prefixed("x").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Status::Ok().prefixed("x").ok());
  EXPECT_EQ(lookup("a").code(), StatusCode::kOk);
  // An Error built with kOk is still an error.
  Status odd = Error{"oops", StatusCode::kOk};
  EXPECT_FALSE(odd.ok());
  EXPECT_EQ(odd.code(), StatusCode::kUnknown);
}

TEST(Status, FactoriesSetTheirCode) {
  EXPECT_EQ(Status::InvalidArgument("m").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Status::Corruption("m").code(), StatusCode::kCorruption);
  EXPECT_EQ(Status::IOError("m").code(), StatusCode::kIOError);
  EXPECT_EQ(Status::Unavailable("m").code(), StatusCode::kUnavailable);
  EXPECT_EQ(Status::ResourceExhausted("m").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Status::OutOfRange("m").code(), StatusCode::kOutOfRange);
  EXPECT_EQ(Status::Cancelled("m").code(), StatusCode::kCancelled);
  EXPECT_EQ(Status::Unimplemented("m").code(), StatusCode::kUnimplemented);
  EXPECT_EQ(Status::Internal("m").code(), StatusCode::kInternal);
  EXPECT_EQ(code_name(StatusCode::kNotFound), "not found");
}

TEST(Io, MissingFileNamesPathAndIsNotFound) {
  auto r = read_file("/nonexistent/gavel.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("/nonexistent/gavel.txt"), std::string::npos);
  EXPECT_EQ(r.code(), StatusCode::kNotFound);
  Status w = write_file_atomic("/nonexistent/dir/out.txt", "x");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.code(), StatusCode::kNotFound);
}

TEST(Io, AtomicWriteRoundTripsWithTheUmasksPermissions) {
  std::string path = ::testing::TempDir() + "/gavel_io_test_" + std::to_string(getpid()) + ".txt";
  const mode_t old = ::umask(027);
  Status st = write_file_atomic(path, "hello\n");
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(*read_file(path), "hello\n");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);  // 0666 less the umask, like any new file
  std::remove(path.c_str());
}

// Writers of one path at the same time never share a temporary file: every write succeeds,
// the result is one writer's whole text, and no temporary file is left behind.
TEST(Io, ConcurrentAtomicWritesOfOnePath) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("gavel_io_race_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "model.bin").string();
  std::vector<std::string> texts;
  for (int t = 0; t < 8; ++t) texts.push_back(std::string(100000 + t, static_cast<char>('a' + t)));
  std::vector<std::thread> threads;
  std::vector<int> ok(texts.size(), 0);
  for (size_t t = 0; t < texts.size(); ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) ok[t] += write_file_atomic(path, texts[t]).ok();
    });
  for (auto& th : threads) th.join();
  for (int n : ok) EXPECT_EQ(n, 20);
  auto got = read_file(path);
  ASSERT_TRUE(got.ok());
  EXPECT_NE(std::find(texts.begin(), texts.end(), *got), texts.end());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  fs::remove_all(dir);
}

TEST(Csv, FieldsAreQuotedOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
}

TEST(Csv, ParsesQuotesCrlfAndBlankLines) {
  auto rows = parse_csv(
      "name,elo\r\n\"Claude, new\",1200\r\n\n*gpt,\"1,1\"\nq\"x,\"multi\nline\"\n", "lb.csv");
  ASSERT_TRUE(rows.ok()) << rows.message();
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0].cells, (std::vector<std::string>{"name", "elo"}));
  EXPECT_EQ((*rows)[1].cells, (std::vector<std::string>{"Claude, new", "1200"}));
  EXPECT_EQ((*rows)[2].line, 4);  // the blank line 3 is skipped, numbering is kept
  EXPECT_EQ((*rows)[2].cells, (std::vector<std::string>{"*gpt", "1,1"}));
  EXPECT_EQ((*rows)[3].cells, (std::vector<std::string>{"q\"x", "multi\nline"}));
  // Round trip through csv_field.
  auto back = parse_csv(csv_field("a \"b\", c") + "," + csv_field("d") + "\n", "x.csv");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0].cells, (std::vector<std::string>{"a \"b\", c", "d"}));
}

TEST(Csv, MalformedQuotesNameTheLine) {
  auto open = parse_csv("a,b\n\"never closed,1\n", "lb.csv");
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(open.message().find("lb.csv:2"), std::string::npos) << open.message();
  auto after = parse_csv("a,b\n\"x\"y,1\n", "lb.csv");
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.message().find("lb.csv:2"), std::string::npos) << after.message();
}

TEST(Utf8, EncodesEachLengthAndReplacesNonCodePoints) {
  std::string s;
  for (char32_t cp : {U'A', U'\u00e9', U'\u20ac', U'\U0001F600'}) append_utf8(s, cp);
  EXPECT_EQ(s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  std::string bad;
  append_utf8(bad, static_cast<char32_t>(0x110000));
  EXPECT_EQ(bad, "\xef\xbf\xbd");
}

}  // namespace
}  // namespace gavel
