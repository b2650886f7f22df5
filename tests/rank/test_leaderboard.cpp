#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "rank/leaderboard.h"

namespace gavel::rank {
namespace {

std::string write(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() /
           ("gavel_lb_" + std::to_string(getpid()) + "_" + name);
  std::ofstream(p) << text;
  return p.string();
}

TEST(Leaderboard, ReadsNamesAndValuesDroppingMarks) {
  auto path = write("ok.csv", "model_name,elo_score,x\n*a,1200.5,1\nb,1100,2\r\n\nc,900,3\n");
  auto b = read_leaderboard_csv(path, "model_name", "elo_score");
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_EQ(b->size(), 3u);
  EXPECT_EQ(b->at("a"), 1200.5);
  EXPECT_EQ(b->at("c"), 900);
  std::filesystem::remove(path);
}

TEST(Leaderboard, ErrorsNameFileLineAndColumn) {
  auto path = write("bad.csv", "model_name,elo_score\na,1\nb,x1\n");
  auto b = read_leaderboard_csv(path, "model_name", "elo_score");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.message().find(path + ":3"), std::string::npos) << b.message();
  EXPECT_NE(b.message().find("elo_score"), std::string::npos);
  EXPECT_FALSE(read_leaderboard_csv(path, "model_name", "nope").ok());
  EXPECT_FALSE(read_leaderboard_csv(path + ".missing", "model_name", "elo_score").ok());
  std::filesystem::remove(path);
}

TEST(Leaderboard, AgreementOverCommonNames) {
  std::map<std::string, double> board{{"a", 4}, {"b", 3}, {"c", 2}, {"d", 1}};
  auto same = leaderboard_agreement(board, {"a", "b", "c", "d", "zz"}, {10, 9, 8, 7, 100});
  ASSERT_TRUE(same.ok()) << same.message();
  EXPECT_DOUBLE_EQ(same->kendall.r, 1.0);
  EXPECT_EQ(same->kendall.n, 4);
  EXPECT_EQ(same->missing, std::vector<std::string>{"zz"});
  // One adjacent swap of 4: tau = (5 - 1) / 6.
  auto swap = leaderboard_agreement(board, {"a", "b", "c", "d"}, {10, 8, 9, 7});
  ASSERT_TRUE(swap.ok());
  EXPECT_NEAR(swap->kendall.r, 4.0 / 6.0, 1e-12);
  EXPECT_FALSE(leaderboard_agreement(board, {"x", "y"}, {1, 2}).ok());
}

}  // namespace
}  // namespace gavel::rank
