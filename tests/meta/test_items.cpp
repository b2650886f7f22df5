#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "../temp_files.h"
#include "meta/items.h"
#include "meta/jsonl.h"

using namespace gavel::meta;

TEST(Items, MeansAndMissing) {
  auto path = gavel::testing::write_temp("items.jsonl",
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
  EXPECT_EQ(e.code(), gavel::StatusCode::kInvalidArgument);
  f.skip_missing = true;
  auto d = load_items(path, f);
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->skipped, 1);
  EXPECT_DOUBLE_EQ(d->mean_value[0][0], 15.0);
  EXPECT_DOUBLE_EQ(d->mean_length[0][0], 3.0);
  EXPECT_DOUBLE_EQ(d->mean_value[1][0], 5.0);
  ASSERT_EQ(d->prompts.size(), 1);  // prompt 2 had only the skipped item
}

TEST(Items, MissingPromptsTakeTheGroupMean) {
  ItemData d;
  const double nan = std::nan("");
  d.mean_value = {{10, nan, 30}, {nan, nan, nan}, {4, 6, 8}};
  d.mean_length = {{100, 300, nan}, {1, nan, 3}, {5, 5, 5}};
  fill_missing_with_group_means(d);
  EXPECT_EQ(d.mean_value[0], (std::vector<double>{10, 20, 30}));
  EXPECT_TRUE(std::isnan(d.mean_value[1][0]));  // nothing to take a mean of
  EXPECT_EQ(d.mean_value[2], (std::vector<double>{4, 6, 8}));
  EXPECT_EQ(d.mean_length[0], (std::vector<double>{100, 300, 200}));
  EXPECT_EQ(d.mean_length[1], (std::vector<double>{1, 2, 3}));
}

TEST(Jsonl, LengthIsATextsSizeOrANumber) {
  auto path = gavel::testing::write_temp(
      "len.jsonl", "{\"t\":\"abc\",\"n\":7,\"o\":{\"t\":\"hello\"},\"s\":\"12x\"}\n");
  auto js = read_jsonl(path);
  ASSERT_TRUE(js.ok());
  const JsonlRow& row = js->rows[0];
  EXPECT_EQ(*js->length(row, "t"), 3.0);
  EXPECT_EQ(*js->length(row, "n"), 7.0);
  EXPECT_EQ(*js->length(row, "o.t"), 5.0);
  EXPECT_EQ(*js->length(row, "s"), 3.0);  // a string is a text, even if it starts with digits
  auto missing = js->length(row, "none");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("len.jsonl:1: missing field \"none\""), std::string::npos);
}
