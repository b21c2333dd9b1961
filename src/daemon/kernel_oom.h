// KernelOomWatch: the kernel's own OOM kills, so that the history says what the kernel did
// next to whom FreezR would have chosen. Read from the kernel log (/dev/kmsg, or a file laid
// out the same way) when FreezR may read it; otherwise from /proc/vmstat's oom_kill counter,
// naming as the probable victim the process with the largest resident set that vanished
// since the scan before (the shipped unit's ProtectKernelLogs= hides the log).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/snapshot.h"
#include "proc/parse.h"
#include "proc/proc_source.h"

namespace freezr::daemon {

struct KernelKill {
  proc::KernelOomKill kill;
  bool guessed = false;  // named from the vanished processes, not read from the kernel log
};

class KernelOomWatch {
 public:
  KernelOomWatch() = default;
  ~KernelOomWatch();
  KernelOomWatch(const KernelOomWatch&) = delete;
  KernelOomWatch& operator=(const KernelOomWatch&) = delete;

  // Starts watching: the log at path from its end (records already there are history), or
  // with "" none (the counter only). Returns why the log cannot be read, or "".
  std::string start(const std::string& path, proc::ProcSource& source);
  // The kills since the last call, given this scan's processes.
  std::vector<KernelKill> poll(const engine::Snapshot& snap);
  [[nodiscard]] const char* mode() const { return fd_ >= 0 ? "kernel log" : "vmstat"; }
  [[nodiscard]] std::uint64_t kills() const { return kills_; }

 private:
  void read_log(std::vector<KernelKill>& out);
  void guess(const engine::Snapshot& snap, std::uint64_t count, std::vector<KernelKill>& out);

  struct Seen {
    ProcessId id;
    std::string comm;
    std::uint64_t rss = 0;
  };
  proc::ProcSource* source_ = nullptr;
  int fd_ = -1;
  std::string partial_;                   // a record not yet ended by its newline
  std::optional<std::uint64_t> counted_;  // /proc/vmstat oom_kill at the last poll
  std::vector<Seen> previous_;            // the last scan's processes (counter mode only)
  std::uint64_t kills_ = 0;
};

}  // namespace freezr::daemon
