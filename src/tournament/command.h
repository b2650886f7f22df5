// `gavel tournament` as one library call: load the responses, build the judge (a judge model
// through any gavel::Backend with a pairwise protocol and the store, or a reference judge),
// plan or run Option A / B, write the outputs and print the card's summary.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "gavel/backend.h"
#include "judge/judge_protocol.h"
#include "tournament/driver.h"
#include "tournament/match_judge.h"
#include "tournament/responses.h"

namespace gavel::tournament {

enum class JudgeKind { kModel, kStandIn, kSimulated };
Result<JudgeKind> parse_judge_kind(std::string_view s);

struct CommandConfig {
  std::string input, out_dir, store;  // store "" = <out_dir>/gavel.sqlite
  LoadOptions load;
  Config tournament;
  JudgeKind judge = JudgeKind::kModel;
  judge::ProtocolConfig
      protocol;                 // pairwise-logprob, or critique (forced to pairwise, both orders)
  int max_response_tokens = 0;  // 0 = judge whole responses
  int batch = 4;
  double tau = 5.0;  // stand-in judge temperature
  SimulatedSpec simulated;
  std::string leaderboard, leaderboard_name = "model_name", leaderboard_value = "elo_score";
  bool dry_run = false;
  bool progress = true;
  int summary_rows = 40;  // leaderboard rows in the terminal summary (0 = all)
};

// Runs (or with dry_run plans) the tournament. `backend` and `render` are needed for
// JudgeKind::kModel (the CLI opens them with its shared backend helper); the summary goes to
// `out`, progress and notices to `log`.
Status run_command(const CommandConfig& cfg, Backend* backend, const judge::ChatRenderer* render,
                   std::FILE* out, std::FILE* log);

}  // namespace gavel::tournament
