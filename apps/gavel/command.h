// Subcommand registry: each cmd_*.cpp registers itself at static-init time, so adding a
// command never touches main.cpp. A command's setup() declares its flags on the CLI11
// subcommand and returns the function to run once parsing succeeded (its exit code).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/io.h"

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

// Refuses, at parse time, an output file (the value of `flag`) that is the same file as the
// value of any other option given to `app` (its inputs): writing it would destroy the input.
inline void refuse_output_over_inputs(CLI::App* app, const std::string& flag) {
  app->parse_complete_callback([app, flag] {
    const CLI::Option* out = app->get_option_no_throw(flag);
    if (!out || !out->count()) return;
    std::vector<gavel::NamedPath> inputs;
    for (const CLI::Option* opt : app->get_options())
      if (opt != out && opt->count())
        for (const std::string& v : opt->results()) inputs.push_back({opt->get_name(), v});
    gavel::Status s = gavel::check_not_an_input({flag, out->results().front()}, inputs);
    if (!s.ok()) throw CLI::ValidationError(s.message());
  });
}

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
