// Judging items through the store, for any caller (the batch runner, the server's judge API):
// plan an item's tasks and take the ones already judged from the store; compute the rest in one
// backend batch and commit them in one transaction before anyone sees them; then build the item
// record. The same content keys everywhere, so a judgment made by one caller is reused by all.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "gavel/backend.h"
#include "gavel/status.h"
#include "judge/judge_protocol.h"
#include "store/store.h"

namespace gavel::judge {

struct PlannedItem {
  Item item;
  std::vector<Task> tasks;  // stored judgments filled in (Task::cached)
};

// The item's tasks, each looked up in the store. An unreadable stored record is judged again.
Result<PlannedItem> plan_item(const JudgeProtocol& protocol, store::Store& store, Item item);

// Computes every task without a record that is not held by another worker (one backend batch;
// after a failure one task at a time, so only the culprit gets Task::error) and commits all new
// judgments in one transaction, then their rendered prompts (for display). Errors only when the
// store cannot commit.
Status complete_items(Backend& backend, const JudgeProtocol& protocol, store::Store& store,
                      std::span<PlannedItem> items);

// The first task error of an item (ok when every task has a record).
Status item_error(const PlannedItem& p);

// The item as a run remembers it: its id, the keys of its judgments, and its texts under their
// logical names (instruction, A, B, response, ...) with its label, for reports.
store::RunItem run_item(const JudgeProtocol& protocol, const PlannedItem& p);

// Occurrences of special-token text from the item's data in its prompts (all tasks).
int64_t data_special_count(const PlannedItem& p);

// The output record of a completed item: id, line, protocol, label, and the protocol's part;
// "data_special_tokens" {occurrences, read_as} when its data holds special-token text.
nlohmann::json item_record(const JudgeProtocol& protocol, const PlannedItem& p, bool keep_prompts);

// JSON text of a record as stored and written: invalid UTF-8 in model output (a multi-byte
// character cut at max_tokens) is replaced rather than thrown on.
std::string dump_record(const nlohmann::json& record);

}  // namespace gavel::judge
