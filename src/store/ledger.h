// Ledger: every reversible action in force, written before it is applied and removed after it
// is undone, so a crashed FreezR's successor (or `freezr thaw`) can undo it.
//
// It is a small file of its own in the data directory (kLedgerFile), not a table of the
// history, so a damaged history never loses a freeze: a header line, then one JSON object per
// entry, rewritten atomically and synced on every change, under an flock of the directory so
// that the daemon and `freezr thaw` can both change it. A line that does not parse, or whose
// fields FreezR could not have written, is dropped and reported; the others stand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "fs/files.h"
#include "store/database.h"

namespace freezr::store {

inline constexpr const char* kLedgerFile = "ledger.jsonl";
// A ledger file larger than this is not FreezR's (it holds a handful of entries).
inline constexpr std::size_t kMaxLedgerBytes = 4 << 20;

struct LedgerEntry {
  std::int64_t id = 0;
  ProcessId process;
  std::string kind;  // "freeze-signal", "freeze-cgroup", "renice", "throttle"
  std::string rule;
  std::string data;  // JSON with what is needed to undo
  double applied_at = 0;
};

// What a ledger file holds: its entries, the next id to give (ids are never reused, so a hold
// whose entry `freezr thaw` removed cannot mistake a new entry for its own), and one line per
// line of the file that was dropped.
struct LedgerFile {
  std::int64_t next_id = 1;
  std::vector<LedgerEntry> entries;
  std::vector<std::string> problems;
};

// Reads the text of a ledger file. Never throws, whatever the text.
LedgerFile parse_ledger(std::string_view text);
// The text of a ledger file.
std::string render_ledger(const LedgerFile& ledger);

class Ledger {
 public:
  // Kept in memory only (and lost with the process).
  Ledger() = default;
  // Kept in dir's kLedgerFile (created on the first entry); dir must outlive the ledger.
  explicit Ledger(const fs::Directory* dir) : dir_(dir) {}
  Ledger(Ledger&&) = default;
  Ledger& operator=(Ledger&&) = default;

  // Stores e (synced to disk before it returns) and gives its id.
  Result<std::int64_t> add(const LedgerEntry& e);
  // True when the entry existed.
  bool remove(std::int64_t id);
  [[nodiscard]] bool contains(std::int64_t id);
  std::vector<LedgerEntry> all();
  [[nodiscard]] bool durable() const { return dir_ != nullptr; }
  // What was dropped from the file (unreadable lines, a damaged header) since the last call.
  std::vector<std::string> take_problems();

  // Moves the entries of the `ledger` table of a history database (where FreezR kept them
  // before they had a file of their own) into this ledger and empties the table. Returns how
  // many moved.
  Result<int> import_from(Database& db);

 private:
  Result<LedgerFile> load();
  Result<void> save(const LedgerFile& f);
  // Applies change to the ledger as it is on disk now, under the directory's lock.
  template <typename Change>
  Result<void> update(Change change);

  const fs::Directory* dir_ = nullptr;
  LedgerFile memory_;
  std::vector<std::string> problems_;
};

}  // namespace freezr::store
