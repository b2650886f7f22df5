// A judge protocol as one interface: what an item needs, the backend requests it makes, the
// record it writes and its end-of-run tally. The batch runner (runner.h), the tournament
// driver and any server call protocols only through this interface, so adding a protocol
// means adding an implementation and a line in make_protocol(), never touching a caller.
//
// The unit of work is a Task: one set of rendered prompts whose judgment the store keeps under
// one content key. An item needs one or more tasks (pairwise-logprob: one task with both
// passes; critique pairwise in both orders: one task per order). Callers look tasks up in the
// store, ask the protocol to compute the missing ones, commit them, then ask for the record.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gavel/backend.h"
#include "gavel/status.h"
#include "judge/critique.h"
#include "judge/items.h"
#include "judge/pairwise_logprob.h"
#include "judge/protocol.h"

namespace gavel::judge {

// Schema tag in every store key (changing it orphans every stored judgment).
inline constexpr const char* kStoreSchema = "gavel-judge/1";

struct Task {
  int order = 0;  // 0: texts as given; 1: A and B swapped (critique pairwise, second order)
  std::string key;
  std::vector<std::string> prompts;      // rendered prompts this judgment evaluates
  // Per prompt: byte ranges of special-token text that came from the item's data (all empty
  // when it holds none; judge/data_specials.h). JudgeProtocol::as_text() says how it is read.
  std::vector<std::vector<TextSpan>> data_specials;
  std::optional<nlohmann::json> record;  // stored or computed judgment
  bool cached = false;                   // the record came from the store
  bool held = false;  // another worker claimed it (store claims): not computed by this caller
  Status error;                          // the backend failed on this task (ok: it did not)
};

// End-of-run agreement of records with the items' labels (and outcome counts).
class Tally {
 public:
  virtual ~Tally() = default;
  virtual void add(const Item& item, const nlohmann::json& record) = 0;
  virtual nlohmann::json report() const = 0;
};

// The soft verdict of a pairwise record, in terms of the item's texts (text1 = field A).
struct PassVerdict {
  bool text1_is_a = true;           // which text sat in position A in this pass
  std::optional<double> p_a;        // P(A) of this pass (normalised over A and B)
  std::optional<double> logprob_a;  // the log-probabilities it was read from
  std::optional<double> logprob_b;
};
struct PairVerdict {
  std::optional<double> p_text1;  // swap-averaged P(text1 better); nullopt: no verdict
  std::vector<PassVerdict> passes;
};

class JudgeProtocol {
 public:
  virtual ~JudgeProtocol() = default;

  // "pairwise-logprob", "critique": the record's "protocol" and part of every store key.
  virtual std::string_view name() const = 0;
  // Logical fields (FieldMap names) an item must provide, e.g. {"instruction", "A", "B"}.
  virtual std::vector<std::string> item_fields() const = 0;
  // True when items are pairs of texts and pair_verdict() answers.
  virtual bool pairwise() const = 0;
  // The field mapping items are read with (parse_item, item_text).
  const FieldMap& fields() const { return fields_; }

  // The tasks an item needs, prompts rendered, special-token text from the data located and
  // keys set. Errors name the item's line.
  Result<std::vector<Task>> plan(const Item& item) const;
  // Computes every given task (none has a record yet) with as few backend calls as the
  // protocol allows. On error no task is to be trusted; callers retry one by one.
  virtual Status compute(Backend& backend, std::span<Task* const> tasks) const = 0;
  // Adds the protocol's part to an item's output record once all its tasks have records.
  virtual void fill_record(nlohmann::json& out, std::span<const Task> tasks,
                           bool keep_prompts) const = 0;
  virtual std::unique_ptr<Tally> make_tally() const = 0;
  // Pairwise protocols: the soft verdict of an item record written by fill_record().
  virtual Result<PairVerdict> pair_verdict(const nlohmann::json& record) const;

  // Store key of one task: schema, model fingerprint, protocol, template, prompts, parameters,
  // and the ranges of each prompt tokenized as text (left out when there are none, so a key
  // is the same as before they existed for the prompts they do not change).
  std::string task_key(std::span<const std::string> prompts,
                       std::span<const std::vector<TextSpan>> as_text = {}) const;

  // Special-token text in the data: tokenized as text (the default), or parsed as special
  // tokens where it forms one, as the model card's code does (on).
  void set_parse_special_in_data(bool on) { parse_special_in_data_ = on; }
  bool parse_special_in_data() const { return parse_special_in_data_; }
  // The ranges of task prompt `i` that the backend tokenizes as text (its request's as_text).
  std::vector<TextSpan> as_text(const Task& task, size_t i) const;
  // What the keys depend on besides the prompts, for the record of a run: {"protocol", "model",
  // "template", "params"}.
  nlohmann::json describe() const;

 protected:
  JudgeProtocol(BackendInfo info, ChatRenderer render, FieldMap fields)
      : info_(std::move(info)), render_(std::move(render)), fields_(std::move(fields)) {}

  // The item's tasks with their prompts rendered with `fields` (which may differ from
  // fields_ in constants); plan() adds the data's special-token ranges and the keys.
  virtual Result<std::vector<Task>> render_tasks(const Item& item,
                                                 const FieldMap& fields) const = 0;

  struct KeyParts {
    std::string template_name, template_text;
    nlohmann::json params;  // decoding parameters that change the judgment
  };
  virtual KeyParts key_parts() const = 0;

  BackendInfo info_;
  ChatRenderer render_;
  FieldMap fields_;
  bool parse_special_in_data_ = false;
};

struct ProtocolConfig {
  Protocol protocol = Protocol::kPairwiseLogprob;
  PairwiseLogprobConfig pairwise;
  CritiqueConfig critique;
  bool both_orders = false;  // critique pairwise: judge A/B and B/A (pairwise-logprob always does)
  FieldMap fields = FieldMap::defaults();
  // Special-token text in the data parsed as special tokens (the model card's behaviour)
  // instead of tokenized as text.
  bool parse_special_in_data = false;
};

// The protocol for a configuration; errors for combinations that do not exist (a format that
// has no template for the mode). `info` is the backend's (its fingerprint keys the store).
Result<std::unique_ptr<JudgeProtocol>> make_protocol(const ProtocolConfig& cfg,
                                                     const BackendInfo& info, ChatRenderer render);

// Implementations (pairwise_logprob_protocol.cpp, critique_protocol.cpp).
std::unique_ptr<JudgeProtocol> make_pairwise_logprob_protocol(const PairwiseLogprobConfig& cfg,
                                                              const BackendInfo& info,
                                                              ChatRenderer render, FieldMap fields);
Result<std::unique_ptr<JudgeProtocol>> make_critique_protocol(const CritiqueConfig& cfg,
                                                              bool both_orders,
                                                              const BackendInfo& info,
                                                              ChatRenderer render, FieldMap fields);

}  // namespace gavel::judge
