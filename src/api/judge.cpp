// gavel::Judge over the layers: the backend (embedded or HTTP, backend/open.h), the judge protocols
// (one protocol object per call, built from the options), the in-memory batch step (judge/batch.h)
// and the store. Results are read back from the protocol's own record, so they are the numbers
// `gavel judge` writes.
#include "gavel/judge.h"

#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <set>

#include "api/options.h"
#include "backend/open.h"
#include "chat/chat.h"
#include "judge/judge_items.h"
#include "judge/judge_protocol.h"
#include "store/store.h"

namespace gavel {

using Json = nlohmann::json;

struct Judge::Impl {
  std::unique_ptr<Backend> backend;
  judge::ChatRenderer render;
  std::unique_ptr<store::Store> store;
  JudgeInfo info;
  std::mutex mu;  // one call at a time: the backend and the store handle are not shared-safe
};

namespace {

std::string item_id(const std::string& id, size_t index) {
  return id.empty() ? fmt::format("item-{}", index + 1) : id;
}

judge::Item pair_item(const PairItem& in, size_t index) {
  judge::Item item;
  item.line = static_cast<int64_t>(index + 1);
  item.id = item_id(in.id, index);
  item.record = {{"instruction", in.instruction}, {"response_a", in.a}, {"response_b", in.b}};
  return item;
}

// Field names as FieldMap::defaults() reads them; template variables under their own name.
judge::Item critique_item(const CritiqueItem& in, size_t index) {
  judge::Item item;
  item.line = static_cast<int64_t>(index + 1);
  item.id = item_id(in.id, index);
  item.record = Json::object();
  const std::pair<const char*, const std::optional<std::string>*> fields[] = {
      {"instruction", &in.instruction}, {"response", &in.response}, {"reference", &in.reference},
      {"rubric", &in.rubric},           {"response_a", &in.a},      {"response_b", &in.b}};
  for (const auto& [name, value] : fields)
    if (*value) item.record[name] = **value;
  for (const auto& [k, v] : in.vars) item.record[k] = v;
  return item;
}

template <class T>
std::optional<T> opt(const Json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<T>();
}

PairwisePass pass_from(const Json& p, bool text1_is_a, int prompt_tokens) {
  PairwisePass out;
  out.text1_is_a = text1_is_a;
  out.logprob_a = p.at("logprob_A").get<double>();
  out.logprob_b = p.at("logprob_B").get<double>();
  out.a_in_top_k = p.at("A_in_top_k").get<bool>();
  out.b_in_top_k = p.at("B_in_top_k").get<bool>();
  out.p_a = p.at("p_A").get<double>();
  out.p_b = p.at("p_B").get<double>();
  out.prompt_tokens = prompt_tokens;
  return out;
}

PairwiseResult pairwise_from(const Json& rec) {
  PairwiseResult r;
  r.id = rec.at("id").get<std::string>();
  const Json& tokens = rec.at("prompt_tokens");
  r.pass1 = pass_from(rec.at("pass1"), true, tokens.at(0).get<int>());
  r.pass2 = pass_from(rec.at("pass2"), false, tokens.at(1).get<int>());
  r.p_text1 = rec.at("p_text1").get<double>();
  r.p_text2 = rec.at("p_text2").get<double>();
  r.key = rec.at("key").get<std::string>();
  r.cached = rec.at("cached").get<bool>();
  r.record = judge::dump_record(rec);
  return r;
}

VerdictProbs verdict_from(const Json& v, judge::Mode mode) {
  VerdictProbs out;
  for (const std::string& label : judge::mode_labels(mode)) {
    out.labels.push_back(label);
    out.logprobs.push_back(v.at("logprobs").at(label).get<double>());
    out.probs.push_back(v.at("probs").at(label).get<double>());
  }
  out.mass = v.at("mass").get<double>();
  if (v.contains("expected")) out.expected = v["expected"].get<double>();
  return out;
}

CritiqueResult critique_from(const Json& rec, judge::Mode mode) {
  CritiqueResult r;
  r.id = rec.at("id").get<std::string>();
  r.mode = rec.at("mode").get<std::string>();
  r.format = rec.at("format").get<std::string>();
  for (const Json& p : rec.at("passes")) {
    CritiquePass c;
    c.order = p.value("order", "");
    c.critique = p.at("critique").get<std::string>();
    c.finish = p.at("finish").get<std::string>();
    c.generated_tokens = p.at("generated_tokens").get<int>();
    c.prompt_tokens = p.at("prompt_tokens").get<int>();
    c.outcome = p.at("outcome").get<std::string>();
    c.label = opt<std::string>(p.at("label"));
    c.raw_label = opt<std::string>(p.at("raw_label"));
    if (p.at("verdict").is_object()) c.verdict = verdict_from(p["verdict"], mode);
    c.key = p.at("key").get<std::string>();
    c.cached = p.at("cached").get<bool>();
    r.passes.push_back(std::move(c));
  }
  if (rec.contains("score")) r.score = opt<int>(rec["score"]);
  if (rec.contains("expected_score")) r.expected_score = opt<double>(rec["expected_score"]);
  if (rec.contains("verdict")) r.verdict = opt<std::string>(rec["verdict"]);
  if (rec.contains("p_yes")) r.p_yes = opt<double>(rec["p_yes"]);
  if (rec.contains("preferences"))
    for (const Json& x : rec["preferences"]) r.preferences.push_back(opt<std::string>(x));
  if (rec.contains("preferred")) r.preferred = opt<std::string>(rec["preferred"]);
  if (rec.contains("p_text1")) r.p_text1 = opt<double>(rec["p_text1"]);
  r.record = judge::dump_record(rec);
  return r;
}

// Judges `items` batch by batch through the store (judge_items.h, as `gavel judge` does):
// make(item, index) builds the judge item, read(record) the result. Per-item failures become
// that item's error.
template <class In, class Out>
Result<ItemResults<Out>> run_items(Judge::Impl& impl, const judge::JudgeProtocol& protocol,
                                   std::span<const In> items, const BatchOptions& opts,
                                   judge::Item (*make)(const In&, size_t),
                                   const std::function<Out(const Json&)>& read) {
  if (opts.batch < 1 || opts.batch > 4096)
    return Error{fmt::format("batch: must be 1..4096, got {}", opts.batch)};
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  ItemResults<Out> out;
  out.reserve(items.size());
  Progress pr;
  pr.total = static_cast<int64_t>(items.size());
  auto report = [&]() -> Status {
    pr.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (opts.progress && !opts.progress(pr))
      return api::cancelled(fmt::format("cancelled after {} of {} items{}", pr.done + pr.failed,
                                        pr.total,
                                        impl.store ? " (their judgments are in the store)" : ""));
    return Status::Ok();
  };
  GAVEL_TRY(report());
  // Without a store of the caller's, judgments go through a store of this call alone.
  std::unique_ptr<store::Store> scratch;
  if (!impl.store) {
    GAVEL_ASSIGN(scratch, store::Store::open(":memory:"));
  }
  store::Store& st = impl.store ? *impl.store : *scratch;
  const size_t batch = static_cast<size_t>(opts.batch);
  for (size_t pos = 0; pos < items.size(); pos += batch) {
    const size_t end = std::min(items.size(), pos + batch);
    std::vector<judge::PlannedItem> planned;
    std::vector<Status> plan_status;  // per item of the batch
    for (size_t i = pos; i < end; ++i) {
      auto p = judge::plan_item(protocol, st, make(items[i], i));
      plan_status.push_back(p.status());
      if (p.ok()) planned.push_back(std::move(*p));
    }
    GAVEL_TRY(judge::complete_items(*impl.backend, protocol, st, planned));
    size_t next = 0;
    for (size_t k = 0; k < plan_status.size(); ++k) {
      if (!plan_status[k].ok()) {
        out.push_back(plan_status[k]);
        ++pr.failed;
        continue;
      }
      const judge::PlannedItem& p = planned[next++];
      if (Status err = judge::item_error(p); !err.ok()) {
        out.push_back(err);
        ++pr.failed;
        continue;
      }
      for (const judge::Task& t : p.tasks) (t.cached ? pr.cached : pr.judged)++;
      Json rec = judge::item_record(protocol, p, false);
      try {
        out.push_back(read(rec));
      } catch (const Json::exception& e) {
        out.push_back(Error{fmt::format("item {}: unexpected {} record: {}", pos + k + 1,
                                        protocol.name(), e.what())});
        ++pr.failed;
        continue;
      }
      ++pr.done;
    }
    GAVEL_TRY(report());
  }
  return out;
}

template <class T>
Result<T> first(Result<ItemResults<T>> r) {
  if (!r.ok()) return r.status();
  return std::move((*r)[0]);
}

}  // namespace

Judge::Judge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Judge::~Judge() = default;

const JudgeInfo& Judge::info() const { return impl_->info; }

Result<std::unique_ptr<Judge>> Judge::open(const JudgeOptions& o) {
  const BackendSpec& b = o.backend;
  if (b.model.empty() && b.urls.empty())
    return Status::InvalidArgument(
        "judge: no model given (a GGUF file path, or backend URLs with the served model's GGUF)");
  if (b.threads < 1 || b.threads > 256)
    return Status::InvalidArgument(fmt::format("judge: threads must be 1..256, got {}", b.threads));
  if (b.ctx < 16 || b.ctx > (1 << 24))
    return Status::InvalidArgument(
        fmt::format("judge: ctx must be 16..{}, got {}", 1 << 24, b.ctx));
  if (b.prefix_cache < 0 || b.prefix_cache > 64)
    return Status::InvalidArgument(
        fmt::format("judge: prefix_cache must be 0..64, got {}", b.prefix_cache));
  if (b.decode_batch < 1 || b.decode_batch > 256)
    return Status::InvalidArgument(
        fmt::format("judge: decode_batch must be 1..256, got {}", b.decode_batch));
  auto impl = std::make_unique<Impl>();
  GAVEL_ASSIGN(impl->backend, backend::open_backend(b, /*log=*/nullptr));
  const BackendInfo& bi = impl->backend->info();
  if (bi.chat_template.empty())
    return Status::NotFound(fmt::format("{}: the model has no chat template", b.model));
  std::string tmpl = bi.chat_template;
  impl->render = [tmpl](const Json& messages, const Json& vars) {
    return chat::render(tmpl, messages, vars);
  };
  impl->info = {bi.fingerprint, bi.chat_template, bi.context_length};
  if (!o.store.empty()) {
    GAVEL_ASSIGN(impl->store, store::Store::open(o.store));
  }
  return std::unique_ptr<Judge>(new Judge(std::move(impl)));
}

Result<ItemResults<PairwiseResult>> Judge::pairwise(std::span<const PairItem> items,
                                                    const PairwiseOptions& options,
                                                    const BatchOptions& batch) {
  std::lock_guard lock(impl_->mu);
  GAVEL_ASSIGN(judge::ProtocolConfig pc, api::protocol_config(options));
  GAVEL_ASSIGN(auto protocol, judge::make_protocol(pc, impl_->backend->info(), impl_->render));
  return run_items<PairItem, PairwiseResult>(*impl_, *protocol, items, batch, pair_item,
                                             pairwise_from);
}

Result<ItemResults<CritiqueResult>> Judge::critique(std::span<const CritiqueItem> items,
                                                    const CritiqueOptions& options,
                                                    const BatchOptions& batch) {
  std::lock_guard lock(impl_->mu);
  std::set<std::string> vars;
  for (const CritiqueItem& it : items)
    for (const auto& kv : it.vars) vars.insert(kv.first);
  GAVEL_ASSIGN(judge::ProtocolConfig pc, api::protocol_config(options, vars));
  GAVEL_ASSIGN(auto protocol, judge::make_protocol(pc, impl_->backend->info(), impl_->render));
  const judge::Mode mode = pc.critique.mode;
  return run_items<CritiqueItem, CritiqueResult>(
      *impl_, *protocol, items, batch, critique_item,
      [mode](const Json& rec) { return critique_from(rec, mode); });
}

Result<PairwiseResult> Judge::pairwise(const PairItem& item, const PairwiseOptions& options) {
  return first(pairwise(std::span<const PairItem>(&item, 1), options, BatchOptions{}));
}

Result<CritiqueResult> Judge::critique(const CritiqueItem& item, const CritiqueOptions& options) {
  return first(critique(std::span<const CritiqueItem>(&item, 1), options, BatchOptions{}));
}

}  // namespace gavel
