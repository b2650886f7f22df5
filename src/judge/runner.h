// Batch judging: JSONL in, JSONL out, every judgment committed to the store before it is
// reported. Re-running the same command skips work whose content key is already stored, so a
// killed run resumes where it stopped without losing or duplicating judgments.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gavel/backend.h"
#include "judge/judge_protocol.h"
#include "store/store.h"

namespace gavel::judge {

// How to run; what to judge with is the protocol (judge_protocol.h).
struct RunConfig {
  int64_t limit = -1;                    // items to take (after the optional shuffle); -1 = all
  std::optional<uint64_t> shuffle_seed;  // shuffle input order deterministically before --limit
  int batch = 4;                         // items per backend call and per store transaction
  bool stop_on_error = false;
  bool keep_prompts = false;  // put rendered prompts in the output records
  std::string input_path;
  std::string out_path;  // "" = no output file, "-" = stdout
  bool progress = true;
  // Concurrent runs on one store split the work by claiming the judgments they are about to
  // make (store/store.h Store::claim); an item another run is judging is written when its
  // judgment is in the store. `worker` names this run's claims ("" = host, pid and a random
  // tag); a claim expires after `claim_ttl` seconds (a run that died), and a batch that takes
  // longer than that may be judged a second time by another run.
  std::string worker;
  double claim_ttl = 600;
  // Asked before each batch; true ends the run there (a signal, a caller's cancel): what was
  // judged is committed and written, and the summary says how to resume.
  std::function<bool()> cancel;
};

struct RunError {
  int64_t line = 0;
  std::string message;
};

struct RunSummary {
  int64_t items = 0;   // items taken from the input (after --limit)
  int64_t done = 0;    // items with a result (judged now or found in the store)
  int64_t judged = 0;  // judgments computed in this run
  int64_t cached = 0;  // judgments found in the store
  int64_t by_others = 0;  // judgments other runs on the store made while this one waited for them
  int64_t reclaimed = 0;  // judgments taken over from an expired claim (a run that died)
  std::vector<RunError> errors;
  int64_t inexact = 0;     // items whose record holds a log-probability bound ("exact": false)
  // Items whose data holds special-token text (judge/data_specials.h), and how it was read.
  int64_t data_special_items = 0;
  bool data_specials_parsed = false;  // --parse-special-in-data: as special tokens
  bool stopped = false;    // --on-error stop ended the run early
  bool cancelled = false;  // RunConfig::cancel ended the run early
  nlohmann::json metrics;  // agreement with labels, outcome counts
  double seconds = 0;
};

// Judges every input line with `protocol` (built for `backend`'s info by make_protocol).
Result<RunSummary> run_judge(Backend& backend, const JudgeProtocol& protocol, store::Store& store,
                             const RunConfig& cfg, std::FILE* log);

// Human-readable end-of-run report (errors with line numbers, metrics).
std::string format_summary(const RunSummary& s, const RunConfig& cfg);

// Deterministic Fisher-Yates over splitmix64 (the same order on every platform).
void shuffle_indices(std::vector<size_t>& v, uint64_t seed);

}  // namespace gavel::judge
