// Reversibles on a unit as a whole, through systemd: FreezeUnit/ThawUnit and a runtime
// CPUQuota= through SetUnitProperties. Each is recorded in the ledger before its call goes
// out and undone like the others (ThawUnit, the quota before); a call systemd refuses falls
// back to acting process by process.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "act/ledger_entries.h"
#include "act/reversible.h"

namespace freezr::act {

void Reversibles::report_all(const engine::Decision& d, bool ok, const std::string& detail) {
  for (const auto& t : d.targets) report(d, t, ok, detail);
}

bool Reversibles::holding(const std::shared_ptr<Held>& h) const {
  return std::find(held_.begin(), held_.end(), h) != held_.end();
}

void Reversibles::forget(const std::shared_ptr<Held>& h) {
  held_.remove(h);
  ledger_.remove(h->entry.id);
}

void Reversibles::by_process(const engine::Decision& d, const std::string& why) {
  auto one = d;
  one.whole_unit.clear();
  if (!d.targets.empty()) {
    auto o = outcome_of(d);
    o.target = d.targets.front();
    o.ok = true;
    o.final = false;
    o.detail = why + ": acting process by process";
    sink_(o);
  }
  if (d.action.kind == engine::ActionKind::kFreeze) {
    freeze(one);
  } else {
    throttle(one);
  }
}

void Reversibles::freeze_unit(const engine::Decision& d) {
  const std::string unit = d.whole_unit;
  auto recorded = record(d, {kUnitHold, unit, 0, 0}, kFreezeUnit,
                         with_until(unit_data(unit), clock_.wall() + d.action.duration));
  if (!recorded) {
    report_all(d, false,
               "not frozen: the ledger refused the entry (" + recorded.error().message + ")");
    return;
  }
  const auto h = *recorded;
  services_->freeze_unit(
      unit, true,
      [this, alive = std::weak_ptr<char>(alive_), d, h, unit](bool ok, const std::string& detail) {
        if (alive.expired()) return;
        if (!ok) {
          if (!holding(h)) return;  // undone meanwhile: nothing was frozen
          forget(h);
          by_process(d, "FreezeUnit " + unit + " failed (" + detail + ")");
          return;
        }
        if (!holding(h)) {  // thawed or stopped before systemd answered: thaw what it froze
          (void)services_->thaw_unit_now(unit);
          return;
        }
        report_all(
            d, true,
            fmt::format("frozen for {:g}s by systemd (FreezeUnit {})", d.action.duration, unit));
        thaw_later(d, {h});
      });
}

void Reversibles::throttle_unit(const engine::Decision& d) {
  const std::string unit = d.whole_unit;
  services_->cpu_quota(unit, [this, alive = std::weak_ptr<char>(alive_), d, unit](
                                 bool ok, const std::string& detail, std::uint64_t before) {
    if (alive.expired()) return;
    if (stopping_) {  // answered after everything was undone: hold nothing new
      report_all(d, false, "not throttled: FreezR is stopping");
      return;
    }
    if (!ok) {
      by_process(d, "reading the CPU quota of " + unit + " failed (" + detail + ")");
      return;
    }
    auto recorded = record(d, {kUnitHold, unit, 0, 0}, kThrottleUnit, unit_data(unit, before));
    if (!recorded) {
      report_all(d, false,
                 "not throttled: the ledger refused the entry (" + recorded.error().message + ")");
      return;
    }
    const auto h = *recorded;
    const auto usec = static_cast<std::uint64_t>(std::llround(d.action.cpu_limit * 10'000));
    services_->set_cpu_quota(
        unit, usec, [this, alive, d, h, unit, before](bool set, const std::string& why) {
          if (alive.expired()) return;
          if (!set) {
            if (!holding(h)) return;
            forget(h);
            by_process(d, "setting CPUQuota= on " + unit + " failed (" + why + ")");
            return;
          }
          if (!holding(h)) {  // released before systemd answered: put the quota back
            (void)services_->set_cpu_quota_now(unit, before);
            return;
          }
          report_all(
              d, true,
              fmt::format("limited to {:g}% of a core by systemd (runtime CPUQuota={:g}% on {})",
                          d.action.cpu_limit, d.action.cpu_limit, unit));
        });
  });
}

}  // namespace freezr::act
