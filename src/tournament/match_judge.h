// Who decides a tournament's matches. The driver hands a round's matches to a MatchJudge and
// gets, per match, P(writer 1 better) with both passes' details. ModelMatchJudge asks a judge
// model through any gavel::Backend with any pairwise JudgeProtocol, every judgment keyed in
// the store exactly as `gavel judge` keys the same pair, so nothing is ever judged twice.
// The reference judges (stand-in from item scores, simulated with known truth and biases)
// answer the same questions without a model, for validation and benchmarks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gavel/backend.h"
#include "judge/judge_protocol.h"
#include "rank/judges.h"
#include "store/store.h"
#include "tournament/responses.h"

namespace gavel::tournament {

// The texts a judge sees: responses, truncated to a token budget if asked, with their lengths.
struct JudgedText {
  std::string text;
  int64_t tokens = -1;  // judge-model tokens of `text` (-1: no tokenizer)
  int64_t chars = 0;    // Unicode code points of `text`
  int64_t full_tokens = -1;
  bool truncated = false;
};

class TextBook {
 public:
  // tokenizer: the judge backend (token counts, truncation); may be null (no token counts).
  // max_tokens > 0 keeps each response's first max_tokens tokens (needs a tokenizer).
  TextBook(const ResponseSet& set, Backend* tokenizer, int max_tokens);
  Result<const JudgedText*> get(int writer, int prompt, int iteration);
  bool has_tokens() const { return tokenizer_ != nullptr; }
  int max_tokens() const { return max_tokens_; }

 private:
  const ResponseSet& set_;
  Backend* tokenizer_;
  int max_tokens_;
  std::map<std::tuple<int, int, int>, JudgedText> cache_;
};

// Keeps the longest prefix of `s` that is whole UTF-8 (a token cut may split a character).
std::string trim_partial_utf8(std::string s);
int64_t utf8_length(std::string_view s);

struct MatchSpec {
  int tournament = 0, round = 0;
  int writer1 = 0, writer2 = 0;  // writer 1 is the pairing's position 1
  int prompt = 0;
  int iteration1 = 0, iteration2 = 0;  // indices into responses[writer][prompt]
};

struct PassResult {
  bool writer1_is_a = true;
  std::optional<double> p_a, logprob_a, logprob_b;
};

struct MatchResult {
  double p_writer1 = 0.5;   // swap-averaged P(writer 1 better); 0.5 when there is no verdict
  bool has_verdict = true;  // false: the judge gave no usable verdict (critique parse failure)
  std::vector<PassResult> passes;
  std::vector<std::string> keys;  // store keys (one per stored judgment of this match)
  // Where the judgment came from: judged now for this match, read from the store (judged by
  // an earlier run), judged earlier in this run (a rematch), or a reference judge.
  enum class Source { kNew, kStore, kRun, kReference } source = Source::kReference;
  int64_t prompt_tokens = 0;  // prompt tokens of the judgments made for this match
};
std::string_view name(MatchResult::Source s);

struct JudgeCounters {
  int64_t matches = 0;
  int64_t new_judgments = 0;     // judged and stored by this run
  int64_t stored_judgments = 0;  // distinct judgments found in the store (earlier runs)
  int64_t reused_judgments = 0;  // later uses in this run of a judgment already seen
  int64_t no_verdict = 0;
  int64_t new_prompt_tokens = 0;
  double judge_seconds = 0;  // time in the backend
};

class MatchJudge {
 public:
  virtual ~MatchJudge() = default;
  // One result per match, in order. An error ends the tournament; work done so far is kept.
  virtual Result<std::vector<MatchResult>> judge(std::span<const MatchSpec> matches) = 0;
  // One line for the summary: what judged the matches.
  virtual std::string description() const = 0;
  // Whether results come from a judge model (store keys, new vs stored) or a reference.
  virtual bool is_model() const { return false; }
  const JudgeCounters& counters() const { return counters_; }
  // Called after each batch of new judgments is stored (progress reports).
  void on_judged(std::function<void()> f) { on_judged_ = std::move(f); }

 protected:
  JudgeCounters counters_;
  std::function<void()> on_judged_;
};

struct ModelJudgeOptions {
  int batch = 4;  // judgments per backend call and per store transaction
};

// The judge model. Each pair of texts is judged in one canonical orientation (the writer whose
// name sorts first is text 1, A in the first pass), so (x, y) and (y, x) share one judgment;
// the store key is the protocol's key of that item, as `gavel judge` computes it for
// {instruction, response_a: text 1, response_b: text 2}.
std::unique_ptr<MatchJudge> make_model_judge(Backend& backend, const judge::JudgeProtocol& protocol,
                                             store::Store& store, const ResponseSet& set,
                                             TextBook& texts, ModelJudgeOptions opts);

// The canonical item `gavel judge` would be given for a match: {instruction, response_a,
// response_b} with text 1 first, and whether writer 1 is text 2 (swapped).
Result<std::pair<nlohmann::json, bool>> canonical_item(const ResponseSet& set, TextBook& texts,
                                                       const MatchSpec& m);

// One judgment made and timed without storing it (`--dry-run` calibration).
struct Calibration {
  double seconds = 0;
  int64_t prompt_tokens = 0;
};
Result<Calibration> calibrate(Backend& backend, const judge::JudgeProtocol& protocol,
                              const ResponseSet& set, TextBook& texts, const MatchSpec& m);

// Stand-in judge: P(a better on p) = 1/(1+exp(-(s_a(p) - s_b(p))/tau)), s = the writer's mean
// item score on the prompt (a writer without a scored item there: its mean over its prompts).
// Symmetric, so both passes agree and position bias is nil.
Result<std::unique_ptr<MatchJudge>> make_stand_in_judge(const ResponseSet& set, double tau);

// Simulated judge (rank::SimulatedJudge) on the set's writers and prompts, with lengths from
// the texts: pass 1 asks (writer 1 as A), pass 2 (writer 2 as A), so position bias shows.
struct SimulatedSpec {
  double strength_scale = 10;  // strength = (writer's mean item score - grand mean) / scale
  double prompt_noise = 0.5, judge_noise = 0.5, position_bias = 0.3, length_bias = 0.5;
  uint64_t seed = 7;
};
Result<std::unique_ptr<MatchJudge>> make_simulated_judge(const ResponseSet& set, TextBook& texts,
                                                         const SimulatedSpec& spec);

// Writers' mean item scores per prompt (NaN where none), missing cells filled with the writer's
// mean over its prompts: the stand-in's and the simulation's view of the data.
Result<std::vector<std::vector<double>>> mean_scores(const ResponseSet& set);

}  // namespace gavel::tournament
