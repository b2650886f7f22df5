// `gavel report --store F.sqlite -o report.html`: the dashboard `gavel serve` shows at /, as one
// self-contained HTML file (data, script and charts inline; nothing loaded from the network).
#include <memory>

#include "command.h"
#include "report/report_model.h"

namespace {

struct Options {
  std::string store, out = "report.html";
  gavel::report::ReportOptions report;
};

gavel::cli::Register reg{
    {"report", "Write the dashboard of a judgment store as one HTML file",
     [](CLI::App& app) -> gavel::cli::Runner {
       auto o = std::make_shared<Options>();
       app.add_option("--store", o->store, "SQLite judgment store")->required();
       app.add_option("--out,-o", o->out, "output HTML file")->capture_default_str();
       app.add_option("--judgments", o->report.recent_judgments,
                      "most recent judgments listed (with their prompts)")
           ->check(CLI::Range(0, 100000))
           ->capture_default_str();
       return [o]() -> int {
         auto st = gavel::report::write_report(o->store, o->out, o->report);
         if (!st.ok()) return gavel::cli::fail(st.message());
         std::fprintf(stderr, "gavel report: wrote %s\n", o->out.c_str());
         return 0;
       };
     }}};

}  // namespace
