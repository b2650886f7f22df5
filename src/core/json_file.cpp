#include "core/json_file.h"

#include "core/io.h"

namespace gavel {

Result<nlohmann::ordered_json> read_json_file(const std::string& path) {
  GAVEL_ASSIGN(std::string text, read_file(path));
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for 1e999
    return Error{path + ": invalid JSON: " + e.what(), StatusCode::kInvalidArgument};
  }
}

}  // namespace gavel
