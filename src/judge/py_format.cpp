#include "judge/py_format.h"

#include <cctype>

#include <fmt/format.h>

namespace gavel::judge {
namespace {

// Walks the template once; `on_text` gets literal runs, `on_field` gets field names.
template <class OnText, class OnField>
Status walk(std::string_view t, OnText on_text, OnField on_field) {
  size_t i = 0;
  while (i < t.size()) {
    char c = t[i];
    if (c == '{' && i + 1 < t.size() && t[i + 1] == '{') {
      on_text(std::string_view("{"));
      i += 2;
    } else if (c == '}' && i + 1 < t.size() && t[i + 1] == '}') {
      on_text(std::string_view("}"));
      i += 2;
    } else if (c == '}') {
      return Error{fmt::format("template offset {}: single '}}' encountered", i),
                   StatusCode::kInvalidArgument};
    } else if (c == '{') {
      size_t end = t.find('}', i + 1);
      if (end == std::string_view::npos)
        return Error{fmt::format("template offset {}: unmatched '{{'", i),
                     StatusCode::kInvalidArgument};
      std::string_view name = t.substr(i + 1, end - i - 1);
      if (name.empty())
        return Error{fmt::format("template offset {}: positional field {{}}", i),
                     StatusCode::kInvalidArgument};
      for (char ch : name)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'))
          return Error{fmt::format("template offset {}: unsupported field syntax {{{}}}", i, name),
                       StatusCode::kInvalidArgument};
      GAVEL_TRY(on_field(name));
      i = end + 1;
    } else {
      size_t next = t.find_first_of("{}", i);
      if (next == std::string_view::npos) next = t.size();
      on_text(t.substr(i, next - i));
      i = next;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> py_format(std::string_view tmpl, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(tmpl.size() * 2);
  GAVEL_TRY(walk(
      tmpl, [&](std::string_view s) { out.append(s); },
      [&](std::string_view name) -> Status {
        auto it = vars.find(std::string(name));
        if (it == vars.end())
          return Error{fmt::format("missing template variable '{}'", name),
                       StatusCode::kInvalidArgument};
        out += it->second;
        return Status::Ok();
      }));
  return out;
}

Result<std::set<std::string>> py_format_fields(std::string_view tmpl) {
  std::set<std::string> names;
  GAVEL_TRY(walk(
      tmpl, [](std::string_view) {},
      [&](std::string_view name) -> Status {
        names.insert(std::string(name));
        return Status::Ok();
      }));
  return names;
}

}  // namespace gavel::judge
