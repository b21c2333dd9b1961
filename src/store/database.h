// Database: FreezR's SQLite file (WAL, synchronous=NORMAL) with numbered migrations. A file
// that is not a database, or is corrupt, is moved aside and a new one started.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace freezr::store {

class Statement;

class Database {
 public:
  // Opens (creating if needed) and migrates. *note receives a line when the file had to be
  // moved aside. read_only opens an existing file without migrating.
  static Result<std::unique_ptr<Database>> open(const std::string& path, bool read_only,
                                                std::string* note);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs SQL without results. Returns an error text, empty on success.
  std::string exec(const std::string& sql);
  // A prepared statement, cached by its text.
  Statement& prepare(const std::string& sql);
  [[nodiscard]] sqlite3* handle() const { return db_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] int schema_version() const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  std::string migrate();
  sqlite3* db_;
  std::string path_;
  std::vector<std::pair<std::string, std::unique_ptr<Statement>>> cache_;
};

// A reusable prepared statement. Bind by 1-based index, then step().
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  [[nodiscard]] bool ok() const { return stmt_ != nullptr; }
  [[nodiscard]] const std::string& error() const { return error_; }
  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, double v);
  Statement& bind(int i, const std::string& v);
  Statement& bind_null(int i);
  // Advances: true while a row is available; false when done or on error (see error()).
  bool step();
  // Finishes a statement that returns no rows; false on error.
  bool run();
  void reset();
  [[nodiscard]] std::int64_t int64(int col) const;
  [[nodiscard]] double real(int col) const;
  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] bool is_null(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_;
  std::string error_;
};

}  // namespace freezr::store
