// CPU and I/O priority of every thread of a process (nice and ioprio are per thread on Linux).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/result.h"
#include "core/types.h"
#include "engine/rule.h"

namespace freezr::act {

struct ThreadPriority {
  int nice = 0;
  int ioprio = 0;  // raw ioprio_get value
};

// Thread id -> priority, for every thread under <proc_root>/PID/task.
std::map<Pid, ThreadPriority> read_priorities(const std::string& proc_root, Pid pid);

// Sets nice and/or ionice on every thread; returns the previous values of the threads it
// changed. An error only when no thread could be changed.
Result<std::map<Pid, ThreadPriority>> set_priorities(const std::string& proc_root, Pid pid,
                                                     std::optional<int> nice,
                                                     std::optional<engine::IoPriority> ionice);

// Puts the recorded values back on the threads that still exist; threads started since get
// the main thread's original values. Returns how many threads were restored.
int restore_priorities(const std::string& proc_root, Pid pid,
                       const std::map<Pid, ThreadPriority>& original);

int encode_ioprio(const engine::IoPriority& p);

}  // namespace freezr::act
