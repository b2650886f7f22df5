// Scripted fake backend for unit tests: score() answers from a table of (prompt, candidate)
// -> logprob, generate() pops scripted completions, and every request is recorded.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gavel/backend.h"
#include "judge/protocol.h"

namespace gavel::judge::testing {

class ScriptedBackend : public Backend {
 public:
  ScriptedBackend() {
    info_.fingerprint = "scripted";
    info_.bos_token = "<s>";
    info_.eos_token = "</s>";
    info_.context_length = 4096;
  }
  const BackendInfo& info() const override { return info_; }

  Result<std::vector<ScoreResult>> score(std::span<const ScoreRequest> reqs) override {
    ++score_calls;
    std::vector<ScoreResult> out;
    for (const ScoreRequest& r : reqs) {
      score_log.push_back(r);
      if (fail_if && fail_if(r.prompt)) return Error{"scripted score failure"};
      ScoreResult s;
      for (const std::string& c : r.candidates) {
        double lp = logprob ? logprob(r.prompt, c) : -1.0;
        s.candidates.push_back(CandidateScore{c, {token_ids.count(c) ? token_ids[c] : 7}, lp, lp});
      }
      s.top = top;
      out.push_back(std::move(s));
    }
    return out;
  }

  Result<std::vector<GenerateResult>> generate(std::span<const GenerateRequest> reqs) override {
    std::vector<GenerateResult> out;
    for (const GenerateRequest& r : reqs) {
      gen_log.push_back(r);
      if (completions.empty()) return Error{"no scripted completion left"};
      out.push_back(completions.front());
      completions.pop_front();
    }
    return out;
  }

  BackendInfo info_;
  std::function<double(const std::string& prompt, const std::string& cand)> logprob;
  std::function<bool(const std::string& prompt)> fail_if;
  std::map<std::string, int32_t> token_ids{{"A", 32}, {"B", 33}};
  std::vector<TopToken> top;
  std::deque<GenerateResult> completions;
  std::vector<ScoreRequest> score_log;
  std::vector<GenerateRequest> gen_log;
  int score_calls = 0;
};

// "<role>\ncontent\n" per message, then "<assistant>\n" when a generation prompt is asked for,
// and "<think-off>" when enable_thinking is false: enough to see what the judge rendered.
inline ChatRenderer trivial_renderer() {
  return [](const nlohmann::json& messages, const nlohmann::json& vars) -> Result<std::string> {
    std::string s;
    for (const auto& m : messages)
    {
      s += '<';
      s += m["role"].get<std::string>();
      s += ">\n";
      s += m["content"].get<std::string>();
      s += '\n';
    }
    if (vars.value("add_generation_prompt", false)) s += "<assistant>\n";
    if (vars.contains("enable_thinking") && !vars["enable_thinking"].get<bool>()) s += "<think-off>";
    return s;
  };
}

}  // namespace gavel::judge::testing
