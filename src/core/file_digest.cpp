#include "core/file_digest.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/io.h"

namespace gavel {
namespace {

namespace fs = std::filesystem;

// Everything that identifies one version of a file without reading it.
struct Identity {
  std::string path;  // canonical
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;

  static Identity of(const std::string& canonical, const struct stat& st) {
    return {canonical,
            uint64_t(st.st_dev),
            uint64_t(st.st_ino),
            uint64_t(st.st_size),
            int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
            int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
  }
  bool operator==(const Identity&) const = default;
  nlohmann::json to_json() const {
    return {{"path", path}, {"dev", dev},           {"ino", ino},
            {"size", size}, {"mtime_ns", mtime_ns}, {"ctime_ns", ctime_ns}};
  }
};

std::string cache_root(const DigestOptions& o) {
  if (!o.cache_dir.empty()) return o.cache_dir == "none" ? "" : o.cache_dir;
  if (const char* d = std::getenv("GAVEL_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/gavel";
  if (const char* d = std::getenv("HOME"); d && *d) return std::string(d) + "/.cache/gavel";
  return "";
}

std::string entry_path(const std::string& root, const std::string& canonical) {
  return fmt::format("{}/digests/{:016x}.json", root,
                     XXH3_64bits(canonical.data(), canonical.size()));
}

constexpr const char* kAlgorithm = "xxh3-128";

// The cached digest of `id`, or "" when there is no valid entry for exactly this version.
std::string lookup(const std::string& entry, const Identity& id) {
  auto text = read_file(entry);
  if (!text.ok()) return "";
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || j.value("algorithm", "") != kAlgorithm || !j.contains("file") ||
      j["file"] != id.to_json())
    return "";
  const auto& d = j.find("digest");
  if (d == j.end() || !d->is_string() || d->get_ref<const std::string&>().size() != 32) return "";
  return d->get<std::string>();
}

void save_entry(const std::string& entry, const Identity& id, const std::string& hex) {
  std::error_code ec;
  fs::create_directories(fs::path(entry).parent_path(), ec);
  const nlohmann::json j = {{"algorithm", kAlgorithm}, {"file", id.to_json()}, {"digest", hex}};
  // A cache that cannot be written costs time only.
  (void)write_file_atomic(entry, j.dump() + "\n");
}

}  // namespace

Result<FileDigest> file_digest(const std::string& path, const DigestOptions& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat before {};
  if (::fstat(fd, &before) != 0)
    return Error{fmt::format("{}: cannot stat: {}", path, std::strerror(errno))};
  if (!S_ISREG(before.st_mode))
    return Error{fmt::format("{}: is {}, not a regular file", path, file_kind(before.st_mode))};
  std::error_code ec;
  const std::string canonical = fs::canonical(path, ec).string();
  const Identity id = Identity::of(ec ? path : canonical, before);
  const std::string root = cache_root(options);
  const std::string entry = root.empty() ? "" : entry_path(root, id.path);
  if (!entry.empty())
    if (std::string hex = lookup(entry, id); !hex.empty()) return FileDigest{hex, true};

  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 &XXH3_freeState);
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK) return Error{"xxhash: out of memory"};
  std::vector<char> buf(size_t(1) << 22);
  while (true) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{fmt::format("{}: read error: {}", path, std::strerror(errno))};
    }
    if (n == 0) break;
    (void)XXH3_128bits_update(state.get(), buf.data(), size_t(n));
  }
  struct stat after {};
  if (::fstat(fd, &after) != 0 || !(Identity::of(id.path, after) == id))
    return Error{fmt::format("{}: the file changed while it was being hashed", path)};
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(state.get()));
  std::string hex;
  for (unsigned char b : c.digest) hex += fmt::format("{:02x}", b);
  if (!entry.empty()) save_entry(entry, id, hex);
  return FileDigest{hex, false};
}

}  // namespace gavel
