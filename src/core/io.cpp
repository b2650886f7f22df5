#include "core/io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace gavel {
namespace {

namespace fs = std::filesystem;

StatusCode code_of_errno(int e) {
  switch (e) {
    case ENOENT:
    case ENOTDIR:
      return StatusCode::kNotFound;
    case ENOSPC:
    case EDQUOT:
      return StatusCode::kResourceExhausted;
    case EACCES:
    case EPERM:
    case EISDIR:
      return StatusCode::kInvalidArgument;
    default:
      return StatusCode::kIOError;
  }
}

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
    if (ec)
      return Error{fmt::format("{}: cannot read the symlink {}: {}", path, p, ec.message()),
                   StatusCode::kIOError};
    p = to.is_absolute() ? to.string() : (fs::path(p).parent_path() / to).string();
  }
  return Error{fmt::format("{}: too many levels of symbolic links", path),
               StatusCode::kInvalidArgument};
}

std::atomic<unsigned> g_tmp_counter{0};

}  // namespace

Error os_error(std::string message, int errno_value) {
  return Error{fmt::format("{}: {}", message, std::strerror(errno_value)),
               code_of_errno(errno_value)};
}

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
  if (fd < 0) return os_error(path + ": cannot open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return os_error(path + ": cannot stat", e);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error{fmt::format("{}: is a directory, not a file", path), StatusCode::kInvalidArgument};
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
      return os_error(path + ": read error", e);
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
  if (!exists && errno != ENOENT) return os_error(shown + ": cannot stat", errno);
  if (exists && !S_ISREG(st.st_mode))
    return Error{fmt::format("{}: is {}, not a regular file; refusing to replace it", shown,
                             file_kind(st.st_mode)),
                 StatusCode::kInvalidArgument};
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
      return os_error(fmt::format("{}: cannot create a temporary file in {}", shown, dir.string()),
                      errno);
  }
  if (fd < 0)
    return Error{fmt::format("{}: no free temporary file name in {}", shown, dir.string()),
                 StatusCode::kIOError};
  auto fail = [&](const char* what, int e) -> Status {
    ::close(fd);
    ::unlink(tmp.c_str());
    return os_error(fmt::format("{}: {}", shown, what), e);
  };
  if (exists && ::fchmod(fd, st.st_mode & 07777) != 0) return fail("cannot set permissions", errno);
  if (const int e = write_all(fd, data)) return fail("write failed", e);
  if (::fsync(fd) != 0) return fail("sync failed", errno);
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return os_error(shown + ": close failed", e);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return os_error(shown + ": cannot rename the temporary file over it", e);
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
                               output.role, output.path, in.role, in.path),
                   StatusCode::kInvalidArgument};
  }
  return Status::Ok();
}

Result<std::unique_ptr<OutputFile>> OutputFile::create(const std::string& path) {
  if (path == "-") {
    if (std::fflush(stdout) != 0) return os_error("standard output: write failed", errno);
    return std::unique_ptr<OutputFile>(new OutputFile(STDOUT_FILENO, "standard output", false));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return os_error(path + ": cannot create", errno);
  return adopt(fd, path);
}

std::unique_ptr<OutputFile> OutputFile::adopt(int fd, std::string path) {
  return std::unique_ptr<OutputFile>(new OutputFile(fd, std::move(path), true));
}

OutputFile::~OutputFile() { (void)close(); }

Status OutputFile::write(std::string_view data) {
  if (closed_) return Error{fmt::format("{}: write after close", path_), StatusCode::kInternal};
  if (!failed_.ok()) return failed_;
  buf_.append(data);
  if (buf_.size() >= (1u << 16)) return flush();
  return Status::Ok();
}

Status OutputFile::flush() {
  if (!failed_.ok()) return failed_;
  if (const int e = write_all(fd_, buf_)) {
    failed_ = os_error(path_ + ": write failed", e);
    buf_.clear();
    return failed_;
  }
  buf_.clear();
  return Status::Ok();
}

Status OutputFile::close() {
  if (closed_) return *closed_;
  Status s = flush();
  if (owned_ && ::close(fd_) != 0 && s.ok()) s = os_error(path_ + ": close failed", errno);
  closed_ = s;
  return s;
}

}  // namespace gavel
