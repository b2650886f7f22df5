// Crash-safe judgment store on SQLite (WAL). Each judgment is keyed by a SHA-256 of everything
// that determines it (model fingerprint, protocol, template, rendered prompts, decoding
// parameters), so a re-run finds finished work and never stores a judgment twice. A put()
// returns only after its transaction committed: a record reported as done survives a kill.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/io.h"
#include "gavel/status.h"
#include "gavel/store.h"

struct sqlite3;

namespace gavel::store {

// A stored judgment: the public API's type (include/gavel/store.h).
using Judgment = ::gavel::StoredJudgment;

enum class Access {
  kReadWrite,  // creates the store when missing (judge)
  kReadOnly,   // never creates or changes a file; a missing or non-gavel file is an error
};

// One run: a `gavel judge` invocation, the server's judge API, a tournament job. Runs list what
// was judged (their items, with the input texts and labels) so reports can evaluate the judge.
struct Run {
  int64_t id = 0;
  std::string kind;     // "judge", "serve", "tournament"
  std::string name;     // what it ran on (input file, ...)
  std::string config;   // JSON text: protocol, model, parameters (tournament: the job spec)
  std::string status;   // "running", "done", "failed", "stopped"
  std::string summary;  // JSON text: metrics or results ("" until set)
  std::string created_at, updated_at;
};

struct RunItem {
  std::string item_id;
  std::string keys;  // JSON list of the keys of the item's judgments
  std::string item;  // JSON text: the input record (texts, label)
};

// What a claim found (Store::claim). Every asked key is in exactly one of the three lists.
struct ClaimResult {
  std::vector<std::string> granted;  // claimed by the asking worker until the expiry
  std::vector<std::string> held;     // another worker's claim is live: that worker judges it
  std::vector<std::string> judged;   // in the store already (committed since it was looked up)
  int64_t reclaimed = 0;  // granted keys whose previous claim, another worker's, had expired
};

// Thread-safe: one recursive mutex serializes the calls on the connection (a server reads and
// writes from several threads). A visitor passed to for_each* runs under it: it may call the
// store (same thread) but blocks other threads' calls until the visit ends.
class Store {
 public:
  // Opens the database (WAL, synchronous=FULL, busy timeout for concurrent runs), creating it
  // when missing unless `access` is kReadOnly. Only the writers (put, put_prompts and the
  // run methods that create or change runs) need kReadWrite.
  static Result<std::unique_ptr<Store>> open(const std::string& path,
                                             Access access = Access::kReadWrite);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The stored record for `key`, or nullopt when not judged yet.
  Result<std::optional<std::string>> get(std::string_view key);
  // Inserts in one transaction; a key already present is kept as it is (never duplicated).
  Status put(std::span<const Judgment> rows);
  Status put(const Judgment& row) { return put(std::span<const Judgment>(&row, 1)); }
  Result<int64_t> count();
  // Visits all judgments in insertion order; stops at the first error the visitor returns.
  Status for_each(const std::function<Status(const Judgment&)>& visit);

  // The rendered prompts of a judgment (JSON list text), kept for display; a key already
  // present keeps its prompts.
  Status put_prompts(std::span<const std::pair<std::string, std::string>> key_prompts);
  Result<std::optional<std::string>> prompts(std::string_view key);

  // Claims let concurrent runs on one store split the work: a worker claims the keys it is
  // about to judge, in one transaction, and judges only those granted; put() of a key drops
  // its claim in the same transaction. A claim expires `ttl_seconds` after it was made, so
  // the keys of a worker that died are claimed again; a worker still judging past its expiry
  // may then judge a key a second time (put() keeps the first record). `now` is Unix time in
  // seconds (default: the clock), the same for every worker on one machine. `gone`, when
  // given, names workers known to have stopped (a process that no longer exists): their
  // claims are taken over at once, as if expired.
  Result<ClaimResult> claim(std::span<const std::string> keys, std::string_view worker,
                            double ttl_seconds, std::optional<double> now = std::nullopt,
                            const std::function<bool(std::string_view worker)>& gone = nullptr);
  // Drops the worker's claims on `keys` (all of its claims when `keys` is empty).
  Status release(std::string_view worker, std::span<const std::string> keys = {});
  Result<int64_t> claim_count();  // live or expired claims in the store

  // Runs, newest last. create_run returns the new run's id.
  Result<int64_t> create_run(std::string_view kind, std::string_view name, std::string_view config,
                             std::string_view status = "running");
  Status add_run_items(int64_t run, std::span<const RunItem> items);  // appended in order
  Status update_run(int64_t run, std::string_view status, std::string_view summary);
  Result<std::vector<Run>> runs();
  Result<std::optional<Run>> run(int64_t id);
  Status for_each_run_item(int64_t run, const std::function<Status(const RunItem&)>& visit);
  const std::string& path() const { return path_; }

 private:
  Store(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status exec(const char* sql);
  Result<int64_t> count_of(const char* sql);  // a one-row, one-integer query
  sqlite3* db_;
  std::string path_;
  std::recursive_mutex mu_;
};

// The store's file and SQLite's companion files next to it (write-ahead log, shared-memory
// index), as inputs that no output may overwrite (core/io.h check_not_an_input).
std::vector<NamedPath> store_files(const std::string& path);

// Content key: SHA-256 over named, length-prefixed parts, so no two different part lists can
// serialize to the same bytes ("ab"+"c" vs "a"+"bc").
class KeyBuilder {
 public:
  KeyBuilder& add(std::string_view name, std::string_view value);
  std::string hex() const;

 private:
  std::string buf_;
};

}  // namespace gavel::store
