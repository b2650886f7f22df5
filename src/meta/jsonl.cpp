#include "meta/jsonl.h"

#include <fmt/format.h>

#include <cmath>
#include <sstream>

#include "core/io.h"

namespace gavel::meta {

namespace {

const nlohmann::json* find_field(const nlohmann::json& v, const std::string& field) {
  const nlohmann::json* cur = &v;
  size_t start = 0;
  while (true) {
    size_t dot = field.find('.', start);
    std::string key =
        field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) {
      // A literal key containing dots wins over nesting.
      auto whole = cur->find(field.substr(start));
      return whole == cur->end() ? nullptr : &*whole;
    }
    cur = &*it;
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

}  // namespace

bool Jsonl::has(const JsonlRow& row, const std::string& field) const {
  const auto* f = find_field(row.value, field);
  return f && !f->is_null();
}

bool Jsonl::has_null(const JsonlRow& row, const std::string& field) const {
  const auto* f = find_field(row.value, field);
  return f && f->is_null();
}

Result<double> Jsonl::number(const JsonlRow& row, const std::string& field) const {
  const auto* f = find_field(row.value, field);
  if (!f || f->is_null())
    return Error{fmt::format("{}:{}: missing field \"{}\"", path, row.line, field),
                 StatusCode::kInvalidArgument};
  double v;
  if (f->is_number()) {
    v = f->get<double>();
  } else if (f->is_boolean()) {
    v = f->get<bool>() ? 1.0 : 0.0;
  } else if (f->is_string()) {
    const std::string& s = f->get_ref<const std::string&>();
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0')
      return Error{
          fmt::format("{}:{}: field \"{}\" is not a number: \"{}\"", path, row.line, field, s),
          StatusCode::kInvalidArgument};
  } else {
    return Error{fmt::format("{}:{}: field \"{}\" is not a number", path, row.line, field),
                 StatusCode::kInvalidArgument};
  }
  if (!std::isfinite(v))
    return Error{fmt::format("{}:{}: field \"{}\" is not finite", path, row.line, field),
                 StatusCode::kInvalidArgument};
  return v;
}

Result<double> Jsonl::length(const JsonlRow& row, const std::string& field) const {
  const auto* f = find_field(row.value, field);
  if (f && f->is_string()) return static_cast<double>(f->get_ref<const std::string&>().size());
  return number(row, field);
}

Result<std::string> Jsonl::text(const JsonlRow& row, const std::string& field) const {
  const auto* f = find_field(row.value, field);
  if (!f || f->is_null())
    return Error{fmt::format("{}:{}: missing field \"{}\"", path, row.line, field),
                 StatusCode::kInvalidArgument};
  if (f->is_string()) return f->get<std::string>();
  if (f->is_number() || f->is_boolean()) return f->dump();
  return Error{fmt::format("{}:{}: field \"{}\" is not a string", path, row.line, field),
               StatusCode::kInvalidArgument};
}

Result<Jsonl> read_jsonl(const std::string& path) {
  GAVEL_ASSIGN(std::string data, read_file(path));
  Jsonl out;
  out.path = path;
  std::istringstream in(data);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto v = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded())
      return Error{fmt::format("{}:{}: invalid JSON", path, n), StatusCode::kInvalidArgument};
    if (!v.is_object())
      return Error{fmt::format("{}:{}: expected a JSON object", path, n),
                   StatusCode::kInvalidArgument};
    out.rows.push_back({n, std::move(v)});
  }
  if (out.rows.empty())
    return Error{fmt::format("{}: no JSON rows", path), StatusCode::kInvalidArgument};
  return out;
}

}  // namespace gavel::meta
