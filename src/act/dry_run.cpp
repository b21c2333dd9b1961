#include <fmt/format.h>

#include "act/actuator.h"

namespace freezr::act {

namespace {
std::string would(const engine::Action& a) {
  switch (a.kind) {
    case engine::ActionKind::kLog: return "logged";
    case engine::ActionKind::kRenice:
      return a.nice ? fmt::format("would renice to {}", *a.nice) : "would lower the I/O priority";
    case engine::ActionKind::kThrottle:
      return fmt::format("would throttle to {:g}% of a core", a.cpu_limit);
    case engine::ActionKind::kFreeze: return fmt::format("would freeze for {:g}s", a.duration);
    case engine::ActionKind::kKill:
      return a.immediate ? "would send SIGKILL at once and reap its memory"
                         : "would send SIGTERM (then SIGKILL after the grace period)";
    case engine::ActionKind::kRestart: return "would restart " + a.service;
  }
  return "?";
}
}  // namespace

ActionOutcome outcome_of(const engine::Decision& d) {
  ActionOutcome o;
  o.rule = d.rule;
  o.action = d.action.kind;
  o.origin = d.origin;
  o.reason = d.reason();
  return o;
}

void DryRunActuator::apply(const engine::Decision& d) {
  auto o = outcome_of(d);
  o.ok = true;
  o.dry_run = true;
  if (d.verdict == engine::Verdict::kRelease) {
    o.detail = "would undo its renice/throttle";
    if (d.targets.empty()) sink_(o);
    for (const auto& t : d.targets) {
      o.target = t;
      sink_(o);
    }
    return;
  }
  o.detail = would(d.action);
  if (d.action.kind == engine::ActionKind::kRestart) {
    o.service = d.action.service;
    sink_(o);
    return;
  }
  for (const auto& t : d.targets) {
    o.target = t;
    sink_(o);
  }
}

}  // namespace freezr::act
