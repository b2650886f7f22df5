// Fuzzes the server's request parsing: the first byte picks a route's parser, the rest is the
// body. Every input must give a value or a 4xx error naming what was wrong; never a crash, a
// hang or an exception escaping.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/judge_requests.h"
#include "server/requests.h"
#include "server/tournament_jobs.h"

namespace {

template <class T>
void check(const gavel::server::ApiResult<T>& r) {
  if (!r.ok() && (r.error().status < 400 || r.error().status > 499 || r.error().message.empty()))
    std::abort();  // a parse failure must be a client error with a message
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using namespace gavel::server;
  RequestLimits lim;
  lim.max_text_bytes = 4096;
  lim.max_prompts = 8;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {  // the seeds start with '0'..'6' (48 % 8 == 0)
    case 0:
      check(parse_completion_request(body, lim));
      break;
    case 1:
      check(parse_chat_request(body, lim));
      break;
    case 2:
      check(parse_tokenize_request(body, lim));
      break;
    case 3:
      check(parse_detokenize_request(body, lim));
      break;
    case 4:
      check(parse_pairwise_judge_request(body, lim));
      break;
    case 5:
      check(parse_critique_judge_request(body, lim));
      break;
    default:
      check(parse_tournament_request(body, lim));
      break;
  }
  return 0;
}
