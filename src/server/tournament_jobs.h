// Tournament jobs (POST /v1/tournaments): writers' responses to a set of prompts, run by the
// tournament layer (tournament::run with a ModelMatchJudge, then tournament::analyze) exactly
// as `gavel tournament` runs them: the same pairings, the same store keys, the same figures.
// A job is a store run of kind "tournament": its config is the request as posted, its summary
// the progress (rewritten after every round) and, once done, the results. One worker thread
// runs the jobs in order; every backend call of the judge is one job on the model queue, so
// judge API requests are served between a tournament's judgments. Jobs left queued or running
// when the server stopped are taken up again at start: the driver is deterministic (seeded)
// and every judgment it already made is in the store, so a resumed job replays the finished
// matches from the store and continues.
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
#include "tournament/driver.h"
#include "tournament/responses.h"

namespace gavel::server {

struct Context;

struct TournamentRequest {
  std::string name;
  std::string model;
  // The writers (request order) and their one response per prompt; prompt ids "1", "2", ...
  tournament::ResponseSet responses;
  // option (global | A | B), pairing, rounds, prompts_per_match, iterations (B), seed, and
  // "bootstrap": Bradley-Terry percentile CI resamples (bt_bootstrap).
  tournament::Config tournament;
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
