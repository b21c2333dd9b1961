// Sampler: turns raw cumulative counters into rates. Pure: time comes in as a value.
#pragma once

#include <unordered_map>

#include "engine/snapshot.h"
#include "proc/proc_source.h"

namespace freezr::engine {

// The static part of a sample (no CPU%) from one stat record.
ProcessSample sample_of(const proc::StatFields& st, long page_size);

class Sampler {
 public:
  // ticks_per_second: USER_HZ; page_size: bytes per page.
  Sampler(long ticks_per_second, long page_size)
      : ticks_(static_cast<double>(ticks_per_second)), page_(page_size) {}

  // Builds the snapshot for a scan taken at monotonic time `now`. CPU% of a process is the
  // growth of utime+stime since its previous sample over the time between the two. A PID
  // whose start time changed is a new process with no history.
  //
  // With `partial`, raw holds only some processes: those missing keep their last sample
  // unless their PID is in `gone`. Without it, every process missing from raw has exited.
  Snapshot update(const proc::RawScan& raw, Seconds now, bool partial = false,
                  const std::vector<Pid>& gone = {});

 private:
  struct Last {
    std::uint64_t start_time = 0;   // identity, with the PID
    std::uint64_t ticks = 0;        // utime+stime
    std::uint64_t child_ticks = 0;  // cutime+cstime
    Pid ppid = 0;
    Seconds time = 0;
  };
  // Ticks of processes that exited since their last sample, by parent PID: the parent's
  // cutime grows by their whole total, of which the part up to their last sample was counted.
  void note_exit(const Last& last) { exited_ticks_[last.ppid] += last.ticks + last.child_ticks; }

  double ticks_;
  long page_;
  std::optional<Seconds> last_time_;
  std::unordered_map<Pid, Last> prev_;
  std::unordered_map<Pid, Last> next_;
  std::unordered_map<Pid, std::uint64_t> exited_ticks_;
  std::vector<Last> current_;  // per process of the snapshot being built
};

}  // namespace freezr::engine
