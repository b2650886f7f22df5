// Bodies of the judge API (POST /v1/judge/pairwise, /v1/judge/critique), parsed strictly into
// the judge layer's ProtocolConfig plus the items. The defaults are `gavel judge`'s, so a
// request without options makes the same judgments (and store keys) as the CLI.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "judge/judge_protocol.h"
#include "server/api_error.h"
#include "server/requests.h"

namespace gavel::server {

struct JudgeRequest {
  std::string model;
  judge::ProtocolConfig config;       // fields: identity (items use the logical names)
  std::vector<nlohmann::json> items;  // each checked: known fields, text fields are strings
  bool batch = false;                 // "items" given: answer a list
  bool keep_prompts = false;          // return the rendered prompts
};

ApiResult<JudgeRequest> parse_pairwise_judge_request(std::string_view body,
                                                     const RequestLimits& limits);
ApiResult<JudgeRequest> parse_critique_judge_request(std::string_view body,
                                                     const RequestLimits& limits);

class FieldReader;
// The pairwise-logprob options of a request (read, top_k, thinking, ensure_ascii,
// system_prompt) into `config`, with `gavel judge`'s defaults; throws FieldError.
void read_pairwise_options(FieldReader& r, judge::ProtocolConfig& config,
                           const RequestLimits& limits);

}  // namespace gavel::server
