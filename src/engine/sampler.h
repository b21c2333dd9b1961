// Sampler: turns raw cumulative counters into rates. Pure: time comes in as a value.
#pragma once

#include <unordered_map>

#include "engine/snapshot.h"
#include "proc/proc_source.h"

namespace freezr::engine {

class Sampler {
 public:
  // ticks_per_second: USER_HZ; page_size: bytes per page.
  Sampler(long ticks_per_second, long page_size)
      : ticks_(static_cast<double>(ticks_per_second)), page_(page_size) {}

  // Builds the snapshot for a scan taken at monotonic time `now`. CPU% of a process is the
  // growth of utime+stime since its previous scan over the elapsed time. A PID whose start
  // time changed is a new process with no history.
  Snapshot update(const proc::RawScan& raw, Seconds now);

 private:
  double ticks_;
  long page_;
  std::optional<Seconds> last_time_;
  std::unordered_map<ProcessId, std::uint64_t, ProcessIdHash> prev_ticks_;
  std::unordered_map<ProcessId, std::uint64_t, ProcessIdHash> next_ticks_;
};

}  // namespace freezr::engine
