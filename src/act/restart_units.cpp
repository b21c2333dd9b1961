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

}  // namespace freezr::act
