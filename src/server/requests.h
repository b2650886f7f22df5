// The server's request bodies as plain structs, parsed strictly from JSON: wrong types, values
// out of range, unknown fields and unsupported options are 400 errors naming the field. No model
// is needed here, so these are unit-tested and fuzzed alone (fuzz/fuzz_server.cpp).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.h"

namespace gavel::server {

// Per-request bounds (ServerOptions fills them from the command line).
struct RequestLimits {
  int max_tokens = 2048;            // generated tokens per request
  int default_max_tokens = 16;      // /v1/completions without max_tokens (OpenAI's default)
  int max_logprobs = 20;            // top alternatives per position
  int max_prompts = 64;             // prompts in one /v1/completions request, items in a batch
  int max_stop = 16;                // stop strings
  size_t max_text_bytes = 1 << 20;  // any single text field
};

// A completion prompt: text, or token ids when the client tokenized itself.
struct Prompt {
  std::string text;
  std::vector<int32_t> tokens;
  bool is_tokens = false;
};

struct Sampling {
  int max_tokens = 16;
  double temperature = 1.0;  // OpenAI's default
  double top_p = 1.0;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
};

struct CompletionRequest {
  std::string model;
  std::vector<Prompt> prompts;
  Sampling sampling;
  std::optional<int> logprobs;  // top alternatives per token (0: only the chosen token's)
  bool echo = false;            // prepend the prompt (and its tokens' log-probs)
};

struct ChatRequest {
  std::string model;
  nlohmann::json messages;  // validated: [{role, content: string | [{type: text, text}]}...]
  nlohmann::json template_vars = nlohmann::json::object();  // chat_template_kwargs
  Sampling sampling;
  bool max_tokens_given = false;  // else up to the context left, within the server's limit
  bool logprobs = false;
  int top_logprobs = 0;
};

struct TokenizeRequest {
  std::string text;
  bool add_special = false;
  bool parse_special = true;
  bool with_pieces = false;
};

struct DetokenizeRequest {
  std::vector<int32_t> tokens;
};

ApiResult<CompletionRequest> parse_completion_request(std::string_view body,
                                                      const RequestLimits& limits);
ApiResult<ChatRequest> parse_chat_request(std::string_view body, const RequestLimits& limits);
ApiResult<TokenizeRequest> parse_tokenize_request(std::string_view body,
                                                  const RequestLimits& limits);
ApiResult<DetokenizeRequest> parse_detokenize_request(std::string_view body,
                                                      const RequestLimits& limits);

}  // namespace gavel::server
