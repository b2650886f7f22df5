#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "../temp_files.h"
#include "rank/data.h"

using namespace gavel::rank;

TEST(Data, PairwiseOutcomesAndErrors) {
  auto path =
      gavel::testing::write_temp("pw.jsonl",
                                 "{\"model_a\":\"x\",\"model_b\":\"y\",\"outcome\":\"A\"}\n\n"
                                 "{\"model_a\":\"y\",\"model_b\":\"z\",\"outcome\":\"tie\"}\n"
                                 "{\"model_a\":\"z\",\"model_b\":\"x\",\"outcome\":0.25}\n");
  auto d = load_pairwise(path, {});
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->players.size(), 3);
  ASSERT_EQ(d->outcomes.size(), 3u);
  EXPECT_DOUBLE_EQ(d->outcomes[0].score, 1.0);
  EXPECT_DOUBLE_EQ(d->outcomes[1].score, 0.5);
  EXPECT_DOUBLE_EQ(d->outcomes[2].score, 0.25);
  auto bad = gavel::testing::write_temp(
      "pw_bad.jsonl", "{\"model_a\":\"x\",\"model_b\":\"y\",\"outcome\":\"maybe\"}\n");
  auto e = load_pairwise(bad, {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("pw_bad.jsonl:1"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("outcome"), std::string::npos);
  auto self = gavel::testing::write_temp("pw_self.jsonl",
                                         "{\"model_a\":\"x\",\"model_b\":\"x\",\"outcome\":1}\n");
  EXPECT_FALSE(load_pairwise(self, {}).ok());
  std::string missing = ::testing::TempDir();
  missing.append("missing.jsonl");
  EXPECT_FALSE(load_pairwise(missing, {}).ok());
}
