// Range checks of numeric parameters: NaN and infinities fail every check, and the error names
// the parameter and the value.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/checks.h"

using namespace gavel;

TEST(Checks, NanAndInfinityFailEveryCheck) {
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  for (double v : {nan, inf, -inf}) {
    EXPECT_FALSE(check_open_unit("level", v).ok()) << v;
    EXPECT_FALSE(check_positive("tau", v).ok()) << v;
    EXPECT_FALSE(check_finite("anchor", v).ok()) << v;
    EXPECT_FALSE(check_at_least("k", v, 0).ok()) << v;
  }
  Status s = check_open_unit("level", nan);
  EXPECT_EQ(s.message(), "level: must be in (0, 1), got nan");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(Checks, Bounds) {
  EXPECT_TRUE(check_open_unit("level", 0.95).ok());
  for (double v : {0.0, 1.0, 2.0, -1.0, 1e6}) EXPECT_FALSE(check_open_unit("level", v).ok()) << v;
  EXPECT_TRUE(check_positive("tau", 1e-9).ok());
  EXPECT_FALSE(check_positive("tau", 0).ok());
  EXPECT_TRUE(check_at_least("k", 0, 0).ok());
  EXPECT_EQ(check_at_least("k", -1, 0).message(), "k: must be a finite number >= 0, got -1");
  EXPECT_TRUE(check_count("bins", 10, 1, 100).ok());
  EXPECT_EQ(check_count("bins", 1000000000, 1, 100000, "(memory)").message(),
            "bins: must be 1..100000 (memory), got 1000000000");
  EXPECT_FALSE(check_count("bootstrap", -1, 0, 10).ok());
}
