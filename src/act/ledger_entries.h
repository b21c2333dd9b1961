// The ledger's entries: their kinds, the data each keeps, and how one is undone. Shared by
// Reversibles (which writes them) and `freezr thaw` / crash recovery (which undo them).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "act/actuator.h"
#include "act/cgroups.h"
#include "act/priority.h"
#include "act/process_control.h"
#include "engine/rule.h"
#include "proc/parse.h"
#include "proc/proc_source.h"
#include "store/ledger.h"

namespace freezr::act {

inline constexpr const char* kFreezeSignal = "freeze-signal";
inline constexpr const char* kFreezeCgroup = "freeze-cgroup";
inline constexpr const char* kRenice = "renice";
inline constexpr const char* kThrottle = "throttle";
// A unit held as a whole through systemd: FreezeUnit, and a runtime CPUQuota=. Their process
// is {0, 1}: the unit's name in the data says what is held.
inline constexpr const char* kFreezeUnit = "freeze-unit";
inline constexpr const char* kThrottleUnit = "throttle-unit";

bool is_freeze(const store::LedgerEntry& e);
// Whether e holds a unit as a whole (kFreezeUnit, kThrottleUnit).
bool is_unit_hold(const store::LedgerEntry& e);
// The ledger's process of a unit hold.
inline constexpr ProcessId kUnitHold{0, 1};
// The action an entry undoes: renice, throttle or freeze.
engine::ActionKind kind_of(const store::LedgerEntry& e);

// The oom_score_adj a renice replaced, and the one it set.
struct OomChange {
  int before = 0;
  int set = 0;
};
// The data of a renice entry: each thread's priorities before, the nice value set, and when
// (clock ticks after boot, as start times are counted: children started since were reniced
// by inheritance); with oom, the oom_score_adj before and set.
std::string renice_data(const std::map<Pid, ThreadPriority>& before, std::optional<int> nice,
                        std::uint64_t since_ticks = 0, std::optional<OomChange> oom = {});
// The nice value a renice entry set, when it set one.
std::optional<int> reniced_to(const store::LedgerEntry& e);
// The data of a throttle or cgroup freeze entry: FreezR's group and where the process was.
std::string group_data(const std::string& group, const std::string& origin);
// The data of a unit hold: the unit, and for a throttle its CPU quota before (microseconds
// per second, or ServiceManager::kNoQuota).
std::string unit_data(const std::string& unit, std::optional<std::uint64_t> quota_before = {});
// The unit of a unit hold ("" for other entries).
std::string unit_of(const store::LedgerEntry& e);
// A freeze entry's data with the time it ends (Unix seconds) added.
std::string with_until(const std::string& data, double until);
// When a freeze entry's freeze ends, if it says.
std::optional<double> frozen_until(const store::LedgerEntry& e);
// How a freeze entry froze: "SIGSTOP", "cgroup.freeze", "FreezeUnit" or "dry-run".
const char* freeze_method(const store::LedgerEntry& e);
// The group of a throttle or cgroup freeze entry, and where its process came from ("" when
// unreadable).
std::string group_of(const store::LedgerEntry& e);
std::string origin_of(const store::LedgerEntry& e);

// Whether e is an entry FreezR itself could have written here: a known kind, a real PID and
// start time, priorities within their ranges, and groups only under FreezR's own cgroup
// directory (`<root>/<group>/thr-…` or `frz-…`) with an origin in the same hierarchy outside
// it. The ledger is data, never commands: anything else is refused with the reason.
Result<void> validate(const store::LedgerEntry& e, const Cgroups& cgroups);

// Whether name is a unit FreezR may hold as a whole: a service or scope name of systemd's
// characters.
bool holdable_unit(const std::string& name);

// The processes of the other entries of all that share e's group (a group rule's members).
std::vector<Pid> others_in_group(const std::vector<store::LedgerEntry>& all,
                                 const store::LedgerEntry& e);

// Undoes one ledger entry once validate() accepts it, acting on a process only through a pidfd
// held across its identity check (PID and start time), so a PID reused meanwhile is never
// touched. A renice is undone only where the value FreezR set still stands, and for the
// children the process started while reniced too; a throttle or cgroup freeze moves back the
// process and every member of its group but the processes of `others` (its children forked
// while held included), then removes the group. A process that is gone needs nothing. A unit
// hold is undone through services (ThawUnit, the quota before), or, without it, over the
// system bus.
Result<void> undo_entry(const store::LedgerEntry& e, proc::ProcSource& source,
                        ProcessControl& control, const Cgroups& cgroups,
                        const std::vector<Pid>& others = {}, ServiceManager* services = nullptr);

// Moves every member of FreezR's group dir but `others` to origin (each pinned by a pidfd and
// checked to be in dir still), then removes dir when it is empty. Returns how many moved.
int release_group(const std::string& dir, const std::string& origin, const std::vector<Pid>& others,
                  proc::ProcSource& source, ProcessControl& control);

}  // namespace freezr::act
