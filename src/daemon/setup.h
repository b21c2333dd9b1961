// Small helpers of the daemon's composition root: option overrides, the date, the token file,
// FreezR's own usage, the cgroup roots.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "act/cgroups.h"
#include "config/config.h"
#include "core/result.h"
#include "daemon/daemon.h"
#include "os/log_retention.h"
#include "proc/proc_source.h"
#include "report/log_lines.h"

namespace freezr::daemon {

std::chrono::steady_clock::duration to_duration(double seconds);

// Today's local date.
os::Date today();

// The configuration with the command line's directory and format overrides applied.
config::Config with_overrides(config::Config c, const RunOptions& o);

// Reads the bearer token. The file must belong to root (or to FreezR's user) and be readable
// by nobody else, and the token be at least 16 characters.
Result<std::string> read_token(const std::string& path);

// FreezR's own CPU seconds, resident and virtual bytes, from /proc/self.
// The capabilities FreezR's actions need besides its own: CAP_SETUID and CAP_SETGID when a
// command runs as another user (or desktop notifications are on), CAP_DAC_OVERRIDE when a
// renice sets oom_score_adj.
std::vector<std::string> command_capabilities(const config::Config& cfg);

// The user owning process pid (of its /proc entry), if it is there.
std::optional<std::uint32_t> owner_of(const std::string& proc_root, Pid pid);

struct SelfUsage {
  double cpu_seconds = 0;
  std::uint64_t rss_bytes = 0, virtual_bytes = 0;
};
SelfUsage self_usage(proc::ProcSource& source);

// The cgroup hierarchies, from <proc root>/self/mountinfo.
act::CgroupRoots cgroup_roots(proc::ProcSource& source);

// Lines to the journal: the level as the syslog priority, the fields as FREEZR_<KEY>.
report::LineSink journal_sink();

}  // namespace freezr::daemon
