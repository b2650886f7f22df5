#include "core/io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace gavel {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int e) { return std::strerror(e); }

// Writes all of `data` to `fd`, retrying short writes and EINTR; returns errno or 0.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    data.remove_prefix(size_t(n));
  }
  return 0;
}

// Follows a chain of symlinks to the file they finally name, which may not exist yet (a
// dangling link is written through, as `echo > link` would).
Result<std::string> final_target(const std::string& path) {
  std::string p = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::error_code ec;
    const fs::path to = fs::read_symlink(p, ec);
    if (ec) return Error{fmt::format("{}: cannot read the symlink {}: {}", path, p, ec.message())};
    p = to.is_absolute() ? to.string() : (fs::path(p).parent_path() / to).string();
  }
  return Error{fmt::format("{}: too many levels of symbolic links", path)};
}

std::atomic<unsigned> g_tmp_counter{0};

}  // namespace

std::string file_kind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

Result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{fmt::format("{}: cannot open: {}", path, errno_text(errno))};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Error{fmt::format("{}: cannot stat: {}", path, errno_text(e))};
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error{fmt::format("{}: is a directory, not a file", path)};
  }
  std::string out;
  if (S_ISREG(st.st_mode) && st.st_size > 0) out.reserve(size_t(st.st_size));
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return Error{fmt::format("{}: read error: {}", path, errno_text(e))};
    }
    if (n == 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  return out;
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  GAVEL_ASSIGN(const std::string target, final_target(path));
  const std::string shown = target == path ? path : fmt::format("{} (-> {})", path, target);
  struct stat st {};
  const bool exists = ::stat(target.c_str(), &st) == 0;
  if (!exists && errno != ENOENT)
    return Error{fmt::format("{}: cannot stat: {}", shown, errno_text(errno))};
  if (exists && !S_ISREG(st.st_mode))
    return Error{fmt::format("{}: is {}, not a regular file; refusing to replace it", shown,
                             file_kind(st.st_mode))};
  const fs::path tp(target);
  const fs::path dir = tp.has_parent_path() ? tp.parent_path() : fs::path(".");
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    tmp = (dir / fmt::format(".{}.tmp-{}-{}", tp.filename().string(), ::getpid(),
                             g_tmp_counter.fetch_add(1)))
              .string();
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      return Error{fmt::format("{}: cannot create a temporary file in {}: {}", shown, dir.string(),
                               errno_text(errno))};
  }
  if (fd < 0)
    return Error{fmt::format("{}: no free temporary file name in {}", shown, dir.string())};
  auto fail = [&](const char* what, int e) -> Status {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Error{fmt::format("{}: {}: {}", shown, what, errno_text(e))};
  };
  if (exists && ::fchmod(fd, st.st_mode & 07777) != 0) return fail("cannot set permissions", errno);
  if (const int e = write_all(fd, data)) return fail("write failed", e);
  if (::fsync(fd) != 0) return fail("sync failed", errno);
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Error{fmt::format("{}: close failed: {}", shown, errno_text(e))};
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Error{
        fmt::format("{}: cannot rename the temporary file over it: {}", shown, errno_text(e))};
  }
  // Make the rename itself durable (best effort: some file systems refuse to sync a directory).
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

std::optional<FileId> file_id(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino, S_ISREG(st.st_mode)};
}

Status check_not_an_input(const NamedPath& output, std::span<const NamedPath> inputs) {
  if (output.path.empty() || output.path == "-") return Status::Ok();
  const auto out = file_id(output.path);
  if (!out || !out->regular) return Status::Ok();  // new file, or a device such as /dev/null
  for (const NamedPath& in : inputs) {
    if (in.path.empty() || in.path == "-") continue;
    if (file_id(in.path) == out)
      return Error{fmt::format("{} {} is the same file as the {} {}; refusing to overwrite it",
                               output.role, output.path, in.role, in.path)};
  }
  return Status::Ok();
}

Result<std::unique_ptr<OutputFile>> OutputFile::create(const std::string& path) {
  if (path == "-") {
    if (std::fflush(stdout) != 0)
      return Error{fmt::format("standard output: write failed: {}", errno_text(errno))};
    return std::unique_ptr<OutputFile>(new OutputFile(STDOUT_FILENO, "standard output", false));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return Error{fmt::format("{}: cannot create: {}", path, errno_text(errno))};
  return adopt(fd, path);
}

std::unique_ptr<OutputFile> OutputFile::adopt(int fd, std::string path) {
  return std::unique_ptr<OutputFile>(new OutputFile(fd, std::move(path), true));
}

OutputFile::~OutputFile() { (void)close(); }

Status OutputFile::write(std::string_view data) {
  if (closed_) return Error{fmt::format("{}: write after close", path_)};
  if (!failed_.ok()) return failed_;
  buf_.append(data);
  if (buf_.size() >= (1u << 16)) return flush();
  return Status::Ok();
}

Status OutputFile::flush() {
  if (!failed_.ok()) return failed_;
  if (const int e = write_all(fd_, buf_)) {
    failed_ = Error{fmt::format("{}: write failed: {}", path_, errno_text(e))};
    buf_.clear();
    return failed_;
  }
  buf_.clear();
  return Status::Ok();
}

Status OutputFile::close() {
  if (closed_) return *closed_;
  Status s = flush();
  if (owned_ && ::close(fd_) != 0 && s.ok())
    s = Error{fmt::format("{}: close failed: {}", path_, errno_text(errno))};
  closed_ = s;
  return s;
}

}  // namespace gavel
