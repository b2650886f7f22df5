// Subcommand registry: each cmd_*.cpp registers itself at static-init time, so adding a
// command never touches main.cpp. A command's setup() declares its flags on the CLI11
// subcommand and returns the function to run once parsing succeeded (its exit code).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

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

// Prints "gavel: <msg>" to stderr and returns the exit code for errors (1).
int fail(const std::string& msg);

// A command made of subcommands (`gavel rank fit`, ...): each subcommand's function runs when
// that subcommand was parsed.
class Subcommands {
 public:
  explicit Subcommands(std::string command) : command_(std::move(command)) {}
  void add(CLI::App* sub, std::function<int()> run) { subs_.emplace_back(sub, std::move(run)); }
  Runner runner() const {
    return [subs = subs_, command = command_]() -> int {
      for (const auto& [sub, run] : subs)
        if (sub->parsed()) return run();
      return fail(command + ": no subcommand given (see gavel " + command + " --help)");
    };
  }

 private:
  std::string command_;
  std::vector<std::pair<CLI::App*, std::function<int()>>> subs_;
};

}  // namespace gavel::cli
