#include "judge/judge_items.h"

#include "meta/judgment_record.h"

namespace gavel::judge {

using Json = nlohmann::json;

std::string dump_record(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<PlannedItem> plan_item(const JudgeProtocol& protocol, store::Store& store, Item item) {
  PlannedItem p;
  GAVEL_ASSIGN(p.tasks, protocol.plan(item));
  p.item = std::move(item);
  for (Task& t : p.tasks) {
    GAVEL_ASSIGN(auto stored, store.get(t.key));
    if (stored) {
      try {
        t.record = Json::parse(*stored);
        t.cached = true;
      } catch (const Json::exception&) {
        // An unreadable stored record is judged again; INSERT OR IGNORE keeps the old row.
      }
    }
  }
  return p;
}

Status complete_items(Backend& backend, const JudgeProtocol& protocol, store::Store& store,
                      std::span<PlannedItem> items) {
  std::vector<Task*> pending;
  for (PlannedItem& p : items)
    for (Task& t : p.tasks)
      if (!t.record && !t.held) pending.push_back(&t);
  if (!pending.empty()) {
    Status st = protocol.compute(backend, pending);
    if (!st.ok()) {
      if (pending.size() == 1) {
        pending[0]->record.reset();
        pending[0]->error = st;
      } else {
        // A batch failed (one prompt too long, say): judge one by one so only the culprit fails.
        for (Task* t : pending) {
          t->record.reset();
          Task* one[] = {t};
          Status s = protocol.compute(backend, one);
          if (!s.ok()) t->error = s;
        }
      }
    }
  }
  // Commit every new judgment in one transaction before reporting any of it.
  std::vector<store::Judgment> rows;
  for (const PlannedItem& p : items)
    for (const Task& t : p.tasks)
      if (t.record && !t.cached)
        rows.push_back({t.key, std::string(protocol.name()), backend.info().fingerprint, p.item.id,
                        dump_record(*t.record), ""});
  if (rows.empty()) return Status::Ok();
  Status st = store.put(rows);
  if (!st.ok()) return st.prefixed("store: ");
  std::vector<std::pair<std::string, std::string>> prompts;
  for (const PlannedItem& p : items)
    for (const Task& t : p.tasks)
      if (t.record && !t.cached) prompts.emplace_back(t.key, dump_record(Json(t.prompts)));
  st = store.put_prompts(prompts);
  if (!st.ok()) return st.prefixed("store: ");
  return Status::Ok();
}

store::RunItem run_item(const JudgeProtocol& protocol, const PlannedItem& p) {
  Json item = {{"id", p.item.id}};
  for (const std::string& f : protocol.item_fields())
    if (auto v = item_text(p.item, protocol.fields(), f); v.ok()) item[f] = *v;
  if (p.item.label) item["label"] = *p.item.label;
  for (const auto& [logical, system] : p.item.systems) item[logical] = system;
  Json keys = Json::array();
  for (const Task& t : p.tasks) keys.push_back(t.key);
  return {p.item.id, dump_record(keys), dump_record(item)};
}

Status item_error(const PlannedItem& p) {
  for (const Task& t : p.tasks)
    if (!t.error.ok()) return t.error;
  return Status::Ok();
}

int64_t data_special_count(const PlannedItem& p) {
  int64_t n = 0;
  for (const Task& t : p.tasks)
    for (const auto& spans : t.data_specials) n += int64_t(spans.size());
  return n;
}

Json item_record(const JudgeProtocol& protocol, const PlannedItem& p, bool keep_prompts) {
  namespace record = meta::record;
  Json out = {{record::kId, p.item.id}, {"line", p.item.line}, {"protocol", protocol.name()}};
  if (p.item.label) out[record::kLabel] = *p.item.label;
  for (const auto& [logical, system] : p.item.systems) out[logical] = system;
  protocol.fill_record(out, p.tasks, keep_prompts);
  if (const int64_t n = data_special_count(p); n > 0)
    out["data_special_tokens"] = {
        {"occurrences", n},
        {"read_as",
         protocol.parse_special_in_data() ? "special tokens (--parse-special-in-data)" : "text"}};
  return out;
}

}  // namespace gavel::judge
