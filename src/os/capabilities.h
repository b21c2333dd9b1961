// Least privilege: the capabilities FreezR needs, and dropping to them when run as root
// outside systemd (under systemd the unit's CapabilityBoundingSet does it).
#pragma once

#include <string>
#include <vector>

namespace freezr::os {

// CAP_KILL (signal other users' processes), CAP_SYS_NICE (renice), CAP_SYS_PTRACE (read
// /proc/PID/exe of other users), CAP_DAC_READ_SEARCH (read their /proc entries),
// CAP_SYS_RESOURCE (PSI triggers with short windows), CAP_IPC_LOCK (lock FreezR in memory).
// The names are those of capabilities(7); packaging/freezr.service lists the same, plus
// CAP_NET_ADMIN, needed only to subscribe to process events and dropped right after.
inline constexpr const char* kEventsCapability = "CAP_NET_ADMIN";
const std::vector<std::string>& needed_capabilities();

// Drops every other capability from the effective, permitted and inheritable sets and the
// bounding set. Needed capabilities this process does not have are listed in *unavailable.
// Returns an error text, or an empty string on success.
std::string drop_capabilities(std::vector<std::string>* unavailable);

// Drops one capability from the effective, permitted and inheritable sets (not the bounding
// set, which needs CAP_SETPCAP). Not holding it is success. Returns an error text or "".
std::string drop_capability(const std::string& name);

}  // namespace freezr::os
