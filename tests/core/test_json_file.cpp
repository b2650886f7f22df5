// read_json_file: every way a document can be bad is an Error naming the path, never an
// exception (a number too large for a double is nlohmann's out_of_range, not parse_error).
#include <gtest/gtest.h>

#include <fstream>

#include "core/json_file.h"
#include "temp_dir_test.h"

namespace gavel {
namespace {

class JsonFileTest : public TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = path(name);
    std::ofstream(p) << text;
    return p;
  }
};

TEST_F(JsonFileTest, KeepsKeyOrder) {
  auto r = read_json_file(write("ok.json", R"({"b": 1, "a": [2.5, "x"]})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->dump(), R"({"b":1,"a":[2.5,"x"]})");
}

TEST_F(JsonFileTest, BadDocumentsAreErrorsNamingThePath) {
  for (const char* text : {"{", "{\"a\": 1e999}", "[-2e400]", ""}) {
    const std::string p = write("bad.json", text);
    auto r = read_json_file(p);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, StatusCode::kInvalidArgument) << text;
    EXPECT_NE(r.error().message.find(p + ": invalid JSON"), std::string::npos) << r.error().message;
  }
  auto missing = read_json_file(path("none.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, StatusCode::kNotFound);
}

}  // namespace
}  // namespace gavel
