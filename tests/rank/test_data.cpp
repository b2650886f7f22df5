#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "rank/data.h"

using namespace gavel::rank;

namespace {

std::string write_tmp(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir();
  path.append(name);
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST(Data, PairwiseOutcomesAndErrors) {
  auto path = write_tmp("pw.jsonl",
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
  auto bad =
      write_tmp("pw_bad.jsonl", "{\"model_a\":\"x\",\"model_b\":\"y\",\"outcome\":\"maybe\"}\n");
  auto e = load_pairwise(bad, {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("pw_bad.jsonl:1"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("outcome"), std::string::npos);
  auto self = write_tmp("pw_self.jsonl", "{\"model_a\":\"x\",\"model_b\":\"x\",\"outcome\":1}\n");
  EXPECT_FALSE(load_pairwise(self, {}).ok());
  std::string missing = ::testing::TempDir();
  missing.append("missing.jsonl");
  EXPECT_FALSE(load_pairwise(missing, {}).ok());
}

TEST(Data, ItemsMeansAndMissing) {
  auto path = write_tmp("items.jsonl",
                        "{\"w\":\"a\",\"p\":1,\"v\":10,\"t\":\"abcd\"}\n"
                        "{\"w\":\"a\",\"p\":1,\"v\":20,\"t\":\"ab\"}\n"
                        "{\"w\":\"b\",\"p\":2,\"v\":null,\"t\":\"\"}\n"
                        "{\"w\":\"b\",\"p\":1,\"v\":5,\"t\":\"x\"}\n");
  // Designated init: assigning 1-char literals trips GCC 12's false -Wrestrict (PR 105329).
  ItemFields f{.group = "w", .prompt = "p", .value = "v", .length = "t"};
  auto e = load_items(path, f);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("items.jsonl:3: missing field \"v\""), std::string::npos)
      << e.message();
  f.skip_missing = true;
  auto d = load_items(path, f);
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->skipped, 1);
  EXPECT_DOUBLE_EQ(d->mean_value[0][0], 15.0);
  EXPECT_DOUBLE_EQ(d->mean_length[0][0], 3.0);
  EXPECT_DOUBLE_EQ(d->mean_value[1][0], 5.0);
}
