// ProcessControl: every kernel call FreezR makes on a process — verified pidfds, signals,
// memory reaping, thread priorities, oom_score_adj — behind one narrow interface, so that the
// actuators are tested with a fake (leveldb's Env in miniature). LinuxProcessControl is the real
// one.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "act/priority.h"
#include "core/result.h"
#include "core/types.h"
#include "engine/rule.h"
#include "proc/proc_source.h"

namespace freezr::act {

// The process's current stat, when it is still the one identified by id (PID and start time).
std::optional<proc::StatFields> same_process(proc::ProcSource& source, const ProcessId& id);

class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  // A pidfd for exactly id: opened, then checked against id's start time. The caller owns the
  // fd (close it with ::close). An Error whose gone() is true when the process exited or its
  // PID now belongs to another process.
  virtual Result<int> open(const ProcessId& id) = 0;
  // Sends sig through pidfd. False with errno set on failure (ESRCH: it exited).
  virtual bool signal(int pidfd, int sig) = 0;
  // Asks the kernel to reap a killed process's memory now, where it can (process_mrelease).
  virtual void release_memory(int pidfd) = 0;
  // Nice and I/O priority of every thread of pid (empty when it is gone).
  virtual std::map<Pid, ThreadPriority> priorities(Pid pid) = 0;
  // Makes the change on every thread; returns the previous values of the threads it changed.
  // An error only when no thread could be changed.
  virtual Result<std::map<Pid, ThreadPriority>> set_priorities(Pid pid,
                                                               const PriorityChange& change) = 0;
  // Puts recorded values back; returns how many threads were restored.
  virtual int restore_priorities(Pid pid, const std::map<Pid, ThreadPriority>& original) = 0;
  virtual Result<int> oom_score_adj(Pid pid) = 0;
  virtual Result<void> set_oom_score_adj(Pid pid, int value) = 0;
};

class LinuxProcessControl final : public ProcessControl {
 public:
  // source verifies identities; proc_root holds the task lists. source must outlive this.
  LinuxProcessControl(proc::ProcSource& source, std::string proc_root)
      : source_(source), proc_root_(std::move(proc_root)) {}

  Result<int> open(const ProcessId& id) override;
  bool signal(int pidfd, int sig) override;
  void release_memory(int pidfd) override;
  std::map<Pid, ThreadPriority> priorities(Pid pid) override {
    return read_priorities(proc_root_, pid);
  }
  Result<std::map<Pid, ThreadPriority>> set_priorities(Pid pid,
                                                       const PriorityChange& change) override {
    return act::set_priorities(proc_root_, pid, change);
  }
  int restore_priorities(Pid pid, const std::map<Pid, ThreadPriority>& original) override {
    return act::restore_priorities(proc_root_, pid, original);
  }
  Result<int> oom_score_adj(Pid pid) override { return read_oom_score_adj(proc_root_, pid); }
  Result<void> set_oom_score_adj(Pid pid, int value) override {
    return write_oom_score_adj(proc_root_, pid, value);
  }

 private:
  proc::ProcSource& source_;
  std::string proc_root_;
};

}  // namespace freezr::act
