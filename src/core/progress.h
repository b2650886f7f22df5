// Progress of long work on a log stream (stderr), so a long run is never silent. On a terminal
// one line is redrawn in place at most every 200 ms; on a file or a pipe a line is written at
// most every 5 s, and the final line once.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace gavel {

// "mm:ss", "h:mm:ss", or "--:--" for an unknown (NaN, negative) duration.
std::string format_duration(double seconds);

class ProgressLine {
 public:
  // `log` may be null (nothing is printed).
  ProgressLine(std::FILE* log, std::string label);
  // "<label> [#####.....] done/total elapsed mm:ss ETA mm:ss"; throttled unless `final`.
  void update(int64_t done, int64_t total, bool final = false);

 private:
  std::FILE* log_;
  std::string label_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_{};
  int64_t last_done_ = -1;
};

}  // namespace gavel
