// Small file helpers shared by every layer. Every read, write and close is checked, and every
// error names the path, says what went wrong (a directory, a full disk, ...) and carries a code
// (kNotFound for a missing file, kIOError for a failed read or write, ...).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "gavel/status.h"

namespace gavel {

// "<message>: <strerror>" with the code that matches errno (ENOENT -> kNotFound, ...).
Error os_error(std::string message, int errno_value);

// The whole content of a file (a regular file, or a FIFO such as /dev/stdin). A directory, a
// missing or unreadable file, or a read error is an error naming the path.
Result<std::string> read_file(const std::string& path);

// Replaces `path` with `data` so that a crash or a failure never leaves a half-written file:
// writes a temporary file with a unique name in the target's directory, syncs it and renames it
// over the target (the temporary is removed on failure). A symlink is written through to its
// target; a target that exists and is not a regular file (a device, a FIFO, a directory) is
// refused. A new file gets 0666 less the umask; an existing target keeps its permission bits.
// Concurrent writers of one path never share a temporary, and the last rename wins whole.
Status write_file_atomic(const std::string& path, std::string_view data);

// "a directory", "a character device", ... for an st_mode (error messages).
std::string file_kind(mode_t mode);

// A file's identity, device and inode, following symlinks; nullopt when it cannot be stat'ed
// (missing). Two paths name the same file exactly when their identities are equal.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool regular = false;
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
};
std::optional<FileId> file_id(const std::string& path);

// A path with the role it plays in a command, for messages: {"--out", "x.jsonl"}.
struct NamedPath {
  std::string role;
  std::string path;
};

// Refuses to write `output` when it is the same regular file as one of `inputs` (compared by
// device and inode, so hard links and symlinks are caught): writing would destroy the input.
// Empty paths and "-" (stdout) are never compared. Call before opening anything for writing.
Status check_not_an_input(const NamedPath& output, std::span<const NamedPath> inputs);

// A file written front to back whose every write, flush and final close is checked, so a full
// disk, a quota or /dev/full is an error naming the file rather than a silently cut file.
class OutputFile {
 public:
  // Creates or truncates `path`; "-" is standard output (flushed, never closed).
  static Result<std::unique_ptr<OutputFile>> create(const std::string& path);
  // Takes ownership of an open, writable descriptor; `path` names it in errors.
  static std::unique_ptr<OutputFile> adopt(int fd, std::string path);
  ~OutputFile();  // closes without reporting: call close() to learn of a failure
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  Status write(std::string_view data);  // buffered
  Status flush();                       // hands everything buffered to the kernel
  Status close();                       // flush, then close; later calls return the same status
  const std::string& path() const { return path_; }

 private:
  OutputFile(int fd, std::string path, bool owned)
      : fd_(fd), path_(std::move(path)), owned_(owned) {}
  int fd_;
  std::string path_;
  bool owned_;
  std::string buf_;
  std::optional<Status> closed_;
  Status failed_;  // the first write error: every later call reports it again
};

}  // namespace gavel
