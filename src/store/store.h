// Crash-safe judgment store on SQLite (WAL). Each judgment is keyed by a SHA-256 of everything
// that determines it (model fingerprint, protocol, template, rendered prompts, decoding
// parameters), so a re-run finds finished work and never stores a judgment twice. A put()
// returns only after its transaction committed: a record reported as done survives a kill.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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

class Store {
 public:
  // Opens the database (WAL, synchronous=FULL, busy timeout for concurrent runs), creating it
  // when missing unless `access` is kReadOnly. Only put() needs kReadWrite.
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
  const std::string& path() const { return path_; }

 private:
  Store(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status exec(const char* sql);
  sqlite3* db_;
  std::string path_;
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
