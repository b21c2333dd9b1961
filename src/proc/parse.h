// Pure parsers for /proc text. string_view in, Result out; no file access here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/types.h"

namespace freezr::proc {

// The fields of /proc/PID/stat that FreezR uses.
struct StatFields {
  Pid pid = 0;
  std::string comm;  // may contain spaces, parentheses, newlines
  char state = '?';
  Pid ppid = 0;
  Pid pgrp = 0;
  Pid session = 0;
  unsigned flags = 0;
  std::uint64_t utime = 0;  // clock ticks
  std::uint64_t stime = 0;
  std::int64_t cutime = 0;
  std::int64_t cstime = 0;
  std::int64_t nice = 0;
  std::int64_t num_threads = 0;
  std::uint64_t start_time = 0;  // clock ticks after boot
  std::uint64_t vsize = 0;       // bytes
  std::int64_t rss_pages = 0;

  [[nodiscard]] bool kernel_thread() const { return (flags & 0x00200000U) != 0; }  // PF_KTHREAD
};

// /proc/PID/stat, e.g.
// 1234 (a) b (c) S 1 1234 1234 0 -1 4194560 97 0 0 0 3 1 0 0 20 0 1 0 8214 5623808 230 ...
// comm is taken between the first '(' and the LAST ')'.
Result<StatFields> parse_stat(std::string_view text);

// /proc/PID/status "Uid:\t1000\t1000\t1000\t1000" -> the real uid.
Result<std::uint32_t> parse_status_uid(std::string_view text);

// /proc/PID/cmdline: NUL-separated argv -> space-separated, trailing NULs dropped.
std::string join_cmdline(std::string_view raw);

// /proc/meminfo values in kiB.
struct MemInfo {
  std::uint64_t total_kb = 0;
  std::uint64_t available_kb = 0;
  std::uint64_t swap_total_kb = 0;
  std::uint64_t swap_free_kb = 0;

  [[nodiscard]] double used_percent() const {
    return total_kb == 0 ? 0.0
                         : 100.0 * static_cast<double>(total_kb - available_kb) /
                               static_cast<double>(total_kb);
  }
};
// MemTotal:       24562812 kB
// MemAvailable:   20811208 kB
Result<MemInfo> parse_meminfo(std::string_view text);

// /proc/loadavg: "0.52 0.58 0.59 2/612 12345"
struct LoadAvg {
  double one = 0, five = 0, fifteen = 0;
  int running = 0, total = 0;
};
Result<LoadAvg> parse_loadavg(std::string_view text);

// /proc/pressure/{cpu,io,memory}:
// some avg10=0.00 avg60=0.00 avg300=0.00 total=0
// full avg10=0.00 avg60=0.00 avg300=0.00 total=0     (absent for cpu on older kernels)
struct PressureLine {
  double avg10 = 0, avg60 = 0, avg300 = 0;
  std::uint64_t total_us = 0;
};
struct Pressure {
  PressureLine some;
  std::optional<PressureLine> full;
};
Result<Pressure> parse_pressure(std::string_view text);

// /proc/PID/io: the bytes the process made the storage layer read and write.
// rchar: 323934931
// read_bytes: 4096
// write_bytes: 323932160
struct IoCounters {
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
};
Result<IoCounters> parse_io(std::string_view text);

// /proc/PID/smaps_rollup: the sums over all mappings, bytes.
// 55f2a0b5e000-7ffd6b7f8000 ---p 00000000 00:00 0    [rollup]
// Rss:               12345 kB
// Pss:                6789 kB
// Private_Clean:       100 kB
// Private_Dirty:      2000 kB
// Swap:                  0 kB
struct SmapsRollup {
  std::uint64_t rss = 0, pss = 0, private_bytes = 0, swap = 0;
};
Result<SmapsRollup> parse_smaps_rollup(std::string_view text);

// A kernel OOM kill as /dev/kmsg records it:
// 3,1234,5678901,-;Out of memory: Killed process 4242 (chrome) total-vm:9000kB,
//   anon-rss:512000kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:2000kB oom_score_adj:300
// (one line; "Memory cgroup out of memory: Killed process ..." for a cgroup's limit).
struct KernelOomKill {
  Pid pid = 0;
  std::string comm;
  std::uint64_t anon_rss_kb = 0;
  std::optional<std::uint32_t> uid;
  std::optional<int> oom_score_adj;
  bool cgroup_limit = false;  // a memory cgroup's limit, not the whole machine
};
// nullopt for every other record; fields after the name that are missing stay unset.
std::optional<KernelOomKill> parse_kmsg_oom_kill(std::string_view record);
// The oom_kill counter of /proc/vmstat (kernels since 4.13); nullopt without it.
std::optional<std::uint64_t> parse_vmstat_oom_kills(std::string_view text);

// One line of /proc/self/mountinfo:
// 40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
struct Mount {
  std::string root;         // field 4: the mount's root within its filesystem
  std::string mount_point;  // field 5
  std::string fstype;       // after " - "
  std::string super_options;
};
// Lines that do not parse are skipped. Octal escapes (\040) in paths are decoded.
std::vector<Mount> parse_mountinfo(std::string_view text);

// The cgroup path of a process from /proc/PID/cgroup: the v2 line ("0::/user.slice/x") when
// controller is empty, else the v1 line whose controller list contains it
// ("4:cpu,cpuacct:/x"). nullopt when there is no such line.
std::optional<std::string> parse_cgroup_path(std::string_view text, std::string_view controller);

}  // namespace freezr::proc
