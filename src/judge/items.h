// Input records -> judge items. A JSONL line is an object; --field maps the protocol's logical
// fields to the record's own names (--field instruction=question --field A=response_a), --var
// sets constants. Logical names: instruction, A, B (pairwise), response, reference, rubric,
// label, id, model_a / model_b / model (the systems that wrote the texts, optional), plus any
// Selene template variable by its own name (rubric_objective, rubric_score_1_description, ...,
// rubric_yes_description, rubric_no_description).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gavel/status.h"
#include "judge/protocol.h"

namespace gavel::judge {

struct FieldMap {
  std::map<std::string, std::string> input_name;  // logical -> record field
  std::map<std::string, std::string> constants;   // --var name=value

  // Defaults match the normalised benchmark files in shared/data/bench.
  static FieldMap defaults();
  // "logical=field" specs override the defaults; "name=value" var specs set constants.
  Status apply(const std::vector<std::string>& field_specs,
               const std::vector<std::string>& var_specs);
  std::string field_for(const std::string& logical) const;
};

struct Item {
  int64_t line = 0;  // 1-based line in the input file
  std::string id;    // the record's id, else "line-<n>"
  nlohmann::json record;
  std::optional<nlohmann::json> label;
  // The systems that wrote the texts (logical model_a, model_b, model), when the input names
  // them: carried into the output record so rankings can read it (meta/judgment_record.h).
  std::map<std::string, std::string> systems;
};

// Parses one JSONL line; errors name the line.
Result<Item> parse_item(std::string_view line_text, int64_t line, const FieldMap& fields);
// The same from an already parsed record (the server's judge API); `line` is its 1-based index.
Result<Item> make_item(nlohmann::json record, int64_t line, const FieldMap& fields);

// A logical string field of an item (constants first, then the mapped record field). Errors
// name the line and both the logical and the record field.
Result<std::string> item_text(const Item& item, const FieldMap& fields, const std::string& logical);

// A label as text: strings as they are, booleans as "Yes"/"No"; nullopt for anything else.
std::optional<std::string> label_text(const nlohmann::json& label);

// Splits a Prometheus-style rubric "[objective]\nScore 1: ...\n...Score 5: ..." (or Yes:/No:)
// into the Selene template variables.
Result<std::map<std::string, std::string>> split_rubric(std::string_view rubric, Mode mode);

// All variables the Selene template for (mode, format) needs, for one item; `swap` exchanges
// A and B (pairwise, second order).
Result<std::map<std::string, std::string>> selene_vars(const Item& item, const FieldMap& fields,
                                                       Mode mode, Format format, bool swap);

}  // namespace gavel::judge
