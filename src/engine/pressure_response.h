// The memory-pressure responder's decisions, as a pure function over a state struct: which
// level the machine is at, whether to pick a victim now, and the Decision for the chosen one.
// The daemon's PressureWatcher only reads the figures, ranks victims and hands the decisions
// to the actuator.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/policy.h"
#include "engine/pressure.h"

namespace freezr::engine {

// What the responder remembers between two looks at the figures.
struct PressureState {
  PressureLevel level = PressureLevel::kNone;
  bool acted = false;  // the level's one-off action was taken (or refused) since entering
  // A kill is in flight (or, in dry-run, the pause after a simulated one): no new victim
  // before it ends or this time passes.
  std::optional<Seconds> busy_until;
  // The process reniced or frozen at the current level: released when the pressure ends.
  std::optional<ProcessId> held;
};

struct PressureLevels {
  LevelThresholds warning;
  LevelThresholds critical;
  std::optional<double> predict_minutes;  // enter warning when exhaustion is this close
};

struct PressureInput {
  PressureSample sample;
  std::optional<double> exhaustion_seconds;  // when memory is predicted to run out
  Seconds now = 0;
};

enum class PressureWant {
  kNothing,
  kVictim,   // rank the candidates and act on the first with the level's action
  kRelease,  // the pressure is over: undo what was done to state.held
};

struct PressureStep {
  PressureLevel from = PressureLevel::kNone;
  PressureLevel to = PressureLevel::kNone;
  bool predicted = false;
  PressureWant want = PressureWant::kNothing;
  Action action;  // the level's action, for kVictim
  [[nodiscard]] bool changed() const { return from != to; }
};

// The thresholds (and action) of a level; warning's for kNone.
const LevelThresholds& thresholds_of(const PressureLevels& levels, PressureLevel level);

// Advances the state with one reading. Hysteresis per next_level(); at a kill level a victim
// is wanted only while the entering condition holds and no kill is in flight; a gentler action
// (renice, freeze) once per entry into the level; a level held by a prediction acts once.
PressureStep advance_pressure(PressureState& state, const PressureInput& in,
                              const PressureLevels& levels);

// Tells the state that a victim was chosen and acted on: a kill keeps the responder busy
// until its outcome arrives or busy_seconds pass; a renice or freeze is held for release.
void pressure_acted(PressureState& state, const PressureStep& step, const ProcessId& victim,
                    Seconds now, double busy_seconds);

// "MemAvailable 3.1%, PSI some 42.00, full 10.00, swap free 0.0%".
std::string describe_sample(const PressureSample& s);

// The decision for a chosen victim: its reason names the level, the figures and why it was
// chosen; a kill is immediate (SIGKILL and memory reaping, no grace period).
Decision pressure_decision(const PressureStep& step, const PressureSample& s,
                           const LevelThresholds& level, const TargetInfo& victim,
                           const std::string& chosen_because);

// The release of what the responder did to a process once the pressure is over.
Decision pressure_release(const ProcessId& held);

}  // namespace freezr::engine
