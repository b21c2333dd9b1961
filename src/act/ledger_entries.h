// The ledger's entries: their kinds, the data each keeps, and how one is undone. Shared by
// Reversibles (which writes them) and `freezr thaw` / crash recovery (which undo them).
#pragma once

#include <map>
#include <optional>
#include <string>

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

bool is_freeze(const store::LedgerEntry& e);
// The action an entry undoes: renice, throttle or freeze.
engine::ActionKind kind_of(const store::LedgerEntry& e);

// The data of a renice entry: each thread's priorities before, and the nice value set.
std::string renice_data(const std::map<Pid, ThreadPriority>& before, std::optional<int> nice);
// The nice value a renice entry set, when it set one.
std::optional<int> reniced_to(const store::LedgerEntry& e);
// The data of a throttle or cgroup freeze entry: FreezR's group and where the process was.
std::string group_data(const std::string& group, const std::string& origin);
// The group of a throttle or cgroup freeze entry ("" when unreadable).
std::string group_of(const store::LedgerEntry& e);

// Undoes one ledger entry, checking first that its process is still the same one (PID and
// start time). A process that is gone needs nothing. A row FreezR could not have written is a
// parse error, never an exception.
Result<void> undo_entry(const store::LedgerEntry& e, proc::ProcSource& source,
                        ProcessControl& control);

}  // namespace freezr::act
