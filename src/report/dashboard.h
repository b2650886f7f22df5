// The dashboard page: one HTML file with its script and plain-SVG charts inline, no external
// resources. Served by `gavel serve` (the page fetches /api/report) or written whole by
// `gavel report` with the data embedded.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace gavel::report {

// The page as shipped (src/report/dashboard.html, embedded at build time).
std::string_view dashboard_page();

// The page with `data` (build_report's JSON) inside, for a self-contained file.
std::string dashboard_with_data(const nlohmann::json& data);

}  // namespace gavel::report
