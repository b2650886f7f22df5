// The prompt templates shipped with gavel (src/judge/templates/*.txt, embedded at build time).
// Names: card_system, selene_<mode>, selene_pairwise-<format>.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace gavel::judge {

struct EmbeddedTemplate {
  std::string_view name;
  std::string_view text;
};

const std::vector<EmbeddedTemplate>& embedded_templates();
std::optional<std::string_view> find_template(std::string_view name);

}  // namespace gavel::judge
