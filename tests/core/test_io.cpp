// File helpers under hostile conditions: directories and unreadable files as inputs, full
// disks (RLIMIT_FSIZE and /dev/full), symlinks, FIFOs and directories as atomic-write targets,
// and outputs that are the same file as an input.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "core/io.h"
#include "temp_dir_test.h"

namespace gavel {
namespace {

namespace fs = std::filesystem;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class IoTest : public TempDirTest {
 protected:
  static void put(const std::string& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
};

// Limits the size of every file this process writes (a full disk without a mount), and
// restores it when the test ends.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_ = ::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead
    rlimit lim = saved_;
    lim.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &lim) == 0;
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, old_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  void (*old_)(int) = nullptr;
  bool ok_ = false;
};

TEST_F(IoTest, ReadFileRoundTripsBytes) {
  const std::string bytes("a\0b\xff\n", 5);
  put(path("f"), bytes);
  auto r = read_file(path("f"));
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(*r, bytes);
  put(path("empty"), "");
  EXPECT_EQ(*read_file(path("empty")), "");
}

TEST_F(IoTest, ReadFileRefusesDirectory) {
  auto r = read_file(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(has(r.message(), dir_ + ": is a directory")) << r.message();
}

TEST_F(IoTest, ReadFileReportsReadErrors) {
  // Opening succeeds, reading fails (EIO at address 0): an unreadable file, even for root.
  auto r = read_file("/proc/self/mem");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(has(r.message(), "/proc/self/mem: read error")) << r.message();
}

TEST_F(IoTest, ReadFileMissingNamesPath) {
  auto r = read_file(path("missing"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(has(r.message(), path("missing"))) << r.message();
  EXPECT_TRUE(has(r.message(), "No such file")) << r.message();
}

TEST_F(IoTest, AtomicWriteCreatesAndReplacesKeepingMode) {
  const std::string p = path("out.csv");
  ASSERT_TRUE(write_file_atomic(p, "one\n").ok());
  EXPECT_EQ(*read_file(p), "one\n");
  ASSERT_EQ(::chmod(p.c_str(), 0640), 0);
  ASSERT_TRUE(write_file_atomic(p, "two\n").ok());
  EXPECT_EQ(*read_file(p), "two\n");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(listing(), std::vector<std::string>{"out.csv"});  // no temporary left behind
}

TEST_F(IoTest, AtomicWriteGoesThroughSymlinks) {
  fs::create_directory(path("real"));
  put(path("real/target.csv"), "old\n");
  fs::create_symlink("real/target.csv", path("link1"));
  fs::create_symlink(path("link1"), path("link2"));  // a chain: absolute then relative
  ASSERT_TRUE(write_file_atomic(path("link2"), "new\n").ok());
  EXPECT_TRUE(fs::is_symlink(path("link2")));
  EXPECT_TRUE(fs::is_symlink(path("link1")));
  EXPECT_EQ(*read_file(path("real/target.csv")), "new\n");
  // A dangling link: the file it names is created, the link stays.
  fs::create_symlink("real/fresh.csv", path("dangling"));
  ASSERT_TRUE(write_file_atomic(path("dangling"), "fresh\n").ok());
  EXPECT_TRUE(fs::is_symlink(path("dangling")));
  EXPECT_EQ(*read_file(path("real/fresh.csv")), "fresh\n");
}

TEST_F(IoTest, AtomicWriteRefusesNonRegularTargets) {
  const std::string fifo = path("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Status s = write_file_atomic(fifo, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(has(s.message(), "is a FIFO")) << s.message();
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));  // not replaced by a regular file
  fs::create_symlink(fifo, path("to_pipe"));
  s = write_file_atomic(path("to_pipe"), "x");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(has(s.message(), "is a FIFO")) << s.message();
  fs::create_directory(path("sub"));
  s = write_file_atomic(path("sub"), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(has(s.message(), "is a directory")) << s.message();
  EXPECT_TRUE(fs::is_directory(path("sub")));
  // Device nodes are refused the same way; not tried here, since a broken writer run as root
  // would replace a real one.
}

TEST_F(IoTest, AtomicWriteTemporaryNameIsUnique) {
  // A stale "<name>.tmp" (here a directory, so it cannot be replaced) does not get in the way.
  fs::create_directory(path("out.csv.tmp"));
  Status s = write_file_atomic(path("out.csv"), "data\n");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(*read_file(path("out.csv")), "data\n");
  // Concurrent writers of one target each replace it whole.
  std::vector<std::thread> ts;
  std::vector<std::string> versions;
  for (int i = 0; i < 8; ++i) versions.push_back(std::string(100000, char('a' + i)));
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&, i] {
      if (!write_file_atomic(path("shared.csv"), versions[size_t(i)]).ok()) ++failures;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto r = read_file(path("shared.csv"));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(std::find(versions.begin(), versions.end(), *r), versions.end());
  EXPECT_EQ(listing(), (std::vector<std::string>{"out.csv", "out.csv.tmp", "shared.csv"}));
}

TEST_F(IoTest, AtomicWriteFailureLeavesTargetAndNoTemporary) {
  const std::string p = path("out.csv");
  put(p, "precious\n");
  Status s;
  {
    FileSizeLimit limit(1000);
    ASSERT_TRUE(limit.ok());
    s = write_file_atomic(p, std::string(5000, 'x'));
  }
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(has(s.message(), p)) << s.message();
  EXPECT_TRUE(has(s.message(), "write failed")) << s.message();
  EXPECT_EQ(*read_file(p), "precious\n");
  EXPECT_EQ(listing(), std::vector<std::string>{"out.csv"});
}

TEST_F(IoTest, OutputFileReportsFullDevice) {
  auto f = OutputFile::create("/dev/full");
  ASSERT_TRUE(f.ok()) << f.message();
  Status w = (*f)->write("hello\n");  // buffered: the error may show at flush or close
  Status c = (*f)->close();
  ASSERT_FALSE(w.ok() && c.ok());
  const std::string msg = w.ok() ? c.message() : w.message();
  EXPECT_TRUE(has(msg, "/dev/full: write failed: No space left on device")) << msg;
  EXPECT_FALSE((*f)->close().ok());  // the failure sticks
}

TEST_F(IoTest, OutputFileReportsAWriteThatStopsHalfway) {
  const std::string p = path("out.jsonl");
  auto f = OutputFile::create(p);
  ASSERT_TRUE(f.ok()) << f.message();
  Status first, later, closed;
  {
    FileSizeLimit limit(100000);
    ASSERT_TRUE(limit.ok());
    first = (*f)->write(std::string(40000, 'a'));
    ASSERT_TRUE((*f)->flush().ok());
    later = (*f)->write(std::string(90000, 'b'));  // passes the limit: flushed and fails
    closed = (*f)->close();
  }
  EXPECT_TRUE(first.ok());
  EXPECT_FALSE(later.ok());
  ASSERT_FALSE(closed.ok());
  EXPECT_TRUE(has(closed.message(), p + ": write failed")) << closed.message();
  EXPECT_FALSE((*f)->write("more").ok());
}

TEST_F(IoTest, OutputFileWritesAndCloses) {
  const std::string p = path("out.jsonl");
  auto f = OutputFile::create(p);
  ASSERT_TRUE(f.ok());
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE((*f)->write("0123456789\n").ok());
  ASSERT_TRUE((*f)->close().ok());
  EXPECT_EQ(read_file(p)->size(), 110000u);
  auto bad = OutputFile::create(path("no/such/dir/out.jsonl"));
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(has(bad.message(), "no/such/dir/out.jsonl: cannot create")) << bad.message();
}

TEST_F(IoTest, SameFileIsRefusedByIdentityNotName) {
  put(path("model.gguf"), "weights");
  fs::create_hard_link(path("model.gguf"), path("hard.gguf"));
  fs::create_symlink(path("model.gguf"), path("soft.gguf"));
  put(path("other.jsonl"), "{}");
  const std::vector<NamedPath> inputs = {{"input", path("other.jsonl")},
                                         {"model", path("model.gguf")}};
  for (const char* name : {"model.gguf", "hard.gguf", "soft.gguf"}) {
    Status s = check_not_an_input({"--out", path(name)}, inputs);
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_TRUE(has(s.message(), "is the same file as the model")) << s.message();
    EXPECT_TRUE(has(s.message(), "--out " + path(name))) << s.message();
  }
  // A path spelled differently (dir/./x) is still the same file.
  EXPECT_FALSE(check_not_an_input({"--out", dir_ + "/./other.jsonl"}, inputs).ok());
  EXPECT_TRUE(check_not_an_input({"--out", path("new.jsonl")}, inputs).ok());
  EXPECT_TRUE(check_not_an_input({"--out", "-"}, inputs).ok());
  EXPECT_TRUE(check_not_an_input({"--out", ""}, inputs).ok());
  const std::vector<NamedPath> devnull = {{"input", "/dev/null"}};
  EXPECT_TRUE(check_not_an_input({"--out", "/dev/null"}, devnull).ok());
  EXPECT_EQ(*read_file(path("model.gguf")), "weights");
}

}  // namespace
}  // namespace gavel
