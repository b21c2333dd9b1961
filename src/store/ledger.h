// Ledger: every reversible action in force, written before it is applied and removed after it
// is undone, so a crashed FreezR's successor (or `freezr thaw`) can undo it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"
#include "store/database.h"

namespace freezr::store {

struct LedgerEntry {
  std::int64_t id = 0;
  ProcessId process;
  std::string kind;  // "freeze-signal", "freeze-cgroup", "renice", "throttle"
  std::string rule;
  std::string data;  // JSON with what is needed to undo
  double applied_at = 0;
};

class Ledger {
 public:
  // db may be null: entries are then kept in memory only (and lost with the process).
  explicit Ledger(Database* db) : db_(db) {}
  Ledger(Ledger&&) = default;
  Ledger& operator=(Ledger&&) = default;

  // Stores e and returns its id (0 and *error set when the database refused it).
  std::int64_t add(const LedgerEntry& e, std::string* error);
  // True when the entry existed.
  bool remove(std::int64_t id);
  [[nodiscard]] bool contains(std::int64_t id);
  std::vector<LedgerEntry> all();
  [[nodiscard]] bool durable() const { return db_ != nullptr; }

 private:
  Database* db_;
  std::vector<LedgerEntry> memory_;
  std::int64_t next_memory_id_ = 1;
};

}  // namespace freezr::store
