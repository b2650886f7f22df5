#include "meta/report.h"

#include <cmath>

#include "core/io.h"

namespace gavel::meta {

Status print_report(const Report& report, const ReportFormat& format, std::FILE* out) {
  if (!format.csv.empty()) {
    if (report.tables.empty())
      return Error{format.csv + ": this report has no table to write", StatusCode::kInternal};
    GAVEL_TRY(write_file_atomic(format.csv, report.tables.front().csv()));
  }
  if (format.json) {
    std::fprintf(out, "%s\n", report.json.dump(2).c_str());
    return Status::Ok();
  }
  std::fputs(report.preface.c_str(), out);
  for (size_t i = 0; i < report.tables.size(); ++i) {
    if (i) std::fputs("\n", out);
    const Table& t = report.tables[i];
    std::fputs(format.markdown ? t.markdown().c_str() : t.text().c_str(), out);
  }
  return Status::Ok();
}

nlohmann::json json_number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace gavel::meta
