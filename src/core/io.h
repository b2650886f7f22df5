// Small file helpers shared by every layer; errors name the path.
#pragma once

#include <string>
#include <string_view>

#include "gavel/status.h"

namespace gavel {

Result<std::string> read_file(const std::string& path);
// Writes via a temporary file + rename so a crash never leaves a half-written file.
Status write_file_atomic(const std::string& path, std::string_view data);

}  // namespace gavel
