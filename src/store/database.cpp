#include "store/database.h"

#include <sqlite3.h>

#include <cstdio>
#include <ctime>

#include "store/schema.h"

namespace freezr::store {

Statement::Statement(sqlite3* db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
    error_ = sqlite3_errmsg(db);
    stmt_ = nullptr;
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Statement& Statement::bind(int i, const std::string& v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

bool Statement::step() {
  if (stmt_ == nullptr) return false;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(db_);
  return false;
}

bool Statement::run() {
  error_.clear();
  step();
  reset();
  return error_.empty() && stmt_ != nullptr;
}

void Statement::reset() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p),
                                    static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}
bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

namespace {
Result<sqlite3*> open_raw(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  // Never through a link: a link planted at the database's path would make FreezR write into
  // whatever it points at.
  const int flags =
      SQLITE_OPEN_NOFOLLOW |
      (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error{rc, "cannot open " + path + ": " + msg};
  }
  sqlite3_busy_timeout(db, 2000);
  return db;
}
}  // namespace

Result<std::unique_ptr<Database>> Database::open(const std::string& path, bool read_only,
                                                 std::string* note) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto raw = open_raw(path, read_only);
    if (!raw) return raw.error();
    std::unique_ptr<Database> db(new Database(*raw, path));
    if (read_only) return db;
    // The WAL is checkpointed every 256 pages (1 MiB) and cut back to 1 MiB after: it never
    // grows past a small fraction of the history.
    std::string err = db->exec(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=256; "
        "PRAGMA journal_size_limit=1048576;");
    if (err.empty()) err = db->migrate();
    if (err.empty()) return db;
    const int code = sqlite3_errcode(db->db_);
    db.reset();
    if (attempt == 1 || (code != SQLITE_CORRUPT && code != SQLITE_NOTADB)) {
      return Error{code, path + ": " + err};
    }
    const std::string aside = path + ".corrupt-" + std::to_string(std::time(nullptr));
    std::rename(path.c_str(), aside.c_str());
    for (const char* suffix : {"-wal", "-shm"}) std::remove((path + suffix).c_str());
    if (note != nullptr) *note = path + " was damaged (" + err + "); moved to " + aside;
  }
  return Error{0, "unreachable"};
}

Database::~Database() {
  cache_.clear();
  sqlite3_close(db_);
}

std::string Database::exec(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string out = msg != nullptr ? msg : "unknown error";
    sqlite3_free(msg);
    return out;
  }
  return {};
}

Statement& Database::prepare(const std::string& sql) {
  for (auto& [text, stmt] : cache_) {
    if (text == sql) return *stmt;
  }
  cache_.emplace_back(sql, std::make_unique<Statement>(db_, sql));
  return *cache_.back().second;
}

int Database::schema_version() const {
  sqlite3_stmt* st = nullptr;
  int v = 0;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return v;
}

std::string Database::migrate() {
  const auto& steps = migrations();
  for (int v = schema_version(); v < static_cast<int>(steps.size()); ++v) {
    const std::string sql = "BEGIN; " + steps[static_cast<std::size_t>(v)] +
                            "; PRAGMA user_version = " + std::to_string(v + 1) + "; COMMIT;";
    if (auto err = exec(sql); !err.empty()) {
      exec("ROLLBACK");
      return "migration " + std::to_string(v + 1) + " failed: " + err;
    }
  }
  return {};
}

}  // namespace freezr::store
