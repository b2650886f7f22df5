#include "judge/templates.h"

namespace gavel::judge {

std::optional<std::string_view> find_template(std::string_view name) {
  for (const auto& t : embedded_templates())
    if (t.name == name) return t.text;
  return std::nullopt;
}

}  // namespace gavel::judge
