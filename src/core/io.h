// Small file helpers shared by every layer; errors name the path and carry a code
// (kNotFound for a missing file, kIOError for a failed read or write, ...).
#pragma once

#include <string>
#include <string_view>

#include "gavel/status.h"

namespace gavel {

// "<message>: <strerror>" with the code that matches errno (ENOENT -> kNotFound, ...).
Error os_error(std::string message, int errno_value);

Result<std::string> read_file(const std::string& path);
// Writes via a uniquely named temporary file + rename, so a crash never leaves a half-written
// file and concurrent writers of one path never interleave.
Status write_file_atomic(const std::string& path, std::string_view data);

}  // namespace gavel
