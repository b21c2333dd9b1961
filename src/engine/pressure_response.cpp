#include "engine/pressure_response.h"

#include <cstdio>

namespace freezr::engine {

namespace {
bool busy(PressureState& st, Seconds now) {
  if (st.busy_until && now >= *st.busy_until) st.busy_until.reset();
  return st.busy_until.has_value();
}

PressureStep want(PressureStep step, const Action& a) {
  step.want = PressureWant::kVictim;
  step.action = a;
  return step;
}
}  // namespace

const LevelThresholds& thresholds_of(const PressureLevels& levels, PressureLevel level) {
  return level == PressureLevel::kCritical ? levels.critical : levels.warning;
}

PressureStep advance_pressure(PressureState& st, const PressureInput& in,
                              const PressureLevels& levels) {
  PressureStep step;
  step.from = st.level;
  auto next = next_level(st.level, in.sample, levels.warning, levels.critical);
  const bool predicted = next == PressureLevel::kNone && levels.predict_minutes &&
                         in.exhaustion_seconds &&
                         *in.exhaustion_seconds <= *levels.predict_minutes * 60;
  if (predicted) next = PressureLevel::kWarning;
  step.predicted = predicted;
  step.to = next;
  if (next != st.level) {
    st.level = next;
    st.acted = false;
  }
  const bool is_busy = busy(st, in.now);
  if (st.level == PressureLevel::kNone) {
    if (st.held && !is_busy) step.want = PressureWant::kRelease;
    return step;
  }
  const auto& lvl = thresholds_of(levels, st.level);
  const auto kind = lvl.action.kind;
  if (kind == ActionKind::kLog) return step;
  if (predicted) {
    // Held by a prediction, not by the figures: the level's action once, then wait and see.
    if (st.acted || is_busy) return step;
    st.acted = true;
    return want(step, lvl.action);
  }
  if (kind == ActionKind::kKill) {
    // Only while the entering condition holds: inside the hysteresis band nothing more dies.
    if (!is_busy && crosses(in.sample, lvl)) return want(step, lvl.action);
    return step;
  }
  if (st.acted) return step;
  st.acted = true;
  return want(step, lvl.action);
}

void pressure_acted(PressureState& st, const PressureStep& step, const ProcessId& victim,
                    Seconds now, double busy_seconds) {
  if (step.action.kind == ActionKind::kKill) {
    st.busy_until = now + busy_seconds;
  } else if (step.action.lasting() || step.action.kind == ActionKind::kFreeze) {
    st.held = victim;
  }
}

std::string describe_sample(const PressureSample& s) {
  char buf[160];
  int n = std::snprintf(buf, sizeof buf, "MemAvailable %.1f%%", s.mem_available_percent);
  auto add = [&](const char* fmt, double v) {
    if (n >= 0 && static_cast<std::size_t>(n) < sizeof buf) {
      n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), fmt, v);
    }
  };
  if (s.some_avg10) add(", PSI some %.2f", *s.some_avg10);
  if (s.full_avg10) add(", full %.2f", *s.full_avg10);
  if (s.swap_free_percent) add(", swap free %.1f%%", *s.swap_free_percent);
  return buf;
}

Decision pressure_decision(const PressureStep& step, const PressureSample& s,
                           const LevelThresholds& level, const TargetInfo& victim,
                           const std::string& chosen_because) {
  Decision d;
  d.origin = Origin::kPressure;
  d.rule = "pressure";
  d.action = step.action;
  d.action.immediate = d.action.kind == ActionKind::kKill;
  d.entity = victim.id;
  d.targets = {victim};
  d.metric = "mem_available_percent";
  d.value = s.mem_available_percent;
  d.threshold = level.mem_available_percent.value_or(0);
  d.note = std::string(to_string(step.to)) + " memory pressure" +
           (step.predicted ? " (predicted exhaustion)" : "") + " at " + describe_sample(s) +
           "; chosen because " + chosen_because;
  return d;
}

Decision pressure_release(const ProcessId& held) {
  Decision d;
  d.origin = Origin::kPressure;
  d.rule = "pressure";
  d.verdict = Verdict::kRelease;
  d.entity = held;
  d.metric = "mem_available_percent";
  d.note = "memory pressure is over";
  return d;
}

}  // namespace freezr::engine
