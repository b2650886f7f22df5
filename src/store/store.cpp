#include "store/store.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

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
  GAVEL_TRY(store->exec("PRAGMA journal_mode=WAL"));
  GAVEL_TRY(store->exec("PRAGMA synchronous=FULL"));
  GAVEL_TRY(store->exec(kSchema));
  return store;
}

Store::~Store() { sqlite3_close(db_); }

Status Store::exec(const char* sql) {
  char* err = nullptr;
  if (int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err); rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Error{fmt::format("{}: {}", path_, msg), code_of(rc)};
  }
  return Status::Ok();
}

Result<std::optional<std::string>> Store::get(std::string_view key) {
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT record FROM judgments WHERE key = ?1", -1, &st.s,
                         nullptr) != SQLITE_OK)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  sqlite3_bind_text(st.s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_ROW) return std::optional<std::string>(column_text(st.s, 0));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return Error{fmt::format("{}: lookup failed: {}", path_, sqlite3_errmsg(db_)), code_of(rc)};
}

Status Store::put(std::span<const Judgment> rows) {
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
  for (const Judgment& j : rows) {
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

Result<int64_t> Store::count() {
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM judgments", -1, &st.s, nullptr) != SQLITE_OK ||
      sqlite3_step(st.s) != SQLITE_ROW)
    return Error{fmt::format("{}: {}", path_, sqlite3_errmsg(db_)), code_of(sqlite3_errcode(db_))};
  return static_cast<int64_t>(sqlite3_column_int64(st.s, 0));
}

Status Store::for_each(const std::function<Status(const Judgment&)>& visit) {
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

KeyBuilder& KeyBuilder::add(std::string_view name, std::string_view value) {
  buf_ += fmt::format("{}:{}:", name.size(), name);
  buf_ += fmt::format("{}:", value.size());
  buf_.append(value);
  buf_ += ';';
  return *this;
}

std::string KeyBuilder::hex() const { return sha256_hex(buf_); }

}  // namespace gavel::store
