// Request parsing: every kind of bad request is a 400 naming the field; good requests keep
// every value; OpenAI options the server does not implement fail instead of being ignored.
#include <gtest/gtest.h>

#include <string>

#include "server/fields.h"
#include "server/requests.h"
#include "server/tournament_jobs.h"

using namespace gavel::server;

namespace {

const RequestLimits kLimits{};

template <class T>
void expect_error(const ApiResult<T>& r, const std::string& param, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "accepted a bad request (wanted error on '" << param << "')";
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(r.error().param, param) << r.error().message;
  EXPECT_NE(r.error().message.find(needle), std::string::npos)
      << "'" << r.error().message << "' lacks '" << needle << "'";
}

auto completion(const std::string& body) { return parse_completion_request(body, kLimits); }
auto chat(const std::string& body) { return parse_chat_request(body, kLimits); }

}  // namespace

TEST(Requests, MalformedJsonNamesTheOffset) {
  for (const char* body : {"{", "{\"prompt\": }", "{'prompt': 'x'}", "nul", "{\"a\":1}}"}) {
    auto r = completion(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().status, 400);
    EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos) << r.error().message;
  }
  expect_error(completion(""), "", "empty");
  expect_error(completion("[1, 2]"), "", "must be a JSON object, not a list");
  expect_error(completion("\"text\""), "", "not a string");
}

TEST(Requests, NumbersOutOfRangeAreRejected) {
  // nlohmann throws out_of_range (not parse_error) for a number too large for a double; found
  // by fuzz_server, which died of the uncaught exception.
  for (const char* body : {"{\"prompt\": \"x\", \"temperature\": 1e999}", "200e820",
                           "{\"a\": [-1e400]}"})
    expect_error(completion(body), "", "not valid JSON");
  EXPECT_FALSE(parse_tournament_request("{\"writers\": 1e999}", kLimits).ok());
}

TEST(Requests, InvalidUtf8IsRejected) {
  expect_error(completion("{\"prompt\": \"\xff\xfe\"}"), "", "not valid JSON");
}

TEST(Requests, DeepNestingIsRejected) {
  std::string deep = "{\"prompt\": \"x\", \"logit_bias\": ";
  for (int i = 0; i < 200; ++i) deep += "[";
  for (int i = 0; i < 200; ++i) deep += "]";
  deep += "}";
  expect_error(completion(deep), "", "deeper than 64");
}

TEST(Requests, WrongTypesNameTheField) {
  expect_error(completion(R"({"prompt": "x", "max_tokens": "5"})"), "max_tokens",
               "expected an integer, got a string");
  expect_error(completion(R"({"prompt": "x", "max_tokens": 1.5})"), "max_tokens",
               "expected an integer, got a number");
  expect_error(completion(R"({"prompt": "x", "temperature": "hot"})"), "temperature",
               "expected a number");
  expect_error(completion(R"({"prompt": "x", "echo": 1})"), "echo", "expected true or false");
  expect_error(completion(R"({"prompt": 5})"), "prompt", "expected a string or a list");
  expect_error(completion(R"({"prompt": ["a", 5]})"), "prompt[1]",
               "expected a string or a list of token ids");
  expect_error(completion(R"({"prompt": [1, "a"]})"), "prompt[1]", "expected a token id");
  expect_error(completion(R"({"prompt": [1, -2]})"), "prompt[1]", "expected a token id");
  expect_error(completion(R"({"prompt": "x", "stop": ["a", 3]})"), "stop[1]", "expected a string");
  expect_error(completion(R"({"prompt": "x", "stop": {"a": 1}})"), "stop",
               "a string or a list of strings");
  expect_error(chat(R"({"messages": "hi"})"), "messages", "expected a non-empty list");
  expect_error(chat(R"({"messages": [{"role": "user", "content": 3}]})"), "messages[0].content",
               "expected a string or a list of parts");
  expect_error(chat(R"({"messages": [{"role": "user"}]})"), "messages[0].content", "required");
  expect_error(chat(R"({"messages": [{"role": "judge", "content": "x"}]})"), "messages[0].role",
               "not one of");
  expect_error(chat(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"),
               "messages[0].content[0].type", "text only");
  expect_error(chat(R"({"messages": [1]})"), "messages[0]", "must be an object");
}

TEST(Requests, UnknownFieldsAreRejectedAtEveryLevel) {
  expect_error(completion(R"({"prompt": "x", "max_token": 5})"), "max_token", "unknown field");
  expect_error(chat(R"({"messages": [{"role": "user", "content": "x", "contnet": "y"}]})"),
               "messages[0].contnet", "unknown field");
  expect_error(chat(R"({"messages": [{"role": "user", "content": "x"}],
                        "response_format": {"type": "text", "schema": 1}})"),
               "response_format.schema", "unknown field");
  expect_error(parse_tokenize_request(R"({"content": "x", "with_piece": true})", kLimits),
               "with_piece", "unknown field");
}

TEST(Requests, RangesAndMissingFields) {
  expect_error(completion(R"({"max_tokens": 5})"), "prompt", "required");
  expect_error(completion(R"({"prompt": ""})"), "prompt", "empty");
  expect_error(completion(R"({"prompt": []})"), "prompt", "empty list");
  expect_error(completion(R"({"prompt": "x", "max_tokens": -1})"), "max_tokens", "out of range");
  expect_error(completion(R"({"prompt": "x", "max_tokens": 999999})"), "max_tokens",
               "out of range [0, 2048]");
  expect_error(completion(R"({"prompt": "x", "temperature": 3})"), "temperature", "out of range");
  expect_error(completion(R"({"prompt": "x", "top_p": 0})"), "top_p", "greater than 0");
  expect_error(completion(R"({"prompt": "x", "logprobs": 21})"), "logprobs", "out of range");
  expect_error(completion(R"({"prompt": "x", "max_tokens": 18446744073709551615})"), "max_tokens",
               "out of range");
  expect_error(completion(R"({"prompt": "x", "stop": ""})"), "stop", "must not be empty");
  std::string many = R"({"prompt": "x", "stop": [)";
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + "\"s" + std::to_string(i) + "\"";
  expect_error(completion(many + "]}"), "stop", "more than 16");
  expect_error(chat(R"({"messages": []})"), "messages", "an empty list");
  expect_error(chat(R"({})"), "messages", "required");
  expect_error(chat(R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})"),
               "top_logprobs", "needs \"logprobs\": true");
  expect_error(parse_detokenize_request(R"({"tokens": "1 2"})", kLimits), "tokens",
               "expected a list of token ids");
  expect_error(parse_tokenize_request(R"({})", kLimits), "content", "required");
}

TEST(Requests, OversizedTextFieldsAreRejected) {
  RequestLimits small;
  small.max_text_bytes = 8;
  expect_error(parse_completion_request(R"({"prompt": "123456789"})", small), "prompt",
               "longer than 8 bytes");
  expect_error(
      parse_chat_request(R"({"messages": [{"role": "user", "content": "123456789"}]})", small),
      "messages[0].content", "longer than 8 bytes");
  small.max_prompts = 2;
  expect_error(parse_completion_request(R"({"prompt": ["a", "b", "c"]})", small), "prompt",
               "more than 2 prompts");
}

TEST(Requests, UnsupportedOptionsFailUnlessNeutral) {
  expect_error(completion(R"({"prompt": "x", "n": 2})"), "n", "only 1 is supported");
  expect_error(completion(R"({"prompt": "x", "stream": true})"), "stream", "only false");
  expect_error(completion(R"({"prompt": "x", "presence_penalty": 0.5})"), "presence_penalty",
               "only 0");
  expect_error(completion(R"({"prompt": "x", "logit_bias": {"5": 10}})"), "logit_bias", "only {}");
  expect_error(completion(R"({"prompt": "x", "best_of": 3})"), "best_of", "only 1");
  expect_error(chat(R"({"messages": [{"role": "user", "content": "x"}], "tools": []})"), "tools",
               "no tool calling");
  // Neutral values and nulls are fine (clients send them).
  auto ok = completion(R"({"prompt": "x", "n": 1, "stream": false, "presence_penalty": 0,
                           "frequency_penalty": 0.0, "logit_bias": {}, "user": "u",
                           "suffix": null, "logprobs": null, "stop": null, "seed": null})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_FALSE(ok->logprobs.has_value());
  EXPECT_TRUE(ok->sampling.stop.empty());
  EXPECT_FALSE(ok->sampling.seed.has_value());
}

TEST(Requests, GoodRequestsKeepEveryValue) {
  auto c = completion(R"({"model": "m", "prompt": ["a", [1, 2, 3]], "max_tokens": 7,
                          "temperature": 0.5, "top_p": 0.9, "seed": 42, "stop": "\n",
                          "logprobs": 3, "echo": true})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->model, "m");
  ASSERT_EQ(c->prompts.size(), 2u);
  EXPECT_EQ(c->prompts[0].text, "a");
  EXPECT_FALSE(c->prompts[0].is_tokens);
  EXPECT_EQ(c->prompts[1].tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(c->sampling.max_tokens, 7);
  EXPECT_EQ(c->sampling.temperature, 0.5);
  EXPECT_EQ(c->sampling.top_p, 0.9);
  EXPECT_EQ(c->sampling.seed, 42u);
  EXPECT_EQ(c->sampling.stop, std::vector<std::string>{"\n"});
  EXPECT_EQ(c->logprobs, 3);
  EXPECT_TRUE(c->echo);
  EXPECT_EQ(completion(R"({"prompt": "x"})")->sampling.max_tokens, kLimits.default_max_tokens);
  EXPECT_EQ(completion(R"({"prompt": "x", "max_tokens": 16.0})")->sampling.max_tokens, 16);

  auto h = chat(R"({"messages": [{"role": "developer", "content": "be fair"},
                                 {"role": "user", "content": [{"type": "text", "text": "a"},
                                                              {"type": "text", "text": "b"}]}],
                    "max_completion_tokens": 9, "logprobs": true, "top_logprobs": 2,
                    "chat_template_kwargs": {"enable_thinking": false},
                    "response_format": {"type": "text"}})");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->messages[0]["role"], "system");
  EXPECT_EQ(h->messages[1]["content"], "ab");
  EXPECT_EQ(h->sampling.max_tokens, 9);
  EXPECT_TRUE(h->max_tokens_given);
  EXPECT_TRUE(h->logprobs);
  EXPECT_EQ(h->top_logprobs, 2);
  EXPECT_EQ(h->template_vars["enable_thinking"], false);
  expect_error(chat(R"({"messages": [{"role": "user", "content": "x"}],
                        "chat_template_kwargs": {"bos_token": "x"}})"),
               "chat_template_kwargs.bos_token", "set by the server");

  auto t = parse_tokenize_request(R"({"prompt": "hi", "add_special_tokens": true,
                                      "with_pieces": true, "model": "m"})",
                                  kLimits);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->text, "hi");
  EXPECT_TRUE(t->add_special);
  EXPECT_TRUE(t->with_pieces);
  auto d = parse_detokenize_request(R"({"tokens": [5, 6]})", kLimits);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->tokens, (std::vector<int32_t>{5, 6}));
}

TEST(Requests, ErrorBodyIsOpenAIShaped) {
  auto body = error_body({400, "field 'x': bad", "x"});
  EXPECT_EQ(body["error"]["message"], "field 'x': bad");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["param"], "x");
  EXPECT_EQ(error_body({503, "busy", ""})["error"]["param"], nullptr);
  EXPECT_STREQ(error_type(401), "authentication_error");
  EXPECT_STREQ(error_type(500), "server_error");
}

TEST(Requests, StatusCodesMapToHttpStatusesInOnePlace) {
  using gavel::Status;
  using gavel::StatusCode;
  EXPECT_EQ(http_status(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(http_status(StatusCode::kOutOfRange), 400);
  EXPECT_EQ(http_status(StatusCode::kNotFound), 404);
  EXPECT_EQ(http_status(StatusCode::kUnavailable), 503);
  EXPECT_EQ(http_status(StatusCode::kResourceExhausted), 503);
  EXPECT_EQ(http_status(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(http_status(StatusCode::kCorruption), 500);
  EXPECT_EQ(http_status(StatusCode::kInternal), 500);
  EXPECT_EQ(http_status(StatusCode::kUnknown), 500);
  EXPECT_EQ(http_status(StatusCode::kUnknown, 400), 400);
  // A client error keeps the field; a server error does not blame one.
  ApiError e = status_error(Status::OutOfRange("the prompt has 9000 tokens"), "prompt");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "prompt");
  EXPECT_EQ(e.message, "the prompt has 9000 tokens");
  e = status_error(Status::Corruption("bad record"), "items[2]");
  EXPECT_EQ(e.status, 500);
  EXPECT_EQ(e.param, "");
}
