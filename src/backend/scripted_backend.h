// The one fake Backend. Unit tests script it per test (callbacks and queues, every request
// recorded); deterministic_backend() scripts it from the prompt text alone, so a run gives
// the same numbers every time without a model (end-to-end tests of the CLI). A user's command
// line reaches it only through the test switch of open_test_backend().
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gavel/backend.h"
#include "gavel/status.h"

namespace gavel::backend {

class ScriptedBackend : public Backend {
 public:
  // Fingerprint "scripted", BOS "<s>", EOS "</s>", no chat template, context 2^20 bytes.
  ScriptedBackend();
  const BackendInfo& info() const override { return info_; }
  // One "token" per prompt byte: prompt_tokens is the prompt's size, and a prompt longer than
  // the context length fails (kOutOfRange).
  Result<std::vector<ScoreResult>> score(std::span<const ScoreRequest> reqs) override;
  Result<std::vector<GenerateResult>> generate(std::span<const GenerateRequest> reqs) override;
  // One token per byte, its id the byte's value, so lengths in tokens are byte counts.
  Result<std::vector<int32_t>> tokenize(std::string_view text) override;
  Result<std::string> detokenize(std::span<const int32_t> tokens) override;

  // ---- the script (every part optional) ----
  BackendInfo info_;
  // Log-probability of `cand` after `prompt` (unset: -1 for every candidate).
  std::function<double(const std::string& prompt, const std::string& cand)> logprob;
  // The id of a candidate's (first) token (unset: A 32, B 33, anything else 7).
  std::function<int32_t(const std::string& cand)> token_id;
  // The next-token list of every score result. Empty: for requests with top_k > 0, the
  // candidates' first tokens (except those drop_from_top accepts) and filler tokens
  // "<fillerN>", best first, cut to top_k.
  std::vector<TopToken> top;
  std::function<bool(const std::string& prompt, const std::string& cand)> drop_from_top;
  // generate() answers with these in order, then with complete(request); with neither left
  // it fails.
  std::deque<GenerateResult> completions;
  std::function<GenerateResult(const GenerateRequest&)> complete;
  // Requests whose prompt this accepts fail (kUnavailable, like a backend that went away).
  std::function<bool(const std::string& prompt)> fail_if;
  int delay_ms = 0;  // sleep per request (slow runs)

  // ---- what it was asked ----
  std::vector<ScoreRequest> score_log;
  std::vector<GenerateRequest> gen_log;
  int score_calls = 0;

 private:
  Status check(const std::string& prompt, const char* what) const;
};

// The deterministic script: log-probabilities and critiques are pseudo-random functions of the
// prompt text (SHA-256), its chat template is a minimal ChatML one that honours
// enable_thinking=false, fingerprint "fake-v1". Options, comma-separated key=value:
//   delay_ms=N   sleep N ms per request (slow runs for the crash test)
//   ctx=N        context length; a prompt longer than N bytes is an error (1 byte = 1 token)
//   drop=N       in top-k reads, leave "A" or "B" out of the top list about 1 time in N
//   garble=N     about 1 generation in N has no Result marker (parse_error)
//   fail=TEXT    score/generate fail for prompts containing TEXT (backend error path)
//   fp=TEXT      fingerprint
Result<std::unique_ptr<ScriptedBackend>> deterministic_backend(std::string_view options);

// The environment variable that enables open_test_backend(): GAVEL_TEST_BACKEND=1. The test
// suites set it (tests/python/conftest.py); nothing else should.
inline constexpr const char* kTestBackendSwitch = "GAVEL_TEST_BACKEND";

// deterministic_backend(options) for the CLI (`gavel judge --backend fake:OPTIONS`), refused
// (kUnavailable, naming the switch) unless GAVEL_TEST_BACKEND=1, so a user's command line
// never judges with a fake by accident.
Result<std::unique_ptr<Backend>> open_test_backend(std::string_view options);

}  // namespace gavel::backend
