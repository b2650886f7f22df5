#include "judge/judge_protocol.h"

#include <fmt/format.h>

#include "store/store.h"

namespace gavel::judge {

Result<PairVerdict> JudgeProtocol::pair_verdict(const nlohmann::json&) const {
  return Error{fmt::format("protocol {} does not judge pairs", name()),
               StatusCode::kInvalidArgument};
}

std::string JudgeProtocol::task_key(std::span<const std::string> prompts) const {
  KeyParts parts = key_parts();
  store::KeyBuilder k;
  k.add("schema", kStoreSchema).add("model", info_.fingerprint).add("protocol", name());
  k.add("template", parts.template_name).add("template_text", parts.template_text);
  for (const std::string& p : prompts) k.add("prompt", p);
  k.add("params", parts.params.dump());
  return k.hex();
}

Result<std::unique_ptr<JudgeProtocol>> make_protocol(const ProtocolConfig& cfg,
                                                     const BackendInfo& info, ChatRenderer render) {
  switch (cfg.protocol) {
    case Protocol::kPairwiseLogprob:
      return make_pairwise_logprob_protocol(cfg.pairwise, info, std::move(render), cfg.fields);
    case Protocol::kCritique:
      return make_critique_protocol(cfg.critique, cfg.both_orders, info, std::move(render),
                                    cfg.fields);
  }
  return Error{"unknown protocol", StatusCode::kInvalidArgument};
}

}  // namespace gavel::judge
