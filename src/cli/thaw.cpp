#include "cli/thaw.h"

#include <fmt/format.h>

#include <filesystem>

#include "act/ledger_entries.h"
#include "store/database.h"
#include "store/ledger.h"

namespace freezr::cli {

int cmd_thaw(const std::string& data_dir, std::optional<Pid> pid, const std::string& proc_root) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    fmt::print(pid ? stderr : stdout, "nothing is frozen: no data directory at {}\n", data_dir);
    return pid ? 1 : 0;
  }
  auto dir = fs::Directory::open(data_dir);
  if (!dir) {
    fmt::print(stderr, "freezr: {}\n", dir.error().message);
    return 1;
  }
  store::Ledger ledger(&*dir);
  // Entries an older FreezR kept in the history database.
  if (std::filesystem::exists(dir->path_of("freezr.db"), ec)) {
    if (auto db = store::Database::open(dir->path_of("freezr.db"), false, nullptr)) {
      (void)ledger.import_from(**db);
    }
  }
  proc::FsProcSource source(proc_root);
  act::LinuxProcessControl control(source, proc_root);
  const auto mountinfo = source.read_system_file("self/mountinfo");
  act::Cgroups cgroups(act::find_cgroup_roots(proc::parse_mountinfo(mountinfo ? *mountinfo : "")),
                       "freezr", act::instance_tag(data_dir));
  cgroups.accept_recorded(*dir);
  const auto entries = ledger.all();
  int thawed = 0, failed = 0;
  for (const auto& e : entries) {
    if (!act::is_freeze(e) || (pid && e.process.pid != *pid)) continue;
    const auto r = act::undo_entry(e, source, control, cgroups, act::others_in_group(entries, e));
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
  for (const auto& p : ledger.take_problems()) fmt::print(stderr, "freezr: {}\n", p);
  if (!pid && thawed == 0) fmt::print("nothing is frozen\n");
  return 0;
}

}  // namespace freezr::cli
