// The dashboard's data, computed from a judgment store: the runs, each pairwise judge run's
// meta-evaluation (accuracy, positional consistency, calibration, position and length bias),
// the tournaments (leaderboard with CIs, plain and length-controlled ratings, separability,
// bias, ratings over rounds, writer x prompt heatmap) and recent judgments with their prompts.
// `gavel serve` answers it at /api/report; `gavel report` embeds it in one HTML file.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "gavel/status.h"
#include "meta/judge_metrics.h"
#include "store/store.h"

namespace gavel::report {

struct ReportOptions {
  int recent_judgments = 200;  // judgments listed (newest first) for the one-judgment view
  int calibration_bins = 10;
};

Result<nlohmann::json> build_report(store::Store& store, const ReportOptions& options = {});

// `gavel report`: opens the store, builds the data and writes the page with it inside to `out`
// (atomically). Errors name the store or the output file.
Status write_report(const std::string& store_path, const std::string& out,
                    const ReportOptions& options = {});

// The position and length bias figures as the dashboard reads them (judge runs, tournaments).
nlohmann::json bias_view(const meta::BiasReport& b);

// One judgment: its stored record and, when kept, the rendered prompts. nullopt: no such key.
Result<std::optional<nlohmann::json>> judgment_view(store::Store& store, std::string_view key);

}  // namespace gavel::report
