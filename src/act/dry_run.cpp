#include <fmt/format.h>

#include "act/actuator.h"
#include "act/ledger_entries.h"

namespace freezr::act {

namespace {
std::string would(const engine::Action& a) {
  switch (a.kind) {
    case engine::ActionKind::kLog:
      return "logged";
    case engine::ActionKind::kRenice:
      return a.nice ? fmt::format("would renice to {}", *a.nice) : "would lower the I/O priority";
    case engine::ActionKind::kThrottle:
      return fmt::format("would throttle to {:g}% of a core", a.cpu_limit);
    case engine::ActionKind::kFreeze:
      return fmt::format("would freeze for {:g}s", a.duration);
    case engine::ActionKind::kKill:
      return a.immediate ? "would send SIGKILL at once and reap its memory"
                         : "would send SIGTERM (then SIGKILL after the grace period)";
    case engine::ActionKind::kRestart:
      return "would restart " + a.service;
    case engine::ActionKind::kExec:
      return "would run " + engine::command_line(a.command);
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
  if (d.action.kind == engine::ActionKind::kFreeze) o.duration = d.action.duration;
  o.metric = d.metric;
  o.value = d.value;
  o.threshold = d.threshold;
  o.streak = d.streak;
  o.after = d.action.after;
  o.unit = d.whole_unit;
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
  if (!d.whole_unit.empty())
    o.detail += " (the unit " + d.whole_unit + " as a whole, through systemd)";
  if (d.action.kind == engine::ActionKind::kRestart) {
    o.service = d.action.service;
    sink_(o);
    return;
  }
  const double now = wall_();
  for (const auto& t : d.targets) {
    o.target = t;
    sink_(o);
    if (d.action.kind == engine::ActionKind::kFreeze) {
      const double until = now + d.action.duration;
      holds_.push_back({{0, t.id, "freeze-dry-run", d.rule, with_until("{}", until), now}, until});
    }
  }
}

std::vector<store::LedgerEntry> DryRunActuator::frozen() {
  const double now = wall_();
  std::erase_if(holds_, [now](const Hold& h) { return h.until <= now; });
  std::vector<store::LedgerEntry> out;
  for (const auto& h : holds_) out.push_back(h.entry);
  return out;
}

std::vector<Pid> DryRunActuator::thaw(std::optional<Pid> pid) {
  std::vector<Pid> out;
  std::erase_if(holds_, [&](const Hold& h) {
    const bool hit = !pid || h.entry.process.pid == *pid;
    if (hit) out.push_back(h.entry.process.pid);
    return hit;
  });
  return out;
}

}  // namespace freezr::act
