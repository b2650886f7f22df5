#include "judge/protocol.h"

#include <array>

#include <fmt/format.h>

namespace gavel::judge {
namespace {

template <class E, size_t N>
Result<E> parse_enum(std::string_view s, const std::array<E, N>& all, const char* what) {
  std::string choices;
  for (E e : all) {
    if (name(e) == s) return e;
    choices += choices.empty() ? "" : "|";
    choices += name(e);
  }
  return Error{fmt::format("unknown {} '{}' (expected {})", what, s, choices),
               StatusCode::kInvalidArgument};
}

}  // namespace

std::string_view name(Protocol p) {
  return p == Protocol::kPairwiseLogprob ? "pairwise-logprob" : "critique";
}

std::string_view name(Mode m) {
  switch (m) {
    case Mode::kAbsolute: return "absolute";
    case Mode::kAbsoluteRef: return "absolute-ref";
    case Mode::kClassify: return "classify";
    case Mode::kClassifyRef: return "classify-ref";
    case Mode::kPairwise: return "pairwise";
  }
  return "?";
}

std::string_view name(Format f) {
  switch (f) {
    case Format::kOriginal: return "original";
    case Format::kMarkdown: return "markdown";
    case Format::kJson: return "json";
    case Format::kPrePair: return "prepair";
    case Format::kSimplified: return "simplified";
  }
  return "?";
}

std::string_view name(Thinking t) {
  switch (t) {
    case Thinking::kTemplateDefault: return "default";
    case Thinking::kOn: return "on";
    case Thinking::kOff: return "off";
  }
  return "?";
}

Result<Protocol> parse_protocol(std::string_view s) {
  return parse_enum(s, std::array{Protocol::kPairwiseLogprob, Protocol::kCritique}, "protocol");
}
Result<Mode> parse_mode(std::string_view s) {
  return parse_enum(s,
                    std::array{Mode::kAbsolute, Mode::kAbsoluteRef, Mode::kClassify,
                               Mode::kClassifyRef, Mode::kPairwise},
                    "mode");
}
Result<Format> parse_format(std::string_view s) {
  return parse_enum(s,
                    std::array{Format::kOriginal, Format::kMarkdown, Format::kJson,
                               Format::kPrePair, Format::kSimplified},
                    "format");
}
Result<Thinking> parse_thinking(std::string_view s) {
  return parse_enum(s, std::array{Thinking::kTemplateDefault, Thinking::kOn, Thinking::kOff},
                    "thinking setting");
}

std::vector<std::string> mode_labels(Mode m) {
  switch (m) {
    case Mode::kAbsolute:
    case Mode::kAbsoluteRef: return {"1", "2", "3", "4", "5"};
    case Mode::kClassify:
    case Mode::kClassifyRef: return {"Yes", "No"};
    case Mode::kPairwise: return {"A", "B"};
  }
  return {};
}

nlohmann::json chat_vars(const BackendInfo& info, Thinking thinking) {
  nlohmann::json v = {{"add_generation_prompt", true},
                      {"bos_token", info.bos_token},
                      {"eos_token", info.eos_token}};
  if (thinking != Thinking::kTemplateDefault) v["enable_thinking"] = thinking == Thinking::kOn;
  return v;
}

}  // namespace gavel::judge
