// Memory pressure: the one definition of the warning and critical levels (used by logs,
// metrics, status and dashboards alike), with hysteresis, and the adaptive check interval.
// Pure.
#pragma once

#include <optional>
#include <string>

#include "engine/rule.h"
#include "proc/parse.h"

namespace freezr::engine {

enum class PressureLevel { kNone = 0, kWarning = 1, kCritical = 2 };
const char* to_string(PressureLevel l);

// The figures a level is judged on.
struct PressureSample {
  std::optional<double> some_avg10;  // /proc/pressure/memory, percent
  std::optional<double> full_avg10;
  double mem_available_percent = 100;       // MemAvailable / MemTotal
  std::optional<double> swap_free_percent;  // nullopt when there is no swap
};

PressureSample pressure_sample(const std::optional<proc::MemInfo>& mem,
                               const std::optional<proc::Pressure>& psi);

// The thresholds of one level; any given PSI figure at or above its threshold enters the
// level, and so does MemAvailable at or below its percentage (together with free swap at or
// below its percentage, when both are given and there is swap, as earlyoom does).
struct LevelThresholds {
  std::optional<double> some_avg10;
  std::optional<double> full_avg10;
  std::optional<double> mem_available_percent;
  std::optional<double> swap_free_percent;
  Action action;  // what to do at this level (log, renice, freeze, kill)
  [[nodiscard]] bool empty() const {
    return !some_avg10 && !full_avg10 && !mem_available_percent && !swap_free_percent;
  }
};

// Whether the sample crosses the thresholds (entering condition).
bool crosses(const PressureSample& s, const LevelThresholds& t);
// Whether the sample is clearly clear of the thresholds: PSI below 70% of each threshold and
// percentages 2 points above theirs. Between the two, the level is kept (hysteresis).
bool clear_of(const PressureSample& s, const LevelThresholds& t);

// The next level from the previous one.
PressureLevel next_level(PressureLevel previous, const PressureSample& s,
                         const LevelThresholds& warning, const LevelThresholds& critical);

// How soon to look again: shorter as MemAvailable nears the critical percentage (earlyoom's
// idea); between 0.1 s and max_seconds.
double pressure_check_interval(const PressureSample& s, const LevelThresholds& critical,
                               double max_seconds);

}  // namespace freezr::engine
