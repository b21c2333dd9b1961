#include "engine/pressure.h"

#include <algorithm>

namespace freezr::engine {

const char* to_string(PressureLevel l) {
  switch (l) {
    case PressureLevel::kNone:
      return "none";
    case PressureLevel::kWarning:
      return "warning";
    case PressureLevel::kCritical:
      return "critical";
  }
  return "?";
}

PressureSample pressure_sample(const std::optional<proc::MemInfo>& mem,
                               const std::optional<proc::Pressure>& psi) {
  PressureSample s;
  if (psi) {
    s.some_avg10 = psi->some.avg10;
    if (psi->full) s.full_avg10 = psi->full->avg10;
  }
  if (mem && mem->total_kb > 0) {
    s.mem_available_percent =
        100.0 * static_cast<double>(mem->available_kb) / static_cast<double>(mem->total_kb);
    if (mem->swap_total_kb > 0) {
      s.swap_free_percent =
          100.0 * static_cast<double>(mem->swap_free_kb) / static_cast<double>(mem->swap_total_kb);
    }
  }
  return s;
}

namespace {
constexpr double kPsiExit = 0.7;    // leave below 70% of a PSI threshold
constexpr double kPercentExit = 2;  // leave 2 points above a percentage threshold

bool memory_low(const PressureSample& s, const LevelThresholds& t, double margin) {
  if (!t.mem_available_percent) {
    // Swap alone: only meaningful when there is swap.
    return t.swap_free_percent && s.swap_free_percent &&
           *s.swap_free_percent <= *t.swap_free_percent + margin;
  }
  if (s.mem_available_percent > *t.mem_available_percent + margin) return false;
  if (t.swap_free_percent && s.swap_free_percent) {
    return *s.swap_free_percent <= *t.swap_free_percent + margin;
  }
  return true;
}
}  // namespace

bool crosses(const PressureSample& s, const LevelThresholds& t) {
  if (t.some_avg10 && s.some_avg10 && *s.some_avg10 >= *t.some_avg10) return true;
  if (t.full_avg10 && s.full_avg10 && *s.full_avg10 >= *t.full_avg10) return true;
  return memory_low(s, t, 0);
}

bool clear_of(const PressureSample& s, const LevelThresholds& t) {
  if (t.some_avg10 && s.some_avg10 && *s.some_avg10 >= *t.some_avg10 * kPsiExit) return false;
  if (t.full_avg10 && s.full_avg10 && *s.full_avg10 >= *t.full_avg10 * kPsiExit) return false;
  return !memory_low(s, t, kPercentExit);
}

PressureLevel next_level(PressureLevel previous, const PressureSample& s,
                         const LevelThresholds& warning, const LevelThresholds& critical) {
  if (!critical.empty() && crosses(s, critical)) return PressureLevel::kCritical;
  if (previous == PressureLevel::kCritical && !critical.empty() && !clear_of(s, critical)) {
    return PressureLevel::kCritical;
  }
  if (!warning.empty() && crosses(s, warning)) return PressureLevel::kWarning;
  if (previous != PressureLevel::kNone && !warning.empty() && !clear_of(s, warning)) {
    return PressureLevel::kWarning;
  }
  return PressureLevel::kNone;
}

double pressure_check_interval(const PressureSample& s, const LevelThresholds& critical,
                               double max_seconds) {
  if (!critical.mem_available_percent) return max_seconds;
  // Memory can fill at several percent of RAM per second: allow 0.1 s per point of headroom.
  const double headroom = s.mem_available_percent - *critical.mem_available_percent;
  return std::clamp(headroom * 0.1, 0.1, std::max(0.1, max_seconds));
}

}  // namespace freezr::engine
