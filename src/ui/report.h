// Text the user reads: the start-up banner and the statistics block. Pure formatting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"
#include "proc/parse.h"

namespace freezr::ui {

inline constexpr const char* kVersion = "0.2.0";

// "2h 15m 30s"
std::string format_duration(double seconds);

// The banner: version, one line per rule, the check interval, the mode.
std::string banner(const config::Config& config, bool dry_run);

// Totals behind the statistics block.
struct Totals {
  double runtime = 0;               // seconds since start
  std::uint64_t checks = 0;         // scans
  std::uint64_t process_checks = 0; // rule-process checks (group checks count once)
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
};

// Violation rate in percent: violating checks / checks, both lifetime. 0 when no checks.
double violation_rate(const Totals& t);

// The seed's PROCESS MONITOR STATISTICS block.
std::string statistics_block(const Totals& t);

}  // namespace freezr::ui
