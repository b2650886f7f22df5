// The progress line: durations, and a log that is not a terminal gets the first line, then at
// most one every 5 s, and the final line exactly once.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "core/progress.h"

using namespace gavel;

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(0), "00:00");
  EXPECT_EQ(format_duration(61.4), "01:01");
  EXPECT_EQ(format_duration(3725), "1:02:05");
  EXPECT_EQ(format_duration(std::nan("")), "--:--");
  EXPECT_EQ(format_duration(-1), "--:--");
}

TEST(Progress, LogGetsFirstAndFinalLineOnce) {
  std::FILE* log = std::tmpfile();
  ProgressLine line(log, "curve");
  for (int i = 1; i <= 100; ++i) line.update(i, 100, i == 100);
  line.update(100, 100, true);  // a second final call adds nothing
  std::rewind(log);
  std::string text;
  for (int c; (c = std::fgetc(log)) != EOF;) text += static_cast<char>(c);
  std::fclose(log);
  EXPECT_EQ(text.find("curve [........................] 1/100 elapsed 00:00 ETA"), 0u) << text;
  EXPECT_NE(text.find("\ncurve [########################] 100/100 elapsed"), std::string::npos)
      << text;
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines, 2u) << text;
  ProgressLine none(nullptr, "x");
  none.update(1, 2, true);  // no stream: nothing, no crash
}
