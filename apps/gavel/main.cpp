#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <new>
#include <string>

#include "command.h"

namespace gavel::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "gavel: %s\n", msg.c_str());
  return 1;
}

}  // namespace gavel::cli

int main(int argc, char** argv) {
  using namespace gavel::cli;
  CLI::App app{"gavel: run LLM judges locally and at scale, exactly and fast"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gavel 0.1.0");
  app.option_defaults()->always_capture_default();  // --help shows every default value
  auto commands = registry();
  std::sort(commands.begin(), commands.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
  std::map<CLI::App*, Runner> runners;
  for (auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    runners[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (auto& [sub, run] : runners)
    if (sub->parsed()) {
      int rc = 0;
      // Library code reports errors as values; an exception reaching here is a bug, and it must
      // still end in a message and an exit code, never in std::terminate's abort.
      try {
        rc = run();
      } catch (const std::bad_alloc&) {
        return fail("out of memory");
      } catch (const std::exception& e) {
        return fail(std::string("internal error: ") + e.what());
      } catch (...) {
        return fail("internal error: unknown exception");
      }
      // Output printed to stdout is only known to have been written once it is flushed: a
      // full disk or /dev/full must not pass for success.
      errno = 0;
      const bool flush_failed = std::fflush(stdout) != 0;
      const int e = errno;
      if (flush_failed || std::ferror(stdout)) {
        const int rc_io = fail(std::string("standard output: write failed: ") +
                               (flush_failed && e ? std::strerror(e) : "I/O error"));
        return rc ? rc : rc_io;
      }
      return rc;
    }
  return fail("no command given (see --help)");
}
