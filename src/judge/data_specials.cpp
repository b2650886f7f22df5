#include "judge/data_specials.h"

#include <fmt/format.h>

#include <algorithm>

namespace gavel::judge {
namespace {

// Every string of a JSON value (values, not keys).
void collect_strings(const nlohmann::json& j, std::vector<std::string>& out) {
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_structured()) {
    for (const auto& v : j) collect_strings(v, out);
  }
}

bool contains(std::span<const std::string> texts, std::string_view needle) {
  return std::any_of(texts.begin(), texts.end(),
                     [&](const std::string& t) { return t.find(needle) != std::string::npos; });
}

// `s` with every occurrence of specials[i] (longest first at each position) replaced by
// marker + i + '@'.
std::string mark(std::string_view s, std::span<const std::string> specials,
                 const std::string& marker) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t hit = specials.size();
    for (size_t k = 0; k < specials.size(); ++k)
      if (s.substr(i, specials[k].size()) == specials[k]) {
        hit = k;
        break;
      }
    if (hit == specials.size()) {
      out += s[i++];
      continue;
    }
    out += fmt::format("{}{}@", marker, hit);
    i += specials[hit].size();
  }
  return out;
}

void mark_strings(nlohmann::json& j, std::span<const std::string> specials,
                  const std::string& marker) {
  if (j.is_string()) {
    j = mark(j.get_ref<const std::string&>(), specials, marker);
  } else if (j.is_structured()) {
    for (auto& v : j) mark_strings(v, specials, marker);
  }
}

}  // namespace

Result<std::vector<std::vector<TextSpan>>> locate_data_specials(
    const Item& item, const FieldMap& fields, std::span<const std::string> specials,
    std::span<const std::string> prompts, const PromptRenderer& render) {
  std::vector<std::vector<TextSpan>> spans(prompts.size());
  // The data's strings: the record's values and the --var constants.
  std::vector<std::string> data;
  collect_strings(item.record, data);
  for (const auto& [name, value] : fields.constants) data.push_back(value);
  // Specials that occur in the data and, as themselves, in a prompt (a format that escapes
  // them, json.dumps with ensure_ascii for non-ASCII ones, leaves no special text to guard).
  std::vector<std::string> found;
  for (const std::string& s : specials)
    if (!s.empty() && contains(data, s) && contains(prompts, s)) found.push_back(s);
  if (found.empty()) return spans;
  std::stable_sort(found.begin(), found.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });

  // A marker that occurs nowhere in the data or the prompts.
  std::string marker = "@gavel-data-special-";
  for (int n = 0; contains(data, marker) || contains(prompts, marker); ++n)
    marker = fmt::format("@gavel-data-special{}-", n);

  Item marked = item;
  mark_strings(marked.record, found, marker);
  FieldMap marked_fields = fields;
  for (auto& [name, value] : marked_fields.constants) value = mark(value, found, marker);
  GAVEL_ASSIGN(std::vector<std::string> rendered, render(marked, marked_fields));
  const Status changed = Status::InvalidArgument(
      "special-token text in the data did not come through the prompt format unchanged, so "
      "gavel cannot tell it from the template's own special tokens; --parse-special-in-data "
      "judges it with the model card's behaviour (parsed as special tokens)");
  if (rendered.size() != prompts.size()) return changed;
  for (size_t p = 0; p < rendered.size(); ++p) {
    const std::string& r = rendered[p];
    std::string restored;
    size_t i = 0;
    while (true) {
      const size_t at = r.find(marker, i);
      restored.append(r, i, at == std::string::npos ? std::string::npos : at - i);
      if (at == std::string::npos) break;
      size_t j = at + marker.size(), k = 0;
      const size_t digits = j;
      while (j < r.size() && r[j] >= '0' && r[j] <= '9') k = k * 10 + size_t(r[j++] - '0');
      if (j == digits || j >= r.size() || r[j] != '@' || k >= found.size()) return changed;
      spans[p].push_back({restored.size(), restored.size() + found[k].size()});
      restored += found[k];
      i = j + 1;
    }
    if (restored != prompts[p]) return changed;
  }
  return spans;
}

}  // namespace gavel::judge
