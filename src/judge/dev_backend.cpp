#include "judge/dev_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "store/sha256.h"

namespace gavel::judge {
namespace {

uint64_t hash64(std::string_view a, std::string_view b = {}) {
  store::Sha256 h;
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

class DevBackend : public Backend {
 public:
  DevBackend() {
    info_.fingerprint = "fake-v1";
    info_.chat_template = kChatML;
    info_.bos_token = "";
    info_.eos_token = "<|im_end|>";
    info_.context_length = 1 << 20;
  }
  const BackendInfo& info() const override { return info_; }

  Result<std::vector<ScoreResult>> score(std::span<const ScoreRequest> reqs) override {
    std::vector<ScoreResult> out;
    for (const ScoreRequest& r : reqs) {
      GAVEL_TRY(check(r.prompt));
      ScoreResult s;
      s.prompt_tokens = static_cast<int>(r.prompt.size());
      for (const std::string& c : r.candidates) {
        uint64_t h = hash64(r.prompt, c);
        double lp = -0.05 - static_cast<double>(h % 600) / 100.0;
        s.candidates.push_back(CandidateScore{c, {token_id(c)}, lp, lp});
      }
      if (r.top_k > 0) {
        uint64_t h = hash64(r.prompt, "top");
        for (const CandidateScore& c : s.candidates) {
          bool dropped = drop_ > 0 && hash64(r.prompt, "drop" + c.text) % drop_ == 0;
          (void)h;
          if (!dropped) s.top.push_back(TopToken{c.tokens[0], c.text, c.first_token_logprob});
        }
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

  Result<std::vector<GenerateResult>> generate(std::span<const GenerateRequest> reqs) override {
    std::vector<GenerateResult> out;
    for (const GenerateRequest& r : reqs) {
      GAVEL_TRY(check(r.prompt));
      uint64_t h = hash64(r.prompt, fmt::format("gen{}", r.params.seed));
      std::vector<std::string> labels = {"1", "2", "3", "4", "5"};
      if (r.prompt.find("<A or B>") != std::string::npos) labels = {"A", "B"};
      if (r.prompt.find("<Yes or No>") != std::string::npos) labels = {"Yes", "No"};
      std::string label = labels[h % labels.size()];
      std::string text = fmt::format("**Reasoning:** Deterministic critique {:x}.", h % 65536);
      if (!(garble_ > 0 && (h >> 20) % garble_ == 0)) text += "\n\n**Result:** " + label;
      GenerateResult g;
      g.prompt_tokens = static_cast<int>(r.prompt.size());
      // One "token" per byte; stop at max_tokens like an engine would.
      if (static_cast<int>(text.size()) > r.params.max_tokens) {
        text.resize(std::max(0, r.params.max_tokens));
        g.finish = GenerateResult::Finish::kLength;
      }
      g.text = text;
      for (char c : text) g.tokens.push_back(static_cast<unsigned char>(c));
      out.push_back(std::move(g));
    }
    return out;
  }

  Status configure(std::string_view spec) {
    size_t pos = 0;
    while (pos < spec.size()) {
      size_t comma = spec.find(',', pos);
      if (comma == std::string_view::npos) comma = spec.size();
      std::string_view kv = spec.substr(pos, comma - pos);
      pos = comma + 1;
      if (kv.empty()) continue;
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos)
        return Error{fmt::format("fake backend option '{}': expected key=value", kv)};
      std::string key(kv.substr(0, eq)), val(kv.substr(eq + 1));
      try {
        if (key == "delay_ms")
          delay_ms_ = std::stoi(val);
        else if (key == "ctx")
          info_.context_length = std::stoi(val);
        else if (key == "drop")
          drop_ = std::stoi(val);
        else if (key == "garble")
          garble_ = std::stoi(val);
        else if (key == "fail")
          fail_ = val;
        else if (key == "fp")
          info_.fingerprint = val;
        else
          return Error{fmt::format("fake backend: unknown option '{}'", key)};
      } catch (const std::exception&) {
        return Error{fmt::format("fake backend option '{}': bad number '{}'", key, val)};
      }
    }
    return Status::Ok();
  }

 private:
  Status check(const std::string& prompt) const {
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    if (static_cast<int64_t>(prompt.size()) > info_.context_length)
      return Error{fmt::format("prompt has {} tokens, more than the context length {}",
                               prompt.size(), info_.context_length)};
    if (!fail_.empty() && prompt.find(fail_) != std::string::npos)
      return Error{"fake backend: scripted failure"};
    return Status::Ok();
  }
  static int32_t token_id(const std::string& s) {
    if (s == "A") return 32;
    if (s == "B") return 33;
    return static_cast<int32_t>(100 + hash64(s) % 50000);
  }

  BackendInfo info_;
  int delay_ms_ = 0, drop_ = 0, garble_ = 0;
  std::string fail_;
};

}  // namespace

std::string_view dev_chat_template() { return kChatML; }

Result<std::unique_ptr<Backend>> make_dev_backend(std::string_view spec) {
  auto b = std::make_unique<DevBackend>();
  GAVEL_TRY(b->configure(spec));
  return std::unique_ptr<Backend>(std::move(b));
}

}  // namespace gavel::judge
