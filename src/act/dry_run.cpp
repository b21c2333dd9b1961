#include "act/actuator.h"

namespace freezr::act {

void DryRunActuator::apply(const engine::Decision& d) {
  ActionOutcome o;
  o.rule = d.rule;
  o.action = d.action;
  o.ok = true;
  o.dry_run = true;
  switch (d.action) {
    case engine::ActionKind::kRestart:
      o.service = d.service;
      o.detail = "would restart " + d.service;
      sink_(o);
      return;
    case engine::ActionKind::kKill:
      for (const auto& t : d.targets) {
        o.target = t;
        o.detail = "would send SIGTERM (then SIGKILL after the grace period)";
        sink_(o);
      }
      return;
    case engine::ActionKind::kLog:
      for (const auto& t : d.targets) {
        o.target = t;
        o.detail = "logged";
        sink_(o);
      }
      return;
  }
}

}  // namespace freezr::act
