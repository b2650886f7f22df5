#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/csv.h"
#include "core/io.h"
#include "store/export.h"
#include "store/store.h"

namespace gavel::store {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("gavel_export_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

TEST(Export, JsonlAndFlattenedCsv) {
  const fs::path dir = temp_dir();
  const std::string db = (dir / "e.sqlite").string();
  {
    auto s = Store::open(db);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(
        (*s)->put(Judgment{"k1", "critique", "fp", "i1",
                           R"({"score":4,"verdict":{"probs":{"A":0.25}},"note":"a, \"b\""})", ""})
            .ok());
    ASSERT_TRUE(
        (*s)->put(Judgment{"k2", "critique", "fp", "i2", R"({"score":null,"extra":[1,2]})", ""})
            .ok());
  }
  const std::string jsonl = (dir / "out.jsonl").string();
  ASSERT_TRUE(export_judgments({db, ExportFormat::kJsonl, jsonl}).ok());
  auto text = read_file(jsonl);
  ASSERT_TRUE(text.ok());
  auto first = nlohmann::json::parse(text->substr(0, text->find('\n')));
  EXPECT_EQ(first["key"], "k1");
  EXPECT_EQ(first["record"]["verdict"]["probs"]["A"], 0.25);

  const std::string csv = (dir / "out.csv").string();
  ASSERT_TRUE(export_judgments({db, ExportFormat::kCsv, csv}).ok());
  auto rows = parse_csv(*read_file(csv), csv);
  ASSERT_TRUE(rows.ok()) << rows.message();
  ASSERT_EQ(rows->size(), 3u);
  const auto& head = (*rows)[0].cells;
  EXPECT_EQ(head, (std::vector<std::string>{"key", "created_at", "protocol", "model", "item_id",
                                            "score", "verdict.probs.A", "note", "extra"}));
  EXPECT_EQ((*rows)[1].cells[6], "0.25");
  EXPECT_EQ((*rows)[1].cells[7], "a, \"b\"");
  EXPECT_EQ((*rows)[2].cells[5], "");       // null
  EXPECT_EQ((*rows)[2].cells[8], "[1,2]");  // arrays as JSON text
  EXPECT_EQ((*rows)[2].cells.size(), head.size());

  EXPECT_EQ(parse_export_format("parquet").code(), StatusCode::kInvalidArgument);
  Status bad_out = export_judgments({db, ExportFormat::kCsv, (dir / "no/such/dir.csv").string()});
  EXPECT_EQ(bad_out.code(), StatusCode::kNotFound) << bad_out.message();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gavel::store
