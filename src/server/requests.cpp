#include "server/requests.h"

#include <fmt/format.h>

#include <limits>

#include "server/fields.h"

namespace gavel::server {

using nlohmann::json;

namespace {

constexpr int64_t kMaxTokenId = std::numeric_limits<int32_t>::max();

// Runs `parse` over the body's object; FieldErrors become 400s naming the field.
template <class T, class F>
ApiResult<T> parse_object(std::string_view body, F&& parse) {
  auto v = parse_body(body);
  if (!v.ok()) return v.error();
  try {
    FieldReader r(*v, "");
    T out = parse(r);
    r.finish();
    return out;
  } catch (const FieldError& e) {
    return ApiError{400, e.what(), e.param};
  }
}

std::vector<int32_t> token_list(FieldReader& r, const json& v, const std::string& where,
                                size_t max_tokens) {
  if (v.size() > max_tokens) r.fail(where, fmt::format("more than {} tokens", max_tokens));
  std::vector<int32_t> ids;
  ids.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const json& t = v[i];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > kMaxTokenId)
      r.fail(fmt::format("{}[{}]", where, i),
             fmt::format("expected a token id (an integer >= 0), got {}", t.dump()));
    ids.push_back(int32_t(t.get<int64_t>()));
  }
  return ids;
}

// OpenAI's prompt: a string, a list of strings, a list of token ids, or a list of such lists.
std::vector<Prompt> prompts(FieldReader& r, const RequestLimits& lim) {
  const json* v = r.get("prompt");
  if (!v) r.fail("prompt", "is required (a string, a list of strings or a list of token ids)");
  const size_t max_bytes = lim.max_text_bytes;
  auto text = [&](const json& s, const std::string& where) {
    if (s.get_ref<const std::string&>().size() > max_bytes)
      r.fail(where, fmt::format("longer than {} bytes", max_bytes));
    return Prompt{s.get<std::string>(), {}, false};
  };
  std::vector<Prompt> out;
  if (v->is_string()) {
    out.push_back(text(*v, "prompt"));
  } else if (v->is_array() && !v->empty() && (*v)[0].is_number()) {
    out.push_back(Prompt{"", token_list(r, *v, "prompt", max_bytes), true});
  } else if (v->is_array()) {
    if (v->empty()) r.fail("prompt", "is an empty list");
    if (v->size() > size_t(lim.max_prompts))
      r.fail("prompt", fmt::format("more than {} prompts in one request", lim.max_prompts));
    for (size_t i = 0; i < v->size(); ++i) {
      const json& p = (*v)[i];
      const std::string where = fmt::format("prompt[{}]", i);
      if (p.is_string())
        out.push_back(text(p, where));
      else if (p.is_array())
        out.push_back(Prompt{"", token_list(r, p, where, max_bytes), true});
      else
        r.fail(where,
               fmt::format("expected a string or a list of token ids, got {}", json_kind(p)));
    }
  } else {
    r.fail("prompt", fmt::format("expected a string or a list, got {}", json_kind(*v)));
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].is_tokens ? out[i].tokens.empty() : out[i].text.empty())
      r.fail(out.size() == 1 ? "prompt" : fmt::format("prompt[{}]", i), "is empty");
  return out;
}

// The sampling options both generation routes share; `max_tokens` read by the caller.
Sampling sampling(FieldReader& r, const RequestLimits& lim) {
  Sampling s;
  s.temperature = r.number("temperature", 1.0, 0.0, 2.0);
  s.top_p = r.number("top_p", 1.0, 0.0, 1.0);
  if (r.has("top_p") && s.top_p == 0.0) r.fail("top_p", "must be greater than 0");
  if (auto seed = r.opt_int("seed", std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::max()))
    s.seed = uint64_t(*seed);
  s.stop = r.strings("stop", size_t(lim.max_stop), 1024);
  r.only("n", 1, "one choice per prompt");
  r.only("stream", false, "responses are sent whole");
  r.only("presence_penalty", 0, "no penalties: log-probabilities stay those of the model");
  r.only("frequency_penalty", 0, "no penalties: log-probabilities stay those of the model");
  r.only("logit_bias", json::object(), "no logit bias: log-probabilities stay those of the model");
  r.only("stream_options", json(nullptr), "responses are sent whole");
  r.ignore("user");
  return s;
}

// A chat message: role and content (a string or a list of text parts), checked and copied.
json message(const json& m, const std::string& where, const RequestLimits& lim) {
  FieldReader r(m, where);
  const std::string role = r.string("role", 64);
  if (role != "system" && role != "user" && role != "assistant" && role != "developer")
    r.fail("role", fmt::format("'{}' is not one of system, developer, user, assistant", role));
  json out = {{"role", role == "developer" ? "system" : role}};
  const json* c = r.get("content");
  if (!c) r.fail("content", "is required (a string or a list of text parts)");
  if (c->is_string()) {
    if (c->get_ref<const std::string&>().size() > lim.max_text_bytes)
      r.fail("content", fmt::format("longer than {} bytes", lim.max_text_bytes));
    out["content"] = *c;
  } else if (c->is_array()) {
    // Text parts are joined, as OpenAI does for a text-only model.
    std::string text;
    for (size_t i = 0; i < c->size(); ++i) {
      FieldReader part((*c)[i], fmt::format("{}.content[{}]", where, i));
      const std::string type = part.string("type", 64);
      if (type != "text")
        part.fail("type", fmt::format("'{}' parts are not supported (text only)", type));
      text += part.string("text", lim.max_text_bytes);
      part.finish();
    }
    out["content"] = text;
  } else {
    r.fail("content", fmt::format("expected a string or a list of parts, got {}", json_kind(*c)));
  }
  if (auto name = r.opt_string("name", 256)) out["name"] = *name;
  r.finish();
  return out;
}

}  // namespace

ApiResult<CompletionRequest> parse_completion_request(std::string_view body,
                                                      const RequestLimits& lim) {
  return parse_object<CompletionRequest>(body, [&](FieldReader& r) {
    CompletionRequest q;
    q.model = r.opt_string("model", 1024).value_or("");
    q.prompts = prompts(r, lim);
    q.sampling = sampling(r, lim);
    q.sampling.max_tokens = int(r.integer("max_tokens", lim.default_max_tokens, 0, lim.max_tokens));
    if (auto lp = r.opt_int("logprobs", 0, lim.max_logprobs)) q.logprobs = int(*lp);
    q.echo = r.boolean("echo", false);
    r.only("best_of", 1, "one choice per prompt");
    r.only("suffix", json(nullptr), "no insertion");
    return q;
  });
}

ApiResult<ChatRequest> parse_chat_request(std::string_view body, const RequestLimits& lim) {
  return parse_object<ChatRequest>(body, [&](FieldReader& r) {
    ChatRequest q;
    q.model = r.opt_string("model", 1024).value_or("");
    const json* m = r.get("messages");
    if (!m || !m->is_array() || m->empty())
      r.fail("messages", m ? fmt::format("expected a non-empty list, got {}",
                                         m->is_array() ? "an empty list" : json_kind(*m))
                           : "is required (a list of {role, content})");
    if (m->size() > 4096) r.fail("messages", "more than 4096 messages");
    q.messages = json::array();
    for (size_t i = 0; i < m->size(); ++i)
      q.messages.push_back(message((*m)[i], fmt::format("messages[{}]", i), lim));
    q.sampling = sampling(r, lim);
    // max_completion_tokens is the newer name; without either, up to the server's limit.
    auto mt = r.opt_int("max_tokens", 1, lim.max_tokens);
    auto mct = r.opt_int("max_completion_tokens", 1, lim.max_tokens);
    if (mt && mct && *mt != *mct)
      r.fail("max_completion_tokens", "differs from max_tokens; give one of them");
    q.sampling.max_tokens = int(mct ? *mct : mt ? *mt : lim.max_tokens);
    q.max_tokens_given = mct || mt;
    q.logprobs = r.boolean("logprobs", false);
    q.top_logprobs = int(r.integer("top_logprobs", 0, 0, lim.max_logprobs));
    if (r.has("top_logprobs") && !q.logprobs) r.fail("top_logprobs", "needs \"logprobs\": true");
    if (const json* kw = r.get("chat_template_kwargs")) {
      if (!kw->is_object())
        r.fail("chat_template_kwargs", fmt::format("expected an object, got {}", json_kind(*kw)));
      for (const char* reserved : {"messages", "add_generation_prompt", "bos_token", "eos_token"})
        if (kw->contains(reserved))
          r.fail(fmt::format("chat_template_kwargs.{}", reserved), "is set by the server");
      q.template_vars = *kw;
    }
    if (const json* rf = r.get("response_format")) {
      FieldReader f(*rf, "response_format");
      const std::string type = f.string("type", 64);
      if (type != "text") f.fail("type", fmt::format("'{}' is not supported (text only)", type));
      f.finish();
    }
    r.only("tools", json(nullptr), "no tool calling");
    r.only("tool_choice", json(nullptr), "no tool calling");
    return q;
  });
}

ApiResult<TokenizeRequest> parse_tokenize_request(std::string_view body, const RequestLimits& lim) {
  return parse_object<TokenizeRequest>(body, [&](FieldReader& r) {
    TokenizeRequest q;
    // llama-server names the text "content", vLLM "prompt".
    auto content = r.opt_string("content", lim.max_text_bytes);
    auto prompt = r.opt_string("prompt", lim.max_text_bytes);
    if (content && prompt) r.fail("prompt", "give either \"content\" or \"prompt\", not both");
    if (!content && !prompt) r.fail("content", "is required (the text to tokenize)");
    q.text = content ? *content : *prompt;
    const bool a = r.boolean("add_special", false);
    q.add_special = r.boolean("add_special_tokens", a);
    q.parse_special = r.boolean("parse_special", true);
    q.with_pieces = r.boolean("with_pieces", false);
    r.ignore("model");
    return q;
  });
}

ApiResult<DetokenizeRequest> parse_detokenize_request(std::string_view body,
                                                      const RequestLimits& lim) {
  return parse_object<DetokenizeRequest>(body, [&](FieldReader& r) {
    DetokenizeRequest q;
    const json* t = r.get("tokens");
    if (!t || !t->is_array())
      r.fail("tokens", t ? fmt::format("expected a list of token ids, got {}", json_kind(*t))
                         : "is required (a list of token ids)");
    q.tokens = token_list(r, *t, "tokens", lim.max_text_bytes);
    r.ignore("model");
    return q;
  });
}

}  // namespace gavel::server
