// `gavel store export --store F.sqlite --format jsonl|csv [--out F]`: the stored judgments
// (store/export.h); `gavel store count --store F.sqlite`: how many there are.
#include <cstdio>
#include <memory>
#include <string>

#include "command.h"
#include "store/export.h"
#include "store/store.h"

namespace {

using gavel::cli::fail;

struct Options {
  std::string store, format = "jsonl", out;
};

int run_export(const Options& o) {
  auto format = gavel::store::parse_export_format(o.format);
  if (!format.ok()) return fail("--format " + format.message());
  gavel::Status s = gavel::store::export_judgments({o.store, *format, o.out});
  return s.ok() ? 0 : fail(s.message());
}

int run_count(const Options& o) {
  auto st = gavel::store::Store::open(o.store, gavel::store::Access::kReadOnly);
  if (!st.ok()) return fail(st.message());
  auto n = (*st)->count();
  if (!n.ok()) return fail(n.message());
  std::printf("%lld\n", static_cast<long long>(*n));
  return 0;
}

gavel::cli::Register reg{{"store", "Inspect the judgment store (export as JSONL or CSV)",
                          [](CLI::App& app) -> gavel::cli::Runner {
                            auto o = std::make_shared<Options>();
                            app.require_subcommand(1);
                            gavel::cli::Subcommands subs("store");
                            CLI::App* ex =
                                app.add_subcommand("export", "Write every stored judgment");
                            ex->add_option("--store", o->store, "SQLite store")->required();
                            ex->add_option("--format", o->format, "jsonl | csv");
                            ex->add_option("--out,-o", o->out, "output file (default stdout)");
                            subs.add(ex, [o] { return run_export(*o); });
                            CLI::App* count =
                                app.add_subcommand("count", "Number of stored judgments");
                            count->add_option("--store", o->store, "SQLite store")->required();
                            subs.add(count, [o] { return run_count(*o); });
                            return subs.runner();
                          }}};

}  // namespace
