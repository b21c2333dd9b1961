#include <set>

#include "act/actuator.h"

namespace freezr::act {

std::vector<engine::Decision> restarts_by_unit(const engine::Decision& d, proc::InfoSource& info,
                                               std::string_view own_unit,
                                               const OutcomeSink& refused) {
  std::vector<engine::Decision> out;
  std::set<std::string> units;
  for (const auto& t : d.targets) {
    const auto target = proc::restart_target(*info.placement(t.id), own_unit);
    if (target.unit.empty()) {
      auto o = outcome_of(d);
      o.target = t;
      o.ok = false;
      o.detail = "not restarted: " + target.refusal;
      refused(o);
      continue;
    }
    if (!units.insert(target.unit).second) continue;
    auto one = d;
    one.action.service = target.unit;
    out.push_back(std::move(one));
  }
  return out;
}

std::string whole_unit(const engine::Decision& d, const engine::Rule& rule, proc::InfoSource& info,
                       std::string_view own_unit) {
  using engine::ActionKind;
  const auto kind = d.action.kind;
  if (d.verdict != engine::Verdict::kAct || d.entity_kind != "unit" ||
      (kind != ActionKind::kFreeze && kind != ActionKind::kThrottle && kind != ActionKind::kKill)) {
    return "";
  }
  const auto& m = rule.match;
  const bool by_place_alone = m.by_place() && m.comm.empty() && m.exe.empty() && !m.cmdline &&
                              m.user.empty() && m.category.empty();
  const std::string& unit = d.entity_name;
  if (!by_place_alone || rule.target != engine::Target::kAll || !d.skipped.empty() ||
      d.targets.empty() || unit.empty() || unit == own_unit || unit == "init.scope" ||
      unit.ends_with(".slice")) {
    return "";
  }
  for (const auto& t : d.targets) {
    const auto p = info.placement(t.id);
    if (!p || p->unit != unit || p->user_unit()) return "";
  }
  return unit;
}

}  // namespace freezr::act
