#include "judge/critique.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstring>

#include "judge/py_format.h"
#include "judge/templates.h"

namespace gavel::judge {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool starts_with_at(std::string_view s, size_t i, std::string_view p) {
  return i + p.size() <= s.size() && s.substr(i, p.size()) == p;
}

// Canonical label for `raw` in `mode`, or "" if it is not one of the mode's labels.
std::string canonical_label(std::string_view raw, Mode mode) {
  std::string l;
  for (char c : raw) l += lower(c);
  for (const std::string& label : mode_labels(mode)) {
    std::string ll;
    for (char c : label) ll += lower(c);
    if (l == ll) return label;
  }
  return "";
}

}  // namespace

Result<std::string> critique_template_name(Mode mode, Format format) {
  if (format == Format::kOriginal) return fmt::format("selene_{}", name(mode));
  if (mode != Mode::kPairwise)
    return Error{fmt::format("format '{}' exists for pairwise mode only (Selene paper, Appendix E)",
                             name(format)),
                 StatusCode::kInvalidArgument};
  return fmt::format("selene_pairwise-{}", name(format));
}

Result<std::string> critique_user_content(Mode mode, Format format,
                                          const std::map<std::string, std::string>& vars) {
  GAVEL_ASSIGN(std::string tname, critique_template_name(mode, format));
  auto text = find_template(tname);
  if (!text) return Error{"template not embedded: " + tname, StatusCode::kInternal};
  auto out = py_format(*text, vars);
  if (!out.ok()) return out.status().prefixed(fmt::format("template {}: ", tname));
  return out;
}

Result<std::string> critique_prompt(const std::string& user_content, const CritiqueConfig& cfg,
                                    const BackendInfo& info, const ChatRenderer& render) {
  nlohmann::json messages = nlohmann::json::array({{{"role", "user"}, {"content", user_content}}});
  auto prompt = render(messages, chat_vars(info, cfg.thinking));
  if (!prompt.ok()) return prompt.status().prefixed("chat template: ");
  return prompt;
}

std::string_view name(Outcome o) {
  switch (o) {
    case Outcome::kValid:
      return "valid";
    case Outcome::kParseError:
      return "parse_error";
    case Outcome::kInvalidLabel:
      return "invalid_label";
    case Outcome::kTruncated:
      return "truncated";
  }
  return "?";
}

ParsedVerdict parse_verdict(std::string_view text, Mode mode, bool hit_max_tokens) {
  ParsedVerdict v;
  // Find the last acceptable marker. "result" must be a whole word followed by ':' (bold may
  // close before or after the colon). A bold marker may sit mid-line; a plain "Result:" must
  // start its line (after list/heading/quote marks), so prose like "as a result: x" is no marker.
  for (size_t i = 0; i + 6 <= text.size(); ++i) {
    if (lower(text[i]) != 'r') continue;
    bool word = true;
    for (size_t k = 0; k < 6 && word; ++k) word = lower(text[i + k]) == "result"[k];
    if (!word || (i > 0 && is_word(text[i - 1])) || (i + 6 < text.size() && is_word(text[i + 6])))
      continue;
    size_t j = i + 6;
    bool bold_after = false;
    if (starts_with_at(text, j, "**")) j += 2, bold_after = true;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
    if (j >= text.size() || text[j] != ':') continue;
    ++j;
    if (starts_with_at(text, j, "**")) j += 2, bold_after = true;
    size_t b = i;
    bool bold_before = b >= 2 && text.substr(b - 2, 2) == "**";
    if (bold_before) b -= 2;
    bool line_start = true;
    for (size_t k = b; k > 0 && text[k - 1] != '\n'; --k)
      if (!std::strchr(" \t#>-*", text[k - 1])) {
        line_start = false;
        break;
      }
    if (!(line_start || bold_before || bold_after)) continue;
    v.has_marker = true;
    v.marker_end = j;
  }
  if (!v.has_marker) {
    v.outcome = hit_max_tokens ? Outcome::kTruncated : Outcome::kParseError;
    return v;
  }
  size_t j = v.marker_end;
  while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
  // Opening decoration the model may put around the label: bold, italics, brackets, quotes.
  while (j < text.size() && std::strchr("*_[<(\"'`", text[j]) && text[j] != '\0') ++j;
  v.separator = std::string(text.substr(v.marker_end, j - v.marker_end));
  size_t e = j;
  while (e < text.size() && !std::isspace(static_cast<unsigned char>(text[e])) &&
         !std::strchr("*_]>)\"'`.,;:!?/", text[e]))
    ++e;
  v.raw_label = std::string(text.substr(j, e - j));
  // "Response A" / "Score 4": the label is the next word.
  std::string first;
  for (char c : v.raw_label) first += lower(c);
  if ((first == "response" || first == "score") && e < text.size() && text[e] == ' ') {
    size_t k = e + 1, f = k;
    while (f < text.size() && is_word(text[f])) ++f;
    if (f > k) v.raw_label = std::string(text.substr(j, f - j)), j = k, e = f;
  }
  std::string word = std::string(text.substr(j, e - j));
  std::string label = canonical_label(word, mode);
  if (hit_max_tokens) {
    v.outcome = Outcome::kTruncated;
  } else if (label.empty()) {
    v.outcome = Outcome::kInvalidLabel;
  } else {
    v.outcome = Outcome::kValid;
    v.label = label;
  }
  return v;
}

ScoreRequest verdict_request(const std::string& prompt, std::string_view generated,
                             const ParsedVerdict& parsed, Mode mode) {
  ScoreRequest r;
  r.prompt = prompt + std::string(generated.substr(0, parsed.marker_end));
  // The separator as the model wrote it; " " when it stopped right at the marker.
  std::string sep = parsed.marker_end == generated.size() ? " " : parsed.separator;
  for (const std::string& l : mode_labels(mode)) r.candidates.push_back(sep + l);
  return r;
}

Result<VerdictDistribution> read_verdict(const ScoreResult& r, Mode mode) {
  VerdictDistribution v;
  v.labels = mode_labels(mode);
  if (r.candidates.size() != v.labels.size())
    return Error{fmt::format("backend returned {} verdict scores, expected {}", r.candidates.size(),
                             v.labels.size()),
                 StatusCode::kInternal};
  double mx = -INFINITY;
  for (const auto& c : r.candidates) {
    v.logprobs.push_back(c.logprob);
    v.exact = v.exact && c.exact;
    mx = std::max(mx, c.logprob);
  }
  double z = 0;
  for (double lp : v.logprobs) z += std::exp(lp - mx);
  v.mass = std::isfinite(mx) ? std::exp(mx) * z : 0.0;
  for (double lp : v.logprobs)
    v.probs.push_back(std::isfinite(mx) ? std::exp(lp - mx) / z : 1.0 / v.labels.size());
  if (mode == Mode::kAbsolute || mode == Mode::kAbsoluteRef) {
    double e = 0;
    for (size_t k = 0; k < v.probs.size(); ++k) e += (k + 1) * v.probs[k];
    v.expected = e;
  }
  return v;
}

nlohmann::json to_json(const VerdictDistribution& v) {
  nlohmann::json probs = nlohmann::json::object(), lps = nlohmann::json::object();
  for (size_t k = 0; k < v.labels.size(); ++k) {
    probs[v.labels[k]] = v.probs[k];
    lps[v.labels[k]] = v.logprobs[k];
  }
  nlohmann::json j = {{"probs", probs}, {"logprobs", lps}, {"mass", v.mass}, {"exact", v.exact}};
  if (v.expected) j["expected"] = *v.expected;
  return j;
}

}  // namespace gavel::judge
