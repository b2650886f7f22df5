// Temporary files for tests. ctest runs test cases as parallel processes, so every name
// carries the process id: no two running tests share a file.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace gavel::testing {

// A path in the test temporary directory that no other running test uses.
inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "gavel_" + std::to_string(::getpid()) + "_" + name;
}

// Writes `text` to temp_path(name) and returns the path.
inline std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace gavel::testing
