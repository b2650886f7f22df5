#include "core/io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace gavel {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot open: {}", path, std::strerror(errno))};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{fmt::format("{}: read error", path)};
  return ss.str();
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Error{fmt::format("{}: cannot create: {}", tmp, std::strerror(errno))};
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return Error{fmt::format("{}: write error", tmp)};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Error{fmt::format("{}: rename failed: {}", path, std::strerror(errno))};
  return Status::Ok();
}

}  // namespace gavel
