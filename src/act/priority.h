// CPU and I/O priority, scheduling class and CPU affinity of every thread of a process (all are
// per thread on Linux), and the process's oom_score_adj.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "engine/rule.h"

namespace freezr::act {

struct ThreadPriority {
  int nice = 0;
  int ioprio = 0;         // raw ioprio_get value
  int policy = -1;        // SCHED_OTHER, SCHED_BATCH, ...; -1 when not read
  int rt_priority = 0;    // with a realtime policy
  std::vector<int> cpus;  // affinity; empty when not read
  bool operator==(const ThreadPriority&) const = default;
};

// What a renice changes on every thread; unset parts stay as they are.
struct PriorityChange {
  std::optional<int> nice;
  std::optional<engine::IoPriority> ionice;
  std::optional<int> policy;  // SCHED_BATCH or SCHED_IDLE
  std::vector<int> cpus;
  static PriorityChange of(const engine::Action& a);
};

// Thread id -> priority, for every thread under <proc_root>/PID/task.
std::map<Pid, ThreadPriority> read_priorities(const std::string& proc_root, Pid pid);

// Makes the change on every thread; returns the previous values of the threads it changed. An
// error only when no thread could be changed.
Result<std::map<Pid, ThreadPriority>> set_priorities(const std::string& proc_root, Pid pid,
                                                     const PriorityChange& change);

// Puts the recorded values back on the threads that still exist; threads started since get
// the main thread's original values. Returns how many threads were restored.
int restore_priorities(const std::string& proc_root, Pid pid,
                       const std::map<Pid, ThreadPriority>& original);

int encode_ioprio(const engine::IoPriority& p);

// /proc/PID/oom_score_adj under proc_root.
Result<int> read_oom_score_adj(const std::string& proc_root, Pid pid);
Result<void> write_oom_score_adj(const std::string& proc_root, Pid pid, int value);

}  // namespace freezr::act
