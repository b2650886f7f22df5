#include "core/io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace gavel {

namespace {

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

}  // namespace

Error os_error(std::string message, int errno_value) {
  return Error{fmt::format("{}: {}", message, std::strerror(errno_value)),
               code_of_errno(errno_value)};
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return os_error(path + ": cannot open", errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{fmt::format("{}: read error", path), StatusCode::kIOError};
  return ss.str();
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  // A unique temporary name next to the target (process id, a per-process counter, a random
  // number; O_EXCL makes a collision a retry, not a shared file): concurrent writers of the
  // same path never share a half-written file, and the last rename wins whole. Mode 0666 lets
  // the umask decide the permissions, as for any new file.
  static std::atomic<uint64_t> counter{0};
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 16; ++attempt) {
    tmp = fmt::format("{}.{}.{}.{:x}.tmp", path, ::getpid(), counter++, rng() & 0xffffff);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return os_error(tmp + ": cannot create", errno);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = n < 0 ? errno : EIO;
      ::close(fd);
      std::remove(tmp.c_str());
      return os_error(tmp + ": write error", e);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return os_error(tmp + ": write error", e);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return os_error(path + ": rename failed", e);
  }
  return Status::Ok();
}

}  // namespace gavel
