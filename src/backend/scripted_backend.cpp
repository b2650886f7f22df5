#include "backend/scripted_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/sha256.h"

namespace gavel::backend {

ScriptedBackend::ScriptedBackend() {
  info_.fingerprint = "scripted";
  info_.bos_token = "<s>";
  info_.eos_token = "</s>";
  info_.context_length = 1 << 20;
}

Status ScriptedBackend::check(const std::string& prompt, const char* what) const {
  if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  if (static_cast<int64_t>(prompt.size()) > info_.context_length)
    return Status::OutOfRange(fmt::format("prompt has {} tokens, more than the context length {}",
                                          prompt.size(), info_.context_length));
  if (fail_if && fail_if(prompt))
    return Status::Unavailable(fmt::format("scripted {} failure", what));
  return Status::Ok();
}

Result<std::vector<int32_t>> ScriptedBackend::tokenize(std::string_view text) {
  std::vector<int32_t> ids;
  ids.reserve(text.size());
  for (char c : text) ids.push_back(static_cast<unsigned char>(c));
  return ids;
}

Result<std::string> ScriptedBackend::detokenize(std::span<const int32_t> tokens) {
  std::string s;
  for (int32_t id : tokens) {
    if (id < 0 || id > 255)
      return Status::OutOfRange(fmt::format("scripted backend: no token {}", id));
    s += static_cast<char>(id);
  }
  return s;
}

Result<std::vector<ScoreResult>> ScriptedBackend::score(std::span<const ScoreRequest> reqs) {
  ++score_calls;
  std::vector<ScoreResult> out;
  for (const ScoreRequest& r : reqs) {
    score_log.push_back(r);
    GAVEL_TRY(check(r.prompt, "score"));
    ScoreResult s;
    s.prompt_tokens = static_cast<int>(r.prompt.size());
    for (const std::string& c : r.candidates) {
      const double lp = logprob ? logprob(r.prompt, c) : -1.0;
      const int32_t id = token_id ? token_id(c) : (c == "A" ? 32 : c == "B" ? 33 : 7);
      s.candidates.push_back(CandidateScore{c, {id}, lp, lp});
    }
    if (!top.empty()) {
      s.top = top;
    } else if (r.top_k > 0) {
      for (const CandidateScore& c : s.candidates)
        if (!(drop_from_top && drop_from_top(r.prompt, c.text)))
          s.top.push_back(TopToken{c.tokens[0], c.text, c.first_token_logprob});
      for (int k = 0; static_cast<int>(s.top.size()) < r.top_k; ++k)
        s.top.push_back(TopToken{1000 + k, fmt::format("<filler{}>", k), -9.0 - k});
      std::sort(s.top.begin(), s.top.end(),
                [](const TopToken& a, const TopToken& b) { return a.logprob > b.logprob; });
      s.top.resize(r.top_k);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<GenerateResult>> ScriptedBackend::generate(
    std::span<const GenerateRequest> reqs) {
  std::vector<GenerateResult> out;
  for (const GenerateRequest& r : reqs) {
    gen_log.push_back(r);
    GAVEL_TRY(check(r.prompt, "generate"));
    if (!completions.empty()) {
      out.push_back(completions.front());
      completions.pop_front();
    } else if (complete) {
      out.push_back(complete(r));
    } else {
      return Error{"no scripted completion left", StatusCode::kInternal};
    }
  }
  return out;
}

namespace {

uint64_t hash64(std::string_view a, std::string_view b = {}) {
  Sha256 h;
  h.update(a);
  h.update(std::string_view("\x1f", 1));
  h.update(b);
  auto d = h.finish();
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | d[i];
  return v;
}

constexpr const char* kChatML =
    "{%- for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{ "
    "'<|im_start|>assistant\\n' }}{%- if enable_thinking is defined and enable_thinking is false "
    "%}{{ '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}";

// A critique in Selene's format with a label drawn from the prompt's label set; about one in
// `garble` has no Result marker. One "token" per byte, cut at max_tokens like an engine.
GenerateResult deterministic_critique(const GenerateRequest& r, int garble) {
  const uint64_t h = hash64(r.prompt, fmt::format("gen{}", r.params.seed));
  std::vector<std::string> labels = {"1", "2", "3", "4", "5"};
  if (r.prompt.find("<A or B>") != std::string::npos) labels = {"A", "B"};
  if (r.prompt.find("<Yes or No>") != std::string::npos) labels = {"Yes", "No"};
  const std::string& label = labels[h % labels.size()];
  std::string text = fmt::format("**Reasoning:** Deterministic critique {:x}.", h % 65536);
  if (!(garble > 0 && (h >> 20) % garble == 0)) text += "\n\n**Result:** " + label;
  GenerateResult g;
  g.prompt_tokens = static_cast<int>(r.prompt.size());
  if (static_cast<int>(text.size()) > r.params.max_tokens) {
    text.resize(std::max(0, r.params.max_tokens));
    g.finish = GenerateResult::Finish::kLength;
  }
  g.text = text;
  for (char c : text) g.tokens.push_back(static_cast<unsigned char>(c));
  return g;
}

}  // namespace

Result<std::unique_ptr<ScriptedBackend>> deterministic_backend(std::string_view options) {
  auto b = std::make_unique<ScriptedBackend>();
  b->info_.fingerprint = "fake-v1";
  b->info_.chat_template = kChatML;
  b->info_.bos_token = "";
  b->info_.eos_token = "<|im_end|>";
  b->info_.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  int drop = 0, garble = 0;
  std::string fail;
  size_t pos = 0;
  while (pos < options.size()) {
    size_t comma = options.find(',', pos);
    if (comma == std::string_view::npos) comma = options.size();
    std::string_view kv = options.substr(pos, comma - pos);
    pos = comma + 1;
    if (kv.empty()) continue;
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos)
      return Status::InvalidArgument(
          fmt::format("fake backend option '{}': expected key=value", kv));
    const std::string key(kv.substr(0, eq)), val(kv.substr(eq + 1));
    try {
      if (key == "delay_ms")
        b->delay_ms = std::stoi(val);
      else if (key == "ctx")
        b->info_.context_length = std::stoi(val);
      else if (key == "drop")
        drop = std::stoi(val);
      else if (key == "garble")
        garble = std::stoi(val);
      else if (key == "fail")
        fail = val;
      else if (key == "fp")
        b->info_.fingerprint = val;
      else
        return Status::InvalidArgument(fmt::format("fake backend: unknown option '{}'", key));
    } catch (const std::exception&) {
      return Status::InvalidArgument(
          fmt::format("fake backend option '{}': bad number '{}'", key, val));
    }
  }
  b->logprob = [](const std::string& prompt, const std::string& c) {
    return -0.05 - static_cast<double>(hash64(prompt, c) % 600) / 100.0;
  };
  b->token_id = [](const std::string& c) -> int32_t {
    if (c == "A") return 32;
    if (c == "B") return 33;
    return static_cast<int32_t>(100 + hash64(c) % 50000);
  };
  if (drop > 0)
    b->drop_from_top = [drop](const std::string& prompt, const std::string& c) {
      return hash64(prompt, "drop" + c) % drop == 0;
    };
  b->complete = [garble](const GenerateRequest& r) { return deterministic_critique(r, garble); };
  if (!fail.empty())
    b->fail_if = [fail](const std::string& prompt) {
      return prompt.find(fail) != std::string::npos;
    };
  return b;
}

Result<std::unique_ptr<Backend>> open_test_backend(std::string_view options) {
  const char* on = std::getenv(kTestBackendSwitch);
  if (!on || std::string_view(on) != "1")
    return Status::Unavailable(fmt::format(
        "the fake backend is for gavel's own tests; set {}=1 in the environment to use it",
        kTestBackendSwitch));
  GAVEL_ASSIGN(std::unique_ptr<ScriptedBackend> b, deterministic_backend(options));
  return std::unique_ptr<Backend>(std::move(b));
}

}  // namespace gavel::backend
