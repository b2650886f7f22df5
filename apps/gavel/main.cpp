#include <algorithm>
#include <cstdio>
#include <map>

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
    if (sub->parsed()) return run();
  return fail("no command given (see --help)");
}
