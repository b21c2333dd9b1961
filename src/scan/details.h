// Details: what a scan reads beyond /proc/PID/stat, and only where something asks for it —
// disk I/O rates (/proc/PID/io) for the processes of rules with I/O thresholds, and the
// smaps_rollup figures for the processes of rules whose memory_metric is not the resident set,
// and the PSI of their own cgroup for the processes of rules whose gates read it.
// Both cost far more than a stat read (smaps_rollup walks every mapping), so nothing else is
// read.
#pragma once

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/classifier.h"
#include "proc/proc_source.h"

namespace freezr::scan {

// smaps_rollup of one process as a sample carries it; nullopt when it cannot be read.
std::optional<engine::MemoryDetail> read_memory_detail(proc::ProcSource& source, Pid pid,
                                                       std::string& buf);

inline constexpr std::size_t kTopIo = 16;

class Details {
 public:
  // Where cgroup v2 is mounted ("" when it is not): the processes' cgroup PSI is read there.
  void set_cgroup_root(std::string root) { cgroup_root_ = std::move(root); }
  // Fills the samples of snap that cls puts under rules using I/O or smaps, and, at a full
  // scan, the disk I/O of the kTopIo busiest processes (for the top tables: their rate is over
  // the time since the last full scan). A rate needs two readings: a process read for the
  // first time has none until it is read again.
  void fill(engine::Snapshot& snap, const engine::Classification& cls,
            const std::vector<engine::Rule>& rules, proc::ProcSource& source, bool full = false);
  void read_io_everywhere(bool on) { io_everywhere_ = on; }
  // Processes read so far (for the benchmarks and tests).
  [[nodiscard]] std::size_t io_tracked() const { return io_.size(); }

 private:
  struct IoLast {
    proc::IoCounters counters;
    Seconds time = 0;
    unsigned seen = 0;
  };
  std::unordered_map<ProcessId, IoLast, ProcessIdHash> io_;
  // The PSI some avg10 (cpu, io, memory) of the cgroup at path under the root, read once a
  // scan whatever the number of its processes.
  std::array<std::optional<double>, 3> cgroup_pressure(const std::string& path);
  std::vector<std::size_t> top_;
  std::vector<unsigned char> wanted_;  // per process of the snapshot: 1 io, 2 smaps, 4 cgroup
  std::string cgroup_root_;
  std::unordered_map<std::string, std::array<std::optional<double>, 3>> pressure_of_;
  std::string buf_;
  unsigned round_ = 0;
  unsigned last_full_ = 0;  // the round of the last full scan
  bool io_everywhere_ = false;
};

}  // namespace freezr::scan
