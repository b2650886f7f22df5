#include "judge/judge_protocol.h"

#include <fmt/format.h>

#include "judge/data_specials.h"
#include "store/store.h"

namespace gavel::judge {

Result<PairVerdict> JudgeProtocol::pair_verdict(const nlohmann::json&) const {
  return Error{fmt::format("protocol {} does not judge pairs", name()),
               StatusCode::kInvalidArgument};
}

Result<std::vector<Task>> JudgeProtocol::plan(const Item& item) const {
  GAVEL_ASSIGN(std::vector<Task> tasks, render_tasks(item, fields_));
  auto all_prompts = [](const std::vector<Task>& ts) {
    std::vector<std::string> out;
    for (const Task& t : ts) out.insert(out.end(), t.prompts.begin(), t.prompts.end());
    return out;
  };
  const PromptRenderer render = [&](const Item& it,
                                    const FieldMap& f) -> Result<std::vector<std::string>> {
    GAVEL_ASSIGN(std::vector<Task> ts, render_tasks(it, f));
    return all_prompts(ts);
  };
  auto spans =
      locate_data_specials(item, fields_, info_.special_tokens, all_prompts(tasks), render);
  if (!spans.ok()) return spans.status().prefixed(fmt::format("line {}: ", item.line));
  size_t next = 0;
  for (Task& t : tasks) {
    for (size_t i = 0; i < t.prompts.size(); ++i) t.data_specials.push_back((*spans)[next++]);
    std::vector<std::vector<TextSpan>> as_text;
    for (size_t i = 0; i < t.prompts.size(); ++i) as_text.push_back(this->as_text(t, i));
    t.key = task_key(t.prompts, as_text);
  }
  return tasks;
}

std::vector<TextSpan> JudgeProtocol::as_text(const Task& task, size_t i) const {
  if (parse_special_in_data_ || i >= task.data_specials.size()) return {};
  return task.data_specials[i];
}

std::string JudgeProtocol::task_key(std::span<const std::string> prompts,
                                    std::span<const std::vector<TextSpan>> as_text) const {
  KeyParts parts = key_parts();
  store::KeyBuilder k;
  k.add("schema", kStoreSchema).add("model", info_.fingerprint).add("protocol", name());
  k.add("template", parts.template_name).add("template_text", parts.template_text);
  for (const std::string& p : prompts) k.add("prompt", p);
  k.add("params", parts.params.dump());
  for (size_t i = 0; i < as_text.size(); ++i) {
    if (as_text[i].empty()) continue;
    std::string ranges = std::to_string(i) + ":";
    for (const TextSpan& s : as_text[i]) ranges += fmt::format("{}-{},", s.begin, s.end);
    k.add("as_text", ranges);
  }
  return k.hex();
}

nlohmann::json JudgeProtocol::describe() const {
  KeyParts parts = key_parts();
  return {{"protocol", name()},
          {"model", info_.fingerprint},
          {"template", parts.template_name},
          {"params", parts.params}};
}

Result<std::unique_ptr<JudgeProtocol>> make_protocol(const ProtocolConfig& cfg,
                                                     const BackendInfo& info, ChatRenderer render) {
  std::unique_ptr<JudgeProtocol> p;
  switch (cfg.protocol) {
    case Protocol::kPairwiseLogprob:
      p = make_pairwise_logprob_protocol(cfg.pairwise, info, std::move(render), cfg.fields);
      break;
    case Protocol::kCritique:
      GAVEL_ASSIGN(p, make_critique_protocol(cfg.critique, cfg.both_orders, info, std::move(render),
                                             cfg.fields));
      break;
  }
  if (!p) return Error{"unknown protocol", StatusCode::kInvalidArgument};
  p->set_parse_special_in_data(cfg.parse_special_in_data);
  return p;
}

}  // namespace gavel::judge
