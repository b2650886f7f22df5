// Tournament jobs (POST /v1/tournaments): writers' responses to a set of prompts, paired round
// by round by the rank layer's driver and judged with the pairwise-logprob protocol through the
// store. A job is a store run of kind "tournament": its config is the request as parsed, its
// summary the progress and results, rewritten after every round. One worker thread runs the
// jobs in order; each match is one job on the model queue, so judge API requests are served
// between matches. Jobs left queued or running when the server stopped are taken up again at
// start: the driver is deterministic (seeded) and every judgment it already made is in the
// store, so a resumed job replays the finished matches from the store and continues.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "judge/judge_protocol.h"
#include "server/api_error.h"
#include "server/requests.h"

namespace gavel::server {

struct Context;

struct TournamentRequest {
  std::string name;
  std::string model;
  std::vector<std::string> prompts;                 // the instructions
  std::vector<std::string> writers;                 // names, request order
  std::vector<std::vector<std::string>> responses;  // [writer][prompt]
  std::string pairing = "swiss";                    // swiss | round-robin | random | adaptive
  int rounds = 5;
  int prompts_per_match = 1;
  uint64_t seed = 1;
  int bootstrap = 200;           // Bradley-Terry bootstrap samples for the CIs
  judge::ProtocolConfig config;  // pairwise-logprob options (read, thinking, ...)
  nlohmann::json spec;           // the request as stored (the run's config)
};

// Strict parsing: every field checked and named in the error (writers[2].responses[1]).
ApiResult<TournamentRequest> parse_tournament_request(std::string_view body,
                                                      const RequestLimits& limits);

class TournamentJobs {
 public:
  // Queues the store's unfinished tournaments and starts the worker.
  explicit TournamentJobs(Context& ctx);
  ~TournamentJobs();  // stop()
  TournamentJobs(const TournamentJobs&) = delete;
  TournamentJobs& operator=(const TournamentJobs&) = delete;

  // Records the job (status "queued") and queues it; the run id.
  ApiResult<int64_t> submit(const TournamentRequest& request);
  // Stops the worker after the running match; unfinished jobs stay "running" in the store.
  void stop();
  int pending() const;

 private:
  void work();
  Status run_job(int64_t id);

  Context& ctx_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int64_t> queue_;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

}  // namespace gavel::server
