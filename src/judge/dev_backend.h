// A deterministic stand-in backend for tests and CLI development (`--backend fake:...`):
// log-probabilities and critiques are pseudo-random functions of the prompt text, so every
// run gives the same numbers without a model. Options (comma-separated key=value):
//   delay_ms=N   sleep N ms per request (slow runs for the crash test)
//   ctx=N        context length; a prompt longer than N bytes is an error (1 byte = 1 token)
//   drop=N       in top-k reads, leave "A" or "B" out of the top list about 1 time in N
//   garble=N     about 1 generation in N has no Result marker (parse_error)
//   fail=TEXT    score/generate fail for prompts containing TEXT (backend error path)
//   fp=TEXT      fingerprint (default "fake-v1")
// Its chat template is a minimal ChatML one that honours enable_thinking=false; it tokenizes
// one token per byte.
#pragma once

#include <memory>
#include <string_view>

#include "gavel/backend.h"
#include "gavel/status.h"

namespace gavel::judge {

Result<std::unique_ptr<Backend>> make_dev_backend(std::string_view spec);
// The ChatML template the dev backend reports as its chat_template.
std::string_view dev_chat_template();

}  // namespace gavel::judge
