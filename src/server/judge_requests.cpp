#include "server/judge_requests.h"

#include <fmt/format.h>

#include <limits>
#include <set>

#include "server/fields.h"

namespace gavel::server {

using nlohmann::json;

namespace {

// Copies one item, checking every field: the protocol's text fields are required strings, other
// known fields optional strings, id a string or number, label any scalar.
json item(const json& v, const std::string& where, const std::vector<std::string>& required,
          const std::set<std::string>& optional, bool rubric_vars, size_t max_bytes) {
  FieldReader r(v, where);
  json out = json::object();
  for (const std::string& f : required) out[f] = r.string(f, max_bytes);
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& k = it.key();
    if (out.contains(k)) continue;
    if (k == "id") {
      if (!it->is_string() && !it->is_number_integer() && !it->is_null())
        r.fail(k, fmt::format("expected a string or an integer, got {}", json_kind(*it)));
      r.get(k);
      if (!it->is_null()) out[k] = *it;
    } else if (k == "label") {
      if (it->is_structured())
        r.fail(k, fmt::format("expected a string, number or boolean, got {}", json_kind(*it)));
      r.get(k);
      if (!it->is_null()) out[k] = *it;
    } else if (optional.contains(k) || (rubric_vars && k.rfind("rubric_", 0) == 0)) {
      if (auto s = r.opt_string(k, max_bytes)) out[k] = *s;
    }
  }
  r.finish();
  return out;
}

// The single-item form (texts at the top level) or the batch form ("items": [...]).
void items(FieldReader& r, JudgeRequest& q, const std::vector<std::string>& required,
           const std::set<std::string>& optional, bool rubric_vars, const RequestLimits& lim) {
  if (const json* list = r.get("items")) {
    if (!list->is_array() || list->empty())
      r.fail("items", list->is_array()
                          ? "is an empty list"
                          : fmt::format("expected a list of items, got {}", json_kind(*list)));
    if (list->size() > size_t(lim.max_prompts))
      r.fail("items", fmt::format("more than {} items in one request", lim.max_prompts));
    for (const std::string& f : required)
      if (r.has(f)) r.fail(f, "give the texts either at the top level or in \"items\", not both");
    for (size_t i = 0; i < list->size(); ++i)
      q.items.push_back(item((*list)[i], fmt::format("items[{}]", i), required, optional,
                             rubric_vars, lim.max_text_bytes));
    q.batch = true;
    return;
  }
  // Single item: its fields sit among the options; take them out first.
  json one = json::object();
  for (const std::string& f : required) one[f] = r.string(f, lim.max_text_bytes);
  for (const char* f : {"id", "label"})
    if (const json* v = r.get(f)) one[f] = *v;
  for (const std::string& f : optional)
    if (auto s = r.opt_string(f, lim.max_text_bytes)) one[f] = *s;
  if (rubric_vars)
    for (auto it = r.object().begin(); it != r.object().end(); ++it)
      if (it.key().rfind("rubric_", 0) == 0)
        if (auto s = r.opt_string(it.key(), lim.max_text_bytes)) one[it.key()] = *s;
  q.items.push_back(item(one, "", required, optional, rubric_vars, lim.max_text_bytes));
}

judge::Thinking thinking(FieldReader& r) {
  auto s = r.opt_string("thinking", 32);
  if (!s) return judge::Thinking::kTemplateDefault;
  auto t = judge::parse_thinking(*s);
  if (!t.ok()) r.fail("thinking", t.message());
  return *t;
}

template <class F>
ApiResult<JudgeRequest> parse(std::string_view body, F&& fill) {
  auto v = parse_body(body);
  if (!v.ok()) return v.error();
  try {
    FieldReader r(*v, "");
    JudgeRequest q;
    q.model = r.opt_string("model", 1024).value_or("");
    q.keep_prompts = r.boolean("keep_prompts", false);
    q.config.fields = judge::FieldMap{};  // identity: items carry the logical names
    fill(r, q);
    r.finish();
    return q;
  } catch (const FieldError& e) {
    return ApiError{400, e.what(), e.param};
  }
}

}  // namespace

void read_pairwise_options(FieldReader& r, judge::ProtocolConfig& config,
                           const RequestLimits& lim) {
  judge::PairwiseLogprobConfig& c = config.pairwise;
  config.protocol = judge::Protocol::kPairwiseLogprob;
  config.fields = judge::FieldMap{};
  const std::string read = r.opt_string("read", 16).value_or("full");
  if (read != "full" && read != "top-k")
    r.fail("read", fmt::format("'{}' is not full or top-k", read));
  c.read = read == "full" ? judge::PairwiseLogprobConfig::Read::kFull
                          : judge::PairwiseLogprobConfig::Read::kTopK;
  c.top_k = int(r.integer("top_k", c.top_k, 1, 1000));
  if (r.has("top_k") && read != "top-k") r.fail("top_k", "applies only with \"read\": \"top-k\"");
  c.thinking = thinking(r);
  c.ensure_ascii = r.boolean("ensure_ascii", true);
  c.system_prompt = r.opt_string("system_prompt", lim.max_text_bytes).value_or("");
}

ApiResult<JudgeRequest> parse_pairwise_judge_request(std::string_view body,
                                                     const RequestLimits& lim) {
  return parse(body, [&](FieldReader& r, JudgeRequest& q) {
    read_pairwise_options(r, q.config, lim);
    items(r, q, {"instruction", "A", "B"}, {}, false, lim);
  });
}

ApiResult<JudgeRequest> parse_critique_judge_request(std::string_view body,
                                                     const RequestLimits& lim) {
  return parse(body, [&](FieldReader& r, JudgeRequest& q) {
    judge::CritiqueConfig& c = q.config.critique;
    q.config.protocol = judge::Protocol::kCritique;
    auto mode = judge::parse_mode(r.opt_string("mode", 32).value_or("absolute"));
    if (!mode.ok()) r.fail("mode", mode.message());
    auto format = judge::parse_format(r.opt_string("format", 32).value_or("original"));
    if (!format.ok()) r.fail("format", format.message());
    c.mode = *mode;
    c.format = *format;
    if (auto t = judge::critique_template_name(c.mode, c.format); !t.ok())
      r.fail("format", t.message());
    c.thinking = thinking(r);
    // `gavel judge`'s defaults: greedy, 512 tokens, seed 0, verdict distribution on.
    c.gen.max_tokens = int(r.integer("max_tokens", 512, 1, lim.max_tokens));
    c.gen.seed = uint64_t(r.integer("seed", 0, 0, std::numeric_limits<int64_t>::max()));
    c.verdict_distribution = r.boolean("verdict_distribution", true);
    q.config.both_orders = r.boolean("both_orders", false);
    if (q.config.both_orders && c.mode != judge::Mode::kPairwise)
      r.fail("both_orders", "applies only to mode pairwise");
    std::vector<std::string> required;
    std::set<std::string> optional;
    switch (c.mode) {
      case judge::Mode::kPairwise:
        required = {"instruction", "A", "B"};
        optional = {"rubric"};
        break;
      case judge::Mode::kAbsoluteRef:
      case judge::Mode::kClassifyRef:
        required = {"instruction", "response", "reference"};
        optional = {"rubric"};
        break;
      case judge::Mode::kAbsolute:
      case judge::Mode::kClassify:
        required = {"instruction", "response"};
        optional = {"rubric"};
        break;
    }
    items(r, q, required, optional, true, lim);
  });
}

}  // namespace gavel::server
