#include "judge/items.h"

#include <fmt/format.h>

#include "judge/critique.h"
#include "judge/py_format.h"
#include "judge/templates.h"
#include "meta/judgment_record.h"

namespace gavel::judge {
namespace {

// Template variable -> logical field it is read from.
const std::map<std::string, std::string>& template_aliases() {
  static const std::map<std::string, std::string> m = {{"user_input", "instruction"},
                                                       {"assistant_response", "response"},
                                                       {"assistant_response_a", "A"},
                                                       {"assistant_response_b", "B"},
                                                       {"reference_response", "reference"}};
  return m;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

FieldMap FieldMap::defaults() {
  FieldMap f;
  f.input_name = {{"instruction", "instruction"},
                  {"A", "response_a"},
                  {"B", "response_b"},
                  {"response", "response"},
                  {"reference", "reference"},
                  {"rubric", "rubric"},
                  {"label", "label"},
                  {"id", "id"}};
  for (const char* system : {meta::record::kSystemA, meta::record::kSystemB, meta::record::kSystem})
    f.input_name[system] = system;
  return f;
}

Status FieldMap::apply(const std::vector<std::string>& field_specs,
                       const std::vector<std::string>& var_specs) {
  for (const std::string& s : field_specs) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      return Error{fmt::format("--field '{}': expected logical=input_field", s),
                   StatusCode::kInvalidArgument};
    const FieldMap known = defaults();
    if (!known.input_name.count(s.substr(0, eq))) {
      std::string names;
      for (const auto& [logical, field] : known.input_name)
        names += (names.empty() ? "" : ", ") + logical;
      return Error{fmt::format("--field '{}': unknown logical field '{}' (known: {})", s,
                               s.substr(0, eq), names),
                   StatusCode::kInvalidArgument};
    }
    input_name[s.substr(0, eq)] = s.substr(eq + 1);
  }
  for (const std::string& s : var_specs) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error{fmt::format("--var '{}': expected name=value", s), StatusCode::kInvalidArgument};
    constants[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return Status::Ok();
}

std::string FieldMap::field_for(const std::string& logical) const {
  auto it = input_name.find(logical);
  return it == input_name.end() ? logical : it->second;
}

Result<Item> parse_item(std::string_view line_text, int64_t line, const FieldMap& fields) {
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(line_text);
  } catch (const nlohmann::json::exception& e) {
    return Error{fmt::format("line {}: invalid JSON: {}", line, e.what()),
                 StatusCode::kInvalidArgument};
  }
  return make_item(std::move(record), line, fields);
}

Result<Item> make_item(nlohmann::json record, int64_t line, const FieldMap& fields) {
  Item item;
  item.line = line;
  item.record = std::move(record);
  if (!item.record.is_object())
    return Error{
        fmt::format("line {}: expected a JSON object, got {}", line, item.record.type_name()),
        StatusCode::kInvalidArgument};
  auto id = item.record.find(fields.field_for("id"));
  if (id != item.record.end() && !id->is_null())
    item.id = id->is_string() ? id->get<std::string>() : id->dump();
  else
    item.id = fmt::format("line-{}", line);
  auto label = item.record.find(fields.field_for("label"));
  if (label != item.record.end() && !label->is_null()) item.label = *label;
  for (const char* logical :
       {meta::record::kSystemA, meta::record::kSystemB, meta::record::kSystem}) {
    if (auto c = fields.constants.find(logical); c != fields.constants.end()) {
      item.systems[logical] = c->second;
      continue;
    }
    const std::string field = fields.field_for(logical);
    auto v = item.record.find(field);
    if (v == item.record.end() || v->is_null()) continue;  // optional
    if (!v->is_string())
      return Error{fmt::format("line {}: system name field '{}' (logical '{}') must be a string, "
                               "got {}",
                               line, field, logical, v->type_name()),
                   StatusCode::kInvalidArgument};
    item.systems[logical] = v->get<std::string>();
  }
  return item;
}

Result<std::string> item_text(const Item& item, const FieldMap& fields,
                              const std::string& logical) {
  if (auto c = fields.constants.find(logical); c != fields.constants.end()) return c->second;
  std::string field = fields.field_for(logical);
  auto it = item.record.find(field);
  if (it == item.record.end() || it->is_null())
    return Error{
        fmt::format("line {}: missing field '{}' (logical '{}'; map it with --field {}=<name>)",
                    item.line, field, logical, logical),
        StatusCode::kInvalidArgument};
  if (!it->is_string())
    return Error{fmt::format("line {}: field '{}' must be a string, got {}", item.line, field,
                             it->type_name()),
                 StatusCode::kInvalidArgument};
  return it->get<std::string>();
}

Result<std::map<std::string, std::string>> split_rubric(std::string_view rubric, Mode mode) {
  std::string r = trim(rubric);
  std::vector<std::pair<std::string, std::string>> keys;  // line marker -> template variable
  if (mode == Mode::kClassify || mode == Mode::kClassifyRef)
    keys = {{"Yes:", "rubric_yes_description"}, {"No:", "rubric_no_description"}};
  else
    for (int k = 1; k <= 5; ++k)
      keys.push_back({fmt::format("Score {}:", k), fmt::format("rubric_score_{}_description", k)});
  // Each marker must start a line, in order.
  auto find_line = [&](const std::string& m, size_t from) {
    for (size_t at = r.find(m, from); at != std::string::npos; at = r.find(m, at + 1))
      if (at == 0 || r[at - 1] == '\n') return at;
    return std::string::npos;
  };
  std::vector<size_t> starts;
  size_t from = 0;
  for (const auto& key : keys) {
    size_t at = find_line(key.first, from);
    if (at == std::string::npos)
      return Error{fmt::format("rubric: no line starting '{}'", key.first),
                   StatusCode::kInvalidArgument};
    starts.push_back(at);
    from = at + key.first.size();
  }
  std::map<std::string, std::string> out;
  std::string objective = trim(r.substr(0, starts[0]));
  if (objective.size() >= 2 && objective.front() == '[' && objective.back() == ']')
    objective = objective.substr(1, objective.size() - 2);  // the template adds the brackets
  out["rubric_objective"] = objective;
  for (size_t k = 0; k < keys.size(); ++k) {
    size_t b = starts[k] + keys[k].first.size();
    size_t e = k + 1 < keys.size() ? starts[k + 1] : r.size();
    out[keys[k].second] = trim(r.substr(b, e - b));
  }
  return out;
}

Result<std::map<std::string, std::string>> selene_vars(const Item& item, const FieldMap& fields,
                                                       Mode mode, Format format, bool swap) {
  GAVEL_ASSIGN(std::string tname, critique_template_name(mode, format));
  auto text = find_template(tname);
  if (!text) return Error{"template not embedded: " + tname, StatusCode::kInternal};
  GAVEL_ASSIGN(std::set<std::string> needed, py_format_fields(*text));
  std::map<std::string, std::string> vars;
  std::optional<std::map<std::string, std::string>> rubric_parts;
  for (const std::string& var : needed) {
    // Constants and directly mapped template variables win over aliases and the rubric split.
    if (fields.constants.count(var) || fields.input_name.count(var)) {
      GAVEL_ASSIGN(vars[var], item_text(item, fields, var));
      continue;
    }
    if (auto a = template_aliases().find(var); a != template_aliases().end()) {
      std::string logical = a->second;
      if (swap && logical == "A")
        logical = "B";
      else if (swap && logical == "B")
        logical = "A";
      GAVEL_ASSIGN(vars[var], item_text(item, fields, logical));
      continue;
    }
    if (var.rfind("rubric_", 0) == 0) {
      if (!rubric_parts) {
        GAVEL_ASSIGN(std::string rubric, item_text(item, fields, "rubric"));
        auto parts = split_rubric(rubric, mode);
        if (!parts.ok())
          return Error{fmt::format("line {}: field '{}': {}", item.line, fields.field_for("rubric"),
                                   parts.message()),
                       StatusCode::kInvalidArgument};
        rubric_parts = std::move(*parts);
      }
      auto p = rubric_parts->find(var);
      if (p == rubric_parts->end())
        return Error{fmt::format("line {}: rubric has no part for {}", item.line, var),
                     StatusCode::kInvalidArgument};
      vars[var] = p->second;
      continue;
    }
    GAVEL_ASSIGN(vars[var], item_text(item, fields, var));
  }
  return vars;
}

std::optional<std::string> label_text(const nlohmann::json& label) {
  if (label.is_string()) return label.get<std::string>();
  if (label.is_boolean()) return label.get<bool>() ? "Yes" : "No";
  return std::nullopt;
}

}  // namespace gavel::judge
