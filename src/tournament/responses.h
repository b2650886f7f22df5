// Writer responses for a tournament: one JSONL line per (writer, prompt, iteration) with the
// prompt's instruction and the response text (EQ-Bench Creative Writing v3's samples file as
// is by default). Malformed lines are named by line number; writers and prompts can be
// selected by name or by count.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gavel/status.h"

namespace gavel::tournament {

struct ResponseFields {
  std::string writer = "writer_model", prompt = "prompt_id", instruction = "writing_prompt",
              response = "response", iteration = "iteration";
  std::string score = "clean_score_0_100";  // item score: only the stand-in judge reads it
  // "writer=...", "prompt=...", "instruction=...", "response=...", "iteration=...", "score=..."
  Status apply(const std::vector<std::string>& specs);
};

struct Response {
  std::string text;
  std::string iteration;  // "" when the input has no iteration field
  std::optional<double> score;
  int64_t line = 0;
};

struct LineError {
  int64_t line = 0;
  std::string message;  // "path:line: ..."
};

struct ResponseSet {
  std::string path;
  std::vector<std::string> writers;       // selected writers, in order of first appearance
  std::vector<std::string> prompts;       // selected prompt ids, in order of first appearance
  std::vector<std::string> instructions;  // per prompt
  // [writer][prompt]: that writer's responses to the prompt, ordered by iteration (numeric
  // iterations numerically); empty = the writer has no response there.
  std::vector<std::vector<std::vector<Response>>> responses;
  std::vector<LineError> skipped;  // malformed lines left out (--on-bad-line skip)

  int n_writers() const { return static_cast<int>(writers.size()); }
  int n_prompts() const { return static_cast<int>(prompts.size()); }
  bool has(int writer, int prompt) const { return !responses[writer][prompt].empty(); }
  int missing() const;  // (writer, prompt) cells without a response
};

struct LoadOptions {
  ResponseFields fields;
  std::vector<std::string> writers, prompts;  // select these (in this order); empty = all
  int max_writers = 0, max_prompts = 0;       // then keep the first N (0 = all)
  bool skip_bad_lines = false;                // else any malformed line is an error
};

// Errors name the file and line: invalid JSON, a missing or non-text field, an instruction
// that differs between lines of one prompt, a (writer, prompt, iteration) given twice, an
// unknown --writers/--prompts name, fewer than 2 writers.
Result<ResponseSet> load_responses(const std::string& path, const LoadOptions& opts);

// Which of a writer's responses to a prompt a match uses.
enum class IterationChoice {
  kFirst,  // the lowest iteration, always
  kSeed,   // one per (writer, prompt), chosen by the seed, the same in every match
  kAll,    // drawn per match from all iterations (seeded): repeats bring new samples
};
Result<IterationChoice> parse_iteration_choice(std::string_view s);
std::string_view name(IterationChoice c);

// Index into responses[writer][prompt] for a match of (tournament, round); deterministic.
int pick_iteration(const ResponseSet& set, int writer, int prompt, IterationChoice choice,
                   uint64_t seed, int tournament, int round);

}  // namespace gavel::tournament
