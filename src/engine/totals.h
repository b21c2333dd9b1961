// Lifetime counts behind the statistics block, the status snapshot and the metrics.
#pragma once

#include <cstdint>
#include <optional>

#include "proc/parse.h"

namespace freezr::engine {

struct Totals {
  double runtime = 0;                // seconds since start
  std::uint64_t checks = 0;          // scans
  std::uint64_t process_checks = 0;  // rule-process checks (group checks count once)
  std::uint64_t violating_checks = 0;
  std::uint64_t cpu_violations = 0;
  std::uint64_t memory_violations = 0;
  std::uint64_t cpu_since_action = 0;
  std::uint64_t memory_since_action = 0;
  std::uint64_t restarts = 0;
  std::uint64_t kills = 0;
  std::uint64_t freezes = 0;
  std::uint64_t throttles = 0;
  std::uint64_t renices = 0;
  std::uint64_t failed_actions = 0;
  std::optional<proc::LoadAvg> load;
  std::optional<proc::MemInfo> memory;

  // Violation rate in percent: violating checks / checks, both lifetime. 0 when no checks.
  [[nodiscard]] double violation_rate() const {
    return process_checks == 0 ? 0.0
                               : 100.0 * static_cast<double>(violating_checks) /
                                     static_cast<double>(process_checks);
  }
};

}  // namespace freezr::engine
