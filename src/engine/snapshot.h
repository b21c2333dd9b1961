// Snapshot: one scan of the machine, with CPU% already derived. Plain data.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "proc/parse.h"
#include "proc/placement.h"

namespace freezr::engine {

// What memory a rule or the pressure responder counts for a process: the resident set (from
// stat), or from smaps_rollup the proportional set (shared pages divided among their users),
// the unique set (private pages), or the resident set plus what is swapped out.
enum class MemoryMetric { kRss, kPss, kUss, kSwap };
const char* to_string(MemoryMetric m);

// Memory as the kernel charges it, bytes, from /proc/PID/smaps_rollup.
struct MemoryDetail {
  std::uint64_t pss = 0;
  std::uint64_t uss = 0;  // Private_Clean + Private_Dirty
  std::uint64_t swap = 0;
};

// MiB by the metric of a process with this resident set and smaps_rollup (the resident set
// when detail is missing).
double memory_mb(std::uint64_t rss_bytes, const std::optional<MemoryDetail>& detail,
                 MemoryMetric m);

struct ProcessSample {
  ProcessId id;
  Pid ppid = 0;
  Pid pgrp = 0;
  std::string comm;
  char state = '?';
  bool kernel_thread = false;
  int nice = 0;
  // Percent of one core since the previous scan (100 = one core busy). Only meaningful when
  // cpu_valid: a process seen for the first time has no previous sample.
  double cpu_percent = 0;
  bool cpu_valid = false;
  // CPU of children that exited and were reaped since the previous scan (the growth of
  // cutime+cstime), less what earlier scans already counted for them. A shell loop forking
  // short-lived workers shows its real load here.
  double child_cpu_percent = 0;
  std::uint64_t rss_bytes = 0;
  // Read only for the processes of rules that use them (and the pressure candidates): the
  // smaps_rollup figures, and disk I/O rates in bytes per second since the previous reading.
  std::optional<MemoryDetail> memory;
  std::optional<double> io_read_bps, io_write_bps;
  // PSI some avg10 of its own cgroup (v2): cpu, io, memory; read for the processes of rules
  // whose pressure gates read the cgroup's (each nullopt where unreadable).
  std::optional<std::array<std::optional<double>, 3>> cgroup_pressure;
  // Where it lives (unit, slice, container): set by the scanner for the processes it keeps,
  // read once per process.
  std::shared_ptr<const proc::Placement> place;

  // Own CPU plus that of reaped children: what rules judge.
  [[nodiscard]] double total_cpu() const { return cpu_percent + child_cpu_percent; }

  [[nodiscard]] double rss_mb() const { return static_cast<double>(rss_bytes) / kMiB; }
  // MiB by the metric; the resident set when smaps_rollup was not read.
  [[nodiscard]] double memory_mb(MemoryMetric m) const {
    return engine::memory_mb(rss_bytes, memory, m);
  }
  [[nodiscard]] bool alive() const { return state != 'Z' && state != 'X' && state != 'x'; }
};

struct Snapshot {
  Seconds time = 0;      // monotonic time of the scan
  Seconds interval = 0;  // wall time since the previous scan; 0 on the first
  std::vector<ProcessSample> processes;
  std::optional<proc::MemInfo> meminfo;
  std::optional<proc::LoadAvg> loadavg;
  std::optional<proc::Pressure> memory_pressure;
  std::optional<proc::Pressure> cpu_pressure;
  std::optional<proc::Pressure> io_pressure;
};

}  // namespace freezr::engine
