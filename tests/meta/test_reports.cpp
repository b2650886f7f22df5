// The meta reports end to end on small files: what they print (text, markdown, JSON, CSV) and
// their input handling (percentages, missing lengths, judgemark from published statistics).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include "../temp_files.h"
#include "core/io.h"
#include "meta/judgemark.h"
#include "meta/reports.h"

using namespace gavel::meta;

namespace {

// What print_report writes to a stream.
std::string printed(const Report& r, const ReportFormat& f) {
  std::FILE* out = std::tmpfile();
  EXPECT_TRUE(print_report(r, f, out).ok());
  std::rewind(out);
  std::string s;
  for (int c; (c = std::fgetc(out)) != EOF;) s += static_cast<char>(c);
  std::fclose(out);
  return s;
}

}  // namespace

TEST(Report, PrintsTablesMarkdownJsonAndCsv) {
  Table a({"name", "value"});
  a.add({"x", "1.5"});
  Table b({"statistic", "value"});
  b.add({"n", "3"});
  Report r{{{"n", 3}, {"nan", json_number(std::nan(""))}}, {a, b}, "preface\n"};
  EXPECT_EQ(printed(r, {}), "preface\n" + a.text() + "\n" + b.text());
  ReportFormat md;
  md.markdown = true;
  EXPECT_EQ(printed(r, md), "preface\n" + a.markdown() + "\n" + b.markdown());
  ReportFormat js;
  js.json = true;
  EXPECT_EQ(printed(r, js), "{\n  \"n\": 3,\n  \"nan\": null\n}\n");
  ReportFormat csv;
  csv.csv = gavel::testing::temp_path("main.csv");
  printed(r, csv);
  EXPECT_EQ(*gavel::read_file(csv.csv), a.csv());  // only the main table
  std::remove(csv.csv.c_str());
  csv.csv = "/nonexistent/dir/x.csv";
  std::FILE* out = std::tmpfile();
  gavel::Status st = print_report(r, csv, out);
  std::fclose(out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), gavel::StatusCode::kNotFound);
}

TEST(Report, PercentagesAreAPropertyOfTheFile) {
  std::vector<PairJudgment> pct = {{1, 2, 1, 1, 0.8, 1.0}, {1, 2, 1, 1, 70, 30}};
  EXPECT_TRUE(scale_percentages(pct));
  EXPECT_DOUBLE_EQ(pct[0].p_a_pass1, 0.008);  // 0.8% in a file of percentages
  EXPECT_DOUBLE_EQ(pct[0].p_a_pass2, 0.01);
  EXPECT_DOUBLE_EQ(pct[1].p_a_pass1, 0.7);
  std::vector<PairJudgment> frac = {{1, 2, 1, 1, 0.8, 1.0}, {1, 2, 1, 1, 0.7, 0.3}};
  EXPECT_FALSE(scale_percentages(frac));
  EXPECT_DOUBLE_EQ(frac[0].p_a_pass2, 1.0);
}

TEST(Report, PairwiseReadsPercentagesAndOptionalLengths) {
  // Card-style percentages; no length fields (fine unless a length filter asks for them).
  std::string path = gavel::testing::write_temp(
      "pairs.jsonl",
      "{\"score_1\":80,\"score_2\":70,\"p_a_pass1\":90,\"p_a_pass2\":20}\n"
      "{\"score_1\":60,\"score_2\":70,\"p_a_pass1\":60,\"p_a_pass2\":40}\n");
  PairwiseReportConfig cfg;
  cfg.in = path;
  cfg.p1 = "p_a_pass1";  // the defaults are gavel judge's names (pass1.p_A, pass2.p_A)
  cfg.p2 = "p_a_pass2";
  auto r = pairwise_report(cfg);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->json["n"], 2);
  EXPECT_DOUBLE_EQ(r->json["strict_accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(r->json["positional_consistency"].get<double>(), 1.0);
  EXPECT_NEAR(r->json["mean_target_mass"].get<double>(), ((0.9 + 0.8) / 2 + 0.4) / 2, 1e-15);
  cfg.filter.max_len_ratio = 2;
  auto need_len = pairwise_report(cfg);
  ASSERT_FALSE(need_len.ok());
  EXPECT_NE(need_len.message().find("pairs.jsonl:1: missing field \"len_1\""), std::string::npos)
      << need_len.message();
}

// gavel judge's records as they are: nested pass probabilities, the gold side from the label.
TEST(Report, PairwiseDefaultsReadJudgeRecords) {
  std::string path = gavel::testing::write_temp(
      "judged.jsonl",
      "{\"label\":\"A\",\"pass1\":{\"p_A\":0.9},\"pass2\":{\"p_A\":0.2}}\n"
      "{\"label\":\"B\",\"pass1\":{\"p_A\":0.6},\"pass2\":{\"p_A\":0.4}}\n"
      "{\"label\":\"tie\",\"pass1\":{\"p_A\":0.5},\"pass2\":{\"p_A\":0.5}}\n");
  PairwiseReportConfig cfg;
  cfg.in = path;
  auto r = pairwise_report(cfg);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->json["n"], 2);
  EXPECT_EQ(r->json["labels_not_scored"]["tie"], 1);
  EXPECT_DOUBLE_EQ(r->json["strict_accuracy"].get<double>(), 0.5);
  EXPECT_NEAR(r->json["mean_target_mass"].get<double>(), ((0.9 + 0.8) / 2 + 0.4) / 2, 1e-15);
}

TEST(Report, CorrelationNamesTheFileOnBadInput) {
  std::string path = gavel::testing::write_temp("corr.jsonl", "{\"x\":1,\"y\":2}\n{\"x\":2}\n");
  auto r = correlation_report({path, "x", "y"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("corr.jsonl:2: missing field \"y\""), std::string::npos);
  std::string one = gavel::testing::write_temp("corr1.jsonl", "{\"x\":1,\"y\":2}\n");
  auto small = correlation_report({one, "x", "y"});
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.message().rfind(one + ": ", 0), 0u) << small.message();
}

TEST(Judgemark, FromStatsIsTheSameFormula) {
  JudgemarkInput in;
  in.scores = {1, 5, 2, 8, 3};
  in.references["arena_elo"] = {1000, 1200, 1100, 1300, 1050};
  auto r = judgemark_v1(in);
  ASSERT_TRUE(r.ok()) << r.message();
  std::map<std::string, double> stats = r->stats;
  stats["std_dev"] = r->std_dev;
  EXPECT_DOUBLE_EQ(judgemark_v1_from_stats(stats, -1), r->score);
  in.anova_f = 14;
  auto r4 = judgemark_v1(in);
  EXPECT_EQ(r4->terms, 4);
  EXPECT_DOUBLE_EQ(judgemark_v1_from_stats(stats, 14), r4->score);
  EXPECT_DOUBLE_EQ(judgemark_v1_score(2, -1, 30, 56), 100 * 3.0 / 4);  // terms clamp to [0,1]
  stats.erase("std_dev");
  EXPECT_TRUE(std::isnan(judgemark_v1_from_stats(stats, -1)));
}

TEST(Judgemark, ReportOnThePublishedResults) {
  const std::string path =
      std::string(GAVEL_SHARED_DIR) + "/data/eqbench/judgemark-v1/judgemark_v1_judge_results.json";
  auto r = judgemark_report(path);
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->json.size(), 26u);
  for (const auto& j : r->json) EXPECT_GT(j["judgemark"].get<double>(), 0) << j["judge"];
  std::string bad =
      gavel::testing::write_temp("jm.json", "{\"writers\": [\"a/b\"], \"judges\": []}");
  auto e = judgemark_report(bad);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("missing field \"reference_benchmarks_arena_eqbench_magi\""),
            std::string::npos);
}

// Fields of the wrong type are errors naming the judge and the field, never an exception.
TEST(Judgemark, WrongTypesAreErrorsNotExceptions) {
  const std::string head =
      R"({"writers": ["o/w1", "o/w2", "o/w3"], "reference_benchmarks_arena_eqbench_magi":
          {"w1": [1, 2], "w2": [2, 3], "w3": [3, 1]}, "judges": [)";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"judge": 5, "writer_scores": {"o/w1": 1, "o/w2": 2, "o/w3": 3}})",
       "judge 1: field \"judge\" (its name) is not a string"},
      {R"({"judge": "j", "writer_scores": [1, 2, 3]})",
       "judge j: field \"writer_scores\" is not an object"},
      {R"({"judge": "j", "writer_scores": {"o/w1": 1, "o/w2": 2, "o/w3": 3}, "stats": 4})",
       "judge j: field \"stats\" is not an object"},
  };
  for (const auto& [judge, msg] : cases) {
    std::string path = gavel::testing::write_temp("jm_types.json", head + judge + "]}");
    gavel::Result<Report> r = gavel::Error{"not run"};
    EXPECT_NO_THROW(r = judgemark_report(path)) << judge;
    ASSERT_FALSE(r.ok()) << judge;
    EXPECT_NE(r.message().find(msg), std::string::npos) << r.message();
    EXPECT_EQ(r.code(), gavel::StatusCode::kInvalidArgument);
    std::remove(path.c_str());
  }
  std::string path = gavel::testing::write_temp("jm_list.json", "[1]");
  auto r = judgemark_report(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("not a judge-results object"), std::string::npos) << r.message();
  std::remove(path.c_str());
}
