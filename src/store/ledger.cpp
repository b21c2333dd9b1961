#include "store/ledger.h"

#include <sqlite3.h>

#include <algorithm>

namespace freezr::store {

std::int64_t Ledger::add(const LedgerEntry& e, std::string* error) {
  if (db_ == nullptr) {
    LedgerEntry copy = e;
    copy.id = next_memory_id_++;
    memory_.push_back(copy);
    return copy.id;
  }
  auto& st = db_->prepare(
      "INSERT INTO ledger (pid, start_time, kind, rule, data, applied_at) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  st.bind(1, static_cast<std::int64_t>(e.process.pid))
      .bind(2, static_cast<std::int64_t>(e.process.start_time))
      .bind(3, e.kind)
      .bind(4, e.rule)
      .bind(5, e.data)
      .bind(6, e.applied_at);
  if (!st.run()) {
    if (error != nullptr) *error = st.error();
    return 0;
  }
  return sqlite3_last_insert_rowid(db_->handle());
}

bool Ledger::remove(std::int64_t id) {
  if (db_ == nullptr) {
    auto it = std::find_if(memory_.begin(), memory_.end(),
                           [&](const LedgerEntry& e) { return e.id == id; });
    if (it == memory_.end()) return false;
    memory_.erase(it);
    return true;
  }
  auto& st = db_->prepare("DELETE FROM ledger WHERE id = ?");
  st.bind(1, id);
  return st.run() && sqlite3_changes(db_->handle()) > 0;
}

bool Ledger::contains(std::int64_t id) {
  if (db_ == nullptr) {
    return std::any_of(memory_.begin(), memory_.end(),
                       [&](const LedgerEntry& e) { return e.id == id; });
  }
  auto& st = db_->prepare("SELECT 1 FROM ledger WHERE id = ?");
  st.bind(1, id);
  const bool found = st.step();
  st.reset();
  return found;
}

std::vector<LedgerEntry> Ledger::all() {
  if (db_ == nullptr) return memory_;
  std::vector<LedgerEntry> out;
  auto& st = db_->prepare(
      "SELECT id, pid, start_time, kind, rule, data, applied_at FROM ledger ORDER BY id");
  while (st.step()) {
    LedgerEntry e;
    e.id = st.int64(0);
    e.process = ProcessId{static_cast<Pid>(st.int64(1)), static_cast<std::uint64_t>(st.int64(2))};
    e.kind = st.text(3);
    e.rule = st.text(4);
    e.data = st.text(5);
    e.applied_at = st.real(6);
    out.push_back(std::move(e));
  }
  st.reset();
  return out;
}

}  // namespace freezr::store
