#include "cli/thaw.h"

#include <fmt/format.h>

#include <filesystem>

#include "act/ledger_entries.h"
#include "store/database.h"
#include "store/ledger.h"

namespace freezr::cli {

int cmd_thaw(const std::string& data_dir, std::optional<Pid> pid, const std::string& proc_root) {
  const std::string path = data_dir + "/freezr.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    fmt::print(pid ? stderr : stdout, "nothing is frozen: no ledger at {}\n", path);
    return pid ? 1 : 0;
  }
  auto db = store::Database::open(path, false, nullptr);
  if (!db) {
    fmt::print(stderr, "freezr: {}\n", db.error().message);
    return 1;
  }
  store::Ledger ledger(db->get());
  proc::FsProcSource source(proc_root);
  act::LinuxProcessControl control(source, proc_root);
  int thawed = 0, failed = 0;
  for (const auto& e : ledger.all()) {
    if (!act::is_freeze(e) || (pid && e.process.pid != *pid)) continue;
    const auto r = act::undo_entry(e, source, control);
    if (r) {
      ledger.remove(e.id);
      fmt::print("thawed PID {} (frozen by rule '{}', {})\n", e.process.pid, e.rule, e.kind);
      ++thawed;
    } else {
      fmt::print(stderr, "freezr: PID {}: {}\n", e.process.pid, r.error().message);
      ++failed;
    }
  }
  if (failed > 0) return 1;
  if (pid && thawed == 0) {
    fmt::print(stderr, "freezr: PID {} is not frozen by FreezR\n", *pid);
    return 1;
  }
  if (!pid && thawed == 0) fmt::print("nothing is frozen\n");
  return 0;
}

}  // namespace freezr::cli
