// gavel's public judgment-store API: the SQLite file every judgment is committed to (by
// `gavel judge --store`, gavel::Judge with JudgeOptions::store, tournaments). Each judgment is
// keyed by a hash of everything that determines it, so a store can be shared by runs.
//
// Conventions (as gavel/judge.h): errors are values; results are plain structs owned by the
// caller; the caller owns an opened JudgmentStore and closes it by destroying it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gavel/status.h"

namespace gavel {

struct StoredJudgment {
  std::string key;         // 64 hex chars: the content hash
  std::string protocol;    // "pairwise-logprob", "critique", ...
  std::string model;       // the judge model's fingerprint
  std::string item_id;     // the judged item's id (informational)
  std::string record;      // the judgment record, JSON text
  std::string created_at;  // filled by the store (UTC, ISO 8601)
};

class JudgmentStore {
 public:
  // Opens the store at `path`, creating an empty one when the file does not exist. Fails
  // (naming the file) when it cannot be created or is not a gavel store.
  static Result<std::unique_ptr<JudgmentStore>> open(const std::string& path);
  ~JudgmentStore();
  JudgmentStore(const JudgmentStore&) = delete;
  JudgmentStore& operator=(const JudgmentStore&) = delete;

  const std::string& path() const;
  // Number of stored judgments.
  Result<int64_t> count();
  // Visits every judgment in insertion order; the first error `visit` returns stops the walk
  // and is returned.
  Status for_each(const std::function<Status(const StoredJudgment&)>& visit);

  struct Impl;

 private:
  explicit JudgmentStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gavel
