// Pre-flight checks, run before the first scan. Each yields one log line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"
#include "fs/files.h"
#include "os/instance_lock.h"
#include "proc/parse.h"
#include "proc/proc_source.h"
#include "report/log_lines.h"

namespace freezr::daemon {

struct DiskUsage {
  double used_percent = 0;
  std::uint64_t free_bytes = 0;
  std::uint64_t total_bytes = 0;
};

// Usage of the filesystem holding path (statvfs; blocks reserved for root count as used).
Result<DiskUsage> disk_usage(const std::string& path);

// What the directory checks leave: the data and runtime directories, opened and checked, and
// the lock (in the runtime directory: one per machine, whatever the data directory).
struct DataDirectory {
  fs::Directory dir;
  fs::Directory runtime;
  os::InstanceLock lock;
};

// "Load: 0.52 0.58 0.59, Memory: 15.3% used (20.3 GiB available), Swap: 50.0% used,
//  PSI some avg10: cpu 1.20 io 0.00 memory 0.00"
std::string health_line(const std::optional<proc::LoadAvg>& load,
                        const std::optional<proc::MemInfo>& mem,
                        const std::optional<proc::Pressure>& cpu,
                        const std::optional<proc::Pressure>& io,
                        const std::optional<proc::Pressure>& memory);

// The start-up checks, each logged as one PREFLIGHT line.
class Preflight {
 public:
  explicit Preflight(report::LogLines& log) : log_(log) {}

  // Logs one check; a failed one counts as a warning.
  void check(bool ok, const std::string& what, const std::string& detail);
  // Opens (creating it where missing) and checks the log directory, and proves it writable.
  void log_dir(const std::optional<fs::Directory>& dir, const std::string& path,
               const std::string& file_error);
  // Opens and checks the data and runtime directories (see fs::Directory), proves them
  // writable and takes the single-instance lock in the runtime one. nullopt (after logging
  // why) when FreezR cannot go on.
  std::optional<DataDirectory> data_dir_and_lock(const std::string& dir,
                                                 const std::string& runtime_dir, bool replace,
                                                 double wait_seconds);
  // Load, memory and PSI averages.
  void system_health(proc::ProcSource& source);
  // Locks FreezR's memory (mlockall, current and future pages as they are touched), so its
  // own pages are not reclaimed under the pressure it is there to relieve. A warning where
  // it fails.
  void lock_memory();
  // Drops capabilities to the needed set (and extra) when run as root.
  void capabilities(const std::vector<std::string>& extra = {});
  // The closing "Pre-flight checks: ..." line; extra_warnings come from checks made elsewhere.
  void summary(int extra_warnings);

 private:
  report::LogLines& log_;
  int warnings_ = 0;
};

}  // namespace freezr::daemon
