// Least privilege: the capabilities FreezR needs, and dropping to them when run as root.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace freezr::os {

// CAP_KILL (signal other users' processes), CAP_SYS_NICE (renice), CAP_SYS_PTRACE (read
// /proc/PID/exe of other users), CAP_DAC_READ_SEARCH (read their /proc entries),
// CAP_SYS_RESOURCE (PSI triggers with short windows), CAP_IPC_LOCK (lock FreezR in memory).
// The names are those of capabilities(7); packaging/freezr.service lists the same, plus
// CAP_NET_ADMIN, needed only to subscribe to process events and dropped right after.
inline constexpr const char* kEventsCapability = "CAP_NET_ADMIN";
const std::vector<std::string>& needed_capabilities();

struct CapabilitySet {
  std::vector<std::string> kept;         // needed and held: the effective set now
  std::vector<std::string> unavailable;  // needed but not held when FreezR started
  bool bounding_set = false;             // the bounding set was cut too (needs CAP_SETPCAP)
};

// Drops every capability but the needed ones from the effective, permitted and inheritable
// sets, and from the bounding set when this process may change it (under a unit whose
// CapabilityBoundingSet excludes CAP_SETPCAP it may not, and the unit already bounds it). Done
// whatever the environment says: a variable such as INVOCATION_ID proves nothing. The set
// reported is read back from the kernel after the drop. extra: more to keep (CAP_SETUID and
// CAP_SETGID when a command runs as another user).
Result<CapabilitySet> drop_capabilities(const std::vector<std::string>& extra = {});

}  // namespace freezr::os
