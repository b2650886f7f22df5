#include "store/store.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/io.h"
#include "core/sha256.h"

namespace gavel::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS judgments (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  protocol TEXT NOT NULL,
  model TEXT NOT NULL,
  item_id TEXT NOT NULL,
  record TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prompts (key TEXT PRIMARY KEY, prompts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  config TEXT NOT NULL,
  status TEXT NOT NULL,
  summary TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS run_items (
  run_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  keys TEXT NOT NULL,
  item TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS claims (
  key TEXT PRIMARY KEY,
  worker TEXT NOT NULL,
  expires_at REAL NOT NULL
);
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', '1');
)sql";

// Finalizes a prepared statement on every path out of a function.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

// The Status code of an SQLite result code (primary code, extended bits dropped).
StatusCode code_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StatusCode::kCorruption;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return StatusCode::kIOError;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return StatusCode::kResourceExhausted;
    default:
      return StatusCode::kInternal;
  }
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s, i)) : "";
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, Access access) {
  const bool read_only = access == Access::kReadOnly;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode))
      return Error{fmt::format("{}: is {}, not a store", path, file_kind(st.st_mode))};
  } else if (read_only) {
    return Error{fmt::format("{}: no such store: {}", path, std::strerror(errno))};
  }
  sqlite3* db = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error{fmt::format("{}: cannot open store: {}", path, msg), code_of(rc)};
  }
  std::unique_ptr<Store> store(new Store(db, path));
  sqlite3_busy_timeout(db, 10000);
  if (read_only) {
    // An empty or foreign SQLite file has no judgments table; a non-SQLite file fails here.
    Stmt q;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM sqlite_master WHERE type='table' AND name='judgments'",
                           -1, &q.s, nullptr) != SQLITE_OK)
      return Error{fmt::format("{}: not a gavel store: {}", path, sqlite3_errmsg(db))};
    rc = sqlite3_step(q.s);
    if (rc == SQLITE_DONE)
      return Error{fmt::format("{}: not a gavel store (no judgments table)", path)};
    if (rc != SQLITE_ROW)
      return Error{fmt::format("{}: not a gavel store: {}", path, sqlite3_errmsg(db))};
    return store;
  }
  // Switching a new store to WAL needs it alone for a moment, and SQLite reports another
  // process's lock at once here (no busy handler): runs started together retry, for as long as
  // the busy timeout.
  for (int waited_ms = 0;; waited_ms += 10) {
    Status wal = store->exec("PRAGMA journal_mode=WAL");
    if (wal.ok()) break;
    if (wal.code() != StatusCode::kUnavailable || waited_ms >= 10000) return wal;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  GAVEL_TRY(store->exec("PRAGMA synchronous=FULL"));
  // One transaction: the tables appear together or not at all, and the write-ahead log gets one
  // commit's pages instead of one commit per statement.
  GAVEL_TRY(store->exec((std::string("BEGIN IMMEDIATE;") + kSchema + "COMMIT;").c_str()));
  return store;
}

Store::~Store() { sqlite3_close(db_); }

Status Store::exec(const char* sql) {
  std::lock_guard lock(mu_);
  char* err = nullptr;
  if (int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err); rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Error{fmt::format("{}: {}", path_, msg), code_of(rc)};
  }
  return Status::Ok();
}

Result<std::optional<std::string>> Store::get(std::string_view key) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT record FROM judgments WHERE key = ?1", -1, &st.s, nullptr) !=
      SQLITE_OK)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  sqlite3_bind_text(st.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_ROW) return std::optional<std::string>(column_text(st.s, 0));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return Error{fmt::format("{}: lookup failed: {}", path_, sqlite3_errmsg(db_)), code_of(rc)};
}

Status Store::put(std::span<const Judgment> rows) {
  std::lock_guard lock(mu_);
  GAVEL_TRY(exec("BEGIN IMMEDIATE"));
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR IGNORE INTO judgments (key, protocol, model, item_id, record) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db_);
    const StatusCode code = code_of(sqlite3_errcode(db_));
    (void)exec("ROLLBACK");
    return Error{fmt::format("{}: {}", path_, msg), code};
  }
  Stmt unclaim;  // a committed key needs no claim any more, whoever held it
  if (sqlite3_prepare_v2(db_, "DELETE FROM claims WHERE key = ?1", -1, &unclaim.s, nullptr) !=
      SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db_);
    const StatusCode code = code_of(sqlite3_errcode(db_));
    (void)exec("ROLLBACK");
    return Error{fmt::format("{}: {}", path_, msg), code};
  }
  for (const Judgment& j : rows) {
    sqlite3_bind_text(unclaim.s, 1, j.key.data(), static_cast<int>(j.key.size()), SQLITE_STATIC);
    if (int rc = sqlite3_step(unclaim.s); rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db_);
      (void)exec("ROLLBACK");
      return Error{fmt::format("{}: release of the claim on {} failed: {}", path_, j.key, msg),
                   code_of(rc)};
    }
    sqlite3_reset(unclaim.s);
    const std::string* fields[] = {&j.key, &j.protocol, &j.model, &j.item_id, &j.record};
    for (int i = 0; i < 5; ++i)
      sqlite3_bind_text(st.s, i + 1, fields[i]->data(), static_cast<int>(fields[i]->size()),
                        SQLITE_STATIC);
    if (int rc = sqlite3_step(st.s); rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db_);
      (void)exec("ROLLBACK");
      return Error{fmt::format("{}: insert of {} failed: {}", path_, j.key, msg), code_of(rc)};
    }
    sqlite3_reset(st.s);
  }
  return exec("COMMIT");
}

Result<int64_t> Store::count_of(const char* sql) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK ||
      sqlite3_step(st.s) != SQLITE_ROW)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  return static_cast<int64_t>(sqlite3_column_int64(st.s, 0));
}

Result<int64_t> Store::count() { return count_of("SELECT COUNT(*) FROM judgments"); }

Status Store::for_each(const std::function<Status(const Judgment&)>& visit) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "SELECT key, protocol, model, item_id, record, created_at FROM judgments "
                         "ORDER BY seq",
                         -1, &st.s, nullptr) != SQLITE_OK)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    Judgment j{column_text(st.s, 0), column_text(st.s, 1), column_text(st.s, 2),
               column_text(st.s, 3), column_text(st.s, 4), column_text(st.s, 5)};
    GAVEL_TRY(visit(j));
  }
  if (rc != SQLITE_DONE)
    return Error{fmt::format("{}: read failed: {}", path_, sqlite3_errmsg(db_)), code_of(rc)};
  return Status::Ok();
}

std::vector<NamedPath> store_files(const std::string& path) {
  return {{"store", path},
          {"store's write-ahead log", path + "-wal"},
          {"store's shared-memory index", path + "-shm"}};
}

namespace {
void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
}  // namespace

Status Store::put_prompts(std::span<const std::pair<std::string, std::string>> key_prompts) {
  std::lock_guard lock(mu_);
  GAVEL_TRY(exec("BEGIN IMMEDIATE"));
  Stmt st;
  if (sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO prompts (key, prompts) VALUES (?1, ?2)", -1,
                         &st.s, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db_);
    const StatusCode code = code_of(sqlite3_errcode(db_));
    (void)exec("ROLLBACK");
    return Error{fmt::format("{}: {}", path_, msg), code};
  }
  for (const auto& [key, prompts] : key_prompts) {
    bind_text(st.s, 1, key);
    bind_text(st.s, 2, prompts);
    if (int rc = sqlite3_step(st.s); rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db_);
      (void)exec("ROLLBACK");
      return Error{fmt::format("{}: insert of the prompts of {} failed: {}", path_, key, msg),
                   code_of(rc)};
    }
    sqlite3_reset(st.s);
  }
  return exec("COMMIT");
}

Result<std::optional<std::string>> Store::prompts(std::string_view key) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT prompts FROM prompts WHERE key = ?1", -1, &st.s, nullptr) !=
      SQLITE_OK)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  bind_text(st.s, 1, key);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_ROW) return std::optional<std::string>(column_text(st.s, 0));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return Error{fmt::format("{}: lookup failed: {}", path_, sqlite3_errmsg(db_)), code_of(rc)};
}

Result<ClaimResult> Store::claim(std::span<const std::string> keys, std::string_view worker,
                                 double ttl_seconds, std::optional<double> now,
                                 const std::function<bool(std::string_view worker)>& gone) {
  const double t =
      now ? *now
          : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  std::lock_guard lock(mu_);
  ClaimResult out;
  if (keys.empty()) return out;
  GAVEL_TRY(exec("BEGIN IMMEDIATE"));  // the write lock: no other worker claims in between
  Stmt judged, holder, take;
  const char* sql[] = {
      "SELECT 1 FROM judgments WHERE key = ?1",
      "SELECT worker, expires_at FROM claims WHERE key = ?1",
      "INSERT OR REPLACE INTO claims (key, worker, expires_at) VALUES (?1, ?2, ?3)"};
  Stmt* stmts[] = {&judged, &holder, &take};
  for (int i = 0; i < 3; ++i)
    if (sqlite3_prepare_v2(db_, sql[i], -1, &stmts[i]->s, nullptr) != SQLITE_OK) {
      std::string msg = sqlite3_errmsg(db_);
      const StatusCode code = code_of(sqlite3_errcode(db_));
      (void)exec("ROLLBACK");
      return Error{fmt::format("{}: {}", path_, msg), code};
    }
  auto failed = [&](int rc, const std::string& key) {
    std::string msg = sqlite3_errmsg(db_);
    (void)exec("ROLLBACK");
    return Error{fmt::format("{}: claim of {} failed: {}", path_, key, msg), code_of(rc)};
  };
  for (const std::string& key : keys) {
    bind_text(judged.s, 1, key);
    int rc = sqlite3_step(judged.s);
    sqlite3_reset(judged.s);
    if (rc == SQLITE_ROW) {
      out.judged.push_back(key);
      continue;
    }
    if (rc != SQLITE_DONE) return failed(rc, key);
    bind_text(holder.s, 1, key);
    rc = sqlite3_step(holder.s);
    bool reclaim = false;
    if (rc == SQLITE_ROW) {
      const std::string owner = column_text(holder.s, 0);
      const bool mine = owner == worker;
      const bool live = sqlite3_column_double(holder.s, 1) > t && !(gone && !mine && gone(owner));
      sqlite3_reset(holder.s);
      if (!mine && live) {
        out.held.push_back(key);
        continue;
      }
      reclaim = !mine;
    } else {
      sqlite3_reset(holder.s);
      if (rc != SQLITE_DONE) return failed(rc, key);
    }
    bind_text(take.s, 1, key);
    bind_text(take.s, 2, worker);
    sqlite3_bind_double(take.s, 3, t + ttl_seconds);
    rc = sqlite3_step(take.s);
    sqlite3_reset(take.s);
    if (rc != SQLITE_DONE) return failed(rc, key);
    out.granted.push_back(key);
    out.reclaimed += reclaim;
  }
  GAVEL_TRY(exec("COMMIT"));
  return out;
}

Status Store::release(std::string_view worker, std::span<const std::string> keys) {
  std::lock_guard lock(mu_);
  GAVEL_TRY(exec("BEGIN IMMEDIATE"));
  Stmt st;
  const char* sql = keys.empty() ? "DELETE FROM claims WHERE worker = ?1"
                                 : "DELETE FROM claims WHERE worker = ?1 AND key = ?2";
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db_);
    const StatusCode code = code_of(sqlite3_errcode(db_));
    (void)exec("ROLLBACK");
    return Error{fmt::format("{}: {}", path_, msg), code};
  }
  const size_t n = keys.empty() ? 1 : keys.size();
  for (size_t i = 0; i < n; ++i) {
    bind_text(st.s, 1, worker);
    if (!keys.empty()) bind_text(st.s, 2, keys[i]);
    if (int rc = sqlite3_step(st.s); rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db_);
      (void)exec("ROLLBACK");
      return Error{fmt::format("{}: release of claims failed: {}", path_, msg), code_of(rc)};
    }
    sqlite3_reset(st.s);
  }
  return exec("COMMIT");
}

Result<int64_t> Store::claim_count() { return count_of("SELECT COUNT(*) FROM claims"); }

Result<int64_t> Store::create_run(std::string_view kind, std::string_view name,
                                  std::string_view config, std::string_view status) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "INSERT INTO runs (kind, name, config, status) VALUES (?1,?2,?3,?4)",
                         -1, &st.s, nullptr) != SQLITE_OK)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  bind_text(st.s, 1, kind);
  bind_text(st.s, 2, name);
  bind_text(st.s, 3, config);
  bind_text(st.s, 4, status);
  if (int rc = sqlite3_step(st.s); rc != SQLITE_DONE)
    return Error{fmt::format("{}: cannot record the run: {}", path_, sqlite3_errmsg(db_)),
                 code_of(rc)};
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status Store::add_run_items(int64_t run, std::span<const RunItem> items) {
  std::lock_guard lock(mu_);
  if (items.empty()) return Status::Ok();
  GAVEL_TRY(exec("BEGIN IMMEDIATE"));
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO run_items (run_id, seq, item_id, keys, item) VALUES (?1, "
                         "(SELECT COALESCE(MAX(seq), 0) + 1 FROM run_items WHERE run_id = ?1), "
                         "?2, ?3, ?4)",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db_);
    const StatusCode code = code_of(sqlite3_errcode(db_));
    (void)exec("ROLLBACK");
    return Error{fmt::format("{}: {}", path_, msg), code};
  }
  for (const RunItem& it : items) {
    sqlite3_bind_int64(st.s, 1, run);
    bind_text(st.s, 2, it.item_id);
    bind_text(st.s, 3, it.keys);
    bind_text(st.s, 4, it.item);
    if (int rc = sqlite3_step(st.s); rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db_);
      (void)exec("ROLLBACK");
      return Error{fmt::format("{}: cannot record run {}'s items: {}", path_, run, msg),
                   code_of(rc)};
    }
    sqlite3_reset(st.s);
  }
  return exec("COMMIT");
}

Status Store::update_run(int64_t run, std::string_view status, std::string_view summary) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "UPDATE runs SET status = ?2, summary = ?3, updated_at = "
                         "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
                         -1, &st.s, nullptr) != SQLITE_OK)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  sqlite3_bind_int64(st.s, 1, run);
  bind_text(st.s, 2, status);
  bind_text(st.s, 3, summary);
  if (int rc = sqlite3_step(st.s); rc != SQLITE_DONE)
    return Error{fmt::format("{}: cannot update run {}: {}", path_, run, sqlite3_errmsg(db_)),
                 code_of(rc)};
  if (sqlite3_changes(db_) != 1)
    return Error{fmt::format("{}: no run {}", path_, run), StatusCode::kNotFound};
  return Status::Ok();
}

namespace {
constexpr const char* kRunColumns =
    "SELECT id, kind, name, config, status, summary, created_at, updated_at FROM runs";
Run read_run(sqlite3_stmt* s) {
  return Run{sqlite3_column_int64(s, 0), column_text(s, 1), column_text(s, 2), column_text(s, 3),
             column_text(s, 4),          column_text(s, 5), column_text(s, 6), column_text(s, 7)};
}
}  // namespace

Result<std::vector<Run>> Store::runs() {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, fmt::format("{} ORDER BY id", kRunColumns).c_str(), -1, &st.s,
                         nullptr) != SQLITE_OK)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  std::vector<Run> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) out.push_back(read_run(st.s));
  if (rc != SQLITE_DONE)
    return Error{fmt::format("{}: read failed: {}", path_, sqlite3_errmsg(db_)), code_of(rc)};
  return out;
}

Result<std::optional<Run>> Store::run(int64_t id) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, fmt::format("{} WHERE id = ?1", kRunColumns).c_str(), -1, &st.s,
                         nullptr) != SQLITE_OK)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  sqlite3_bind_int64(st.s, 1, id);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_ROW) return std::optional<Run>(read_run(st.s));
  if (rc == SQLITE_DONE) return std::optional<Run>();
  return Error{fmt::format("{}: read failed: {}", path_, sqlite3_errmsg(db_)), code_of(rc)};
}

Status Store::for_each_run_item(int64_t run, const std::function<Status(const RunItem&)>& visit) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "SELECT item_id, keys, item FROM run_items WHERE run_id = ?1 ORDER BY seq",
                         -1, &st.s, nullptr) != SQLITE_OK)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  sqlite3_bind_int64(st.s, 1, run);
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW)
    GAVEL_TRY(visit(RunItem{column_text(st.s, 0), column_text(st.s, 1), column_text(st.s, 2)}));
  if (rc != SQLITE_DONE)
    return Error{fmt::format("{}: read failed: {}", path_, sqlite3_errmsg(db_)), code_of(rc)};
  return Status::Ok();
}

KeyBuilder& KeyBuilder::add(std::string_view name, std::string_view value) {
  buf_ += fmt::format("{}:{}:", name.size(), name);
  buf_ += fmt::format("{}:", value.size());
  buf_.append(value);
  buf_ += ';';
  return *this;
}

std::string KeyBuilder::hex() const { return sha256_hex(buf_); }

}  // namespace gavel::store
