// Subcommand registry: each cmd_*.cpp registers itself at static-init time, so adding a
// command never touches main.cpp. A command's setup() declares its flags on the CLI11
// subcommand and returns the function to run once parsing succeeded (its exit code).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace gavel::cli {

using Runner = std::function<int()>;

struct Command {
  std::string name;
  std::string help;
  std::function<Runner(CLI::App&)> setup;
};

std::vector<Command>& registry();

struct Register {
  explicit Register(Command c) { registry().push_back(std::move(c)); }
};

// Accepts a whole number >= min (CLI11's numeric checks print ranges as 1.8e308 floats).
inline CLI::Validator integer_at_least(long long min) {
  return CLI::Validator(
      [min](std::string& s) -> std::string {
        size_t used = 0;
        long long v = 0;
        try {
          v = std::stoll(s, &used);
        } catch (...) {
          used = 0;
        }
        if (used == 0 || used != s.size() || v < min)
          return "must be a whole number >= " + std::to_string(min) + " (got " + s + ")";
        return "";
      },
      ">=" + std::to_string(min));
}

// Prints "gavel: <msg>" to stderr and returns the exit code for errors (1).
int fail(const std::string& msg);

}  // namespace gavel::cli
