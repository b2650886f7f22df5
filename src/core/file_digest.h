// Content digests of large files (model weights): XXH3-128 over every byte, cached per file so
// a model is read in full once, not on every run. A cache entry is used only while the file's
// canonical path, device, inode, size, modification time and status-change time all match what
// they were when it was hashed. The status-change time (ctime) cannot be set back by tools that
// preserve timestamps (touch -d, cp -p, rsync -t), so a file rewritten in place is hashed again
// even when its size and mtime are restored. A missing, unreadable or corrupt entry is ignored
// and rewritten; a cache that cannot be written only costs the re-hash.
#pragma once

#include <string>

#include "gavel/status.h"

namespace gavel {

struct DigestOptions {
  // Directory of the cache; "" = $GAVEL_CACHE_DIR, else $XDG_CACHE_HOME/gavel, else
  // $HOME/.cache/gavel (entries go to <dir>/digests/). "none" turns the cache off.
  std::string cache_dir;
};

struct FileDigest {
  std::string hex;      // XXH3-128 of the file's bytes, 32 lowercase hex digits (canonical order)
  bool cached = false;  // taken from the cache, not read now
};

Result<FileDigest> file_digest(const std::string& path, const DigestOptions& options = {});

}  // namespace gavel
