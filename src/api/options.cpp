#include "api/options.h"

#include <fmt/format.h>

namespace gavel::api {

Result<judge::ProtocolConfig> protocol_config(const PairwiseOptions& o) {
  judge::ProtocolConfig pc;
  pc.protocol = judge::Protocol::kPairwiseLogprob;
  GAVEL_ASSIGN(pc.pairwise.thinking, judge::parse_thinking(o.thinking));
  if (o.read == "full")
    pc.pairwise.read = judge::PairwiseLogprobConfig::Read::kFull;
  else if (o.read == "top-k")
    pc.pairwise.read = judge::PairwiseLogprobConfig::Read::kTopK;
  else
    return Error{fmt::format("read: must be \"full\" or \"top-k\", got \"{}\"", o.read)};
  if (o.top_k < 1 || o.top_k > 1000)
    return Error{fmt::format("top_k: must be 1..1000, got {}", o.top_k)};
  pc.pairwise.top_k = o.top_k;
  pc.pairwise.ensure_ascii = o.ensure_ascii;
  pc.pairwise.system_prompt = o.system_prompt;
  return pc;
}

Result<judge::ProtocolConfig> protocol_config(const CritiqueOptions& o,
                                              const std::set<std::string>& vars) {
  judge::ProtocolConfig pc;
  pc.protocol = judge::Protocol::kCritique;
  GAVEL_ASSIGN(pc.critique.mode, judge::parse_mode(o.mode));
  GAVEL_ASSIGN(pc.critique.format, judge::parse_format(o.format));
  GAVEL_ASSIGN(pc.critique.thinking, judge::parse_thinking(o.thinking));
  GAVEL_TRY(judge::critique_template_name(pc.critique.mode, pc.critique.format));
  if (o.max_tokens < 1 || o.max_tokens > (1 << 20))
    return Error{fmt::format("max_tokens: must be 1..{}, got {}", 1 << 20, o.max_tokens)};
  pc.critique.gen.max_tokens = o.max_tokens;
  pc.critique.gen.seed = o.seed;
  pc.critique.verdict_distribution = o.verdict_distribution;
  pc.both_orders = o.both_orders;
  for (const std::string& v : vars) pc.fields.input_name[v] = v;
  return pc;
}

Status cancelled(std::string message) { return Error{std::move(message)}; }

}  // namespace gavel::api
