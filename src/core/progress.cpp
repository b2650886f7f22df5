#include "core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

namespace gavel {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  auto t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{:02}:{:02}", t / 60, t % 60);
}

ProgressLine::ProgressLine(std::FILE* log, std::string label)
    : log_(log),
      label_(std::move(label)),
      tty_(log && ::isatty(::fileno(log))),
      start_(std::chrono::steady_clock::now()) {}

void ProgressLine::update(int64_t done, int64_t total, bool final) {
  if (!log_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!final && now - last_ < std::chrono::milliseconds(tty_ ? 200 : 5000)) return;
  if (final && !tty_ && done == last_done_) return;  // that line is in the log already
  last_ = now;
  last_done_ = done;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta =
      done > 0 && total >= done ? elapsed * double(total - done) / double(done) : NAN;
  constexpr int kWidth = 24;
  const int filled = total > 0 ? static_cast<int>(kWidth * std::min(done, total) / total) : kWidth;
  std::fprintf(log_, "%s%s [%s%s] %lld/%lld elapsed %s ETA %s%s", tty_ ? "\r" : "", label_.c_str(),
               std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
               static_cast<long long>(done), static_cast<long long>(total),
               format_duration(elapsed).c_str(), format_duration(eta).c_str(),
               tty_ && !final ? "" : "\n");
  std::fflush(log_);
}

}  // namespace gavel
