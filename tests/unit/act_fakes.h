// Fakes under the actuators: a /proc of hand-written stat lines, process control that records
// what it was asked to do (each "process" a pipe whose read end is its pidfd: writing to it is
// the process exiting), and a clock the test moves.
#pragma once

#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "act/actuator.h"
#include "act/process_control.h"
#include "core/clock.h"
#include "proc/proc_source.h"

namespace freezr::testing {

class FakeProcSource final : public proc::ProcSource {
 public:
  // A live process with the given state letter.
  void add(Pid pid, std::uint64_t start, char state = 'R', int nice = 0) {
    stats[pid] = std::to_string(pid) + " (victim) " + state + " 1 " + std::to_string(pid) + " " +
                 std::to_string(pid) + " 0 -1 4194304 0 0 0 0 10 5 0 0 20 " + std::to_string(nice) +
                 " 1 0 " + std::to_string(start) +
                 " 5623808 2560 0 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
    cgroups[pid] = "0::/user.slice\n";
  }
  void remove(Pid pid) { stats.erase(pid); }

  void list_pids(std::vector<Pid>& out) override {
    out.clear();
    for (const auto& [pid, s] : stats) out.push_back(pid);
  }
  Result<bool> read_pid_file(Pid pid, const char* name, std::string& buf) override {
    buf.clear();
    const auto it = stats.find(pid);
    if (it == stats.end()) return Error{ENOENT, "gone"};
    buf = std::string(name) == "cgroup" ? cgroups[pid] : it->second;
    return true;
  }
  Result<std::string> read_exe(Pid) override { return std::string("/usr/bin/victim"); }
  Result<std::string> read_system_file(const char* name) override {
    const auto it = system.find(name);
    if (it == system.end()) return Error{ENOENT, "none"};
    return it->second;
  }
  [[nodiscard]] long clock_ticks() const override { return 100; }
  [[nodiscard]] long page_size() const override { return 4096; }

  std::map<Pid, std::string> stats;
  std::map<Pid, std::string> cgroups;
  std::map<std::string, std::string> system;  // vmstat, meminfo, ...
};

class FakeControl final : public act::ProcessControl {
 public:
  explicit FakeControl(FakeProcSource& source) : source_(source) {}
  ~FakeControl() override {
    for (auto& [pid, fd] : write_ends_) ::close(fd);
  }

  Result<int> open(const ProcessId& id) override {
    std::string buf;
    if (!source_.read_pid_file(id.pid, "stat", buf)) return Error{ESRCH, "gone"};
    auto st = proc::parse_stat(buf);
    if (!st || st->start_time != id.start_time) return Error{ESRCH, "PID reused"};
    int fds[2];
    if (::pipe(fds) != 0) return Error{errno, "pipe"};
    if (write_ends_.count(id.pid) != 0U) ::close(write_ends_[id.pid]);
    write_ends_[id.pid] = fds[1];
    pids_[fds[0]] = id.pid;
    return fds[0];
  }
  bool signal(int pidfd, int sig) override {
    const Pid pid = pids_.count(pidfd) != 0U ? pids_[pidfd] : -1;
    signals.emplace_back(pid, sig);
    if (fail_signals) {
      errno = EPERM;
      return false;
    }
    return true;
  }
  void release_memory(int pidfd) override { released.push_back(pids_[pidfd]); }
  std::map<Pid, act::ThreadPriority> priorities(Pid pid) override {
    if (source_.stats.count(pid) == 0U) return {};
    return {{pid, prio[pid]}};
  }
  Result<std::map<Pid, act::ThreadPriority>> set_priorities(
      Pid pid, const act::PriorityChange& change) override {
    if (fail_priorities) return Error{EPERM, "setpriority: Operation not permitted"};
    auto before = priorities(pid);
    if (before.empty()) return Error{ESRCH, "gone"};
    if (change.nice) prio[pid].nice = *change.nice;
    if (change.policy) prio[pid].policy = *change.policy;
    if (!change.cpus.empty()) prio[pid].cpus = change.cpus;
    return before;
  }
  Result<int> oom_score_adj(Pid pid) override {
    if (source_.stats.count(pid) == 0U) return Error{ESRCH, "gone"};
    return oom[pid];
  }
  Result<void> set_oom_score_adj(Pid pid, int value) override {
    if (fail_oom) return Error{EACCES, "oom_score_adj: Permission denied"};
    oom[pid] = value;
    return {};
  }
  int restore_priorities(Pid pid, const std::map<Pid, act::ThreadPriority>& original) override {
    int n = 0;
    for (const auto& [tid, p] : original) {
      if (source_.stats.count(pid) != 0U) prio[tid] = p, ++n;
    }
    return n;
  }

  // The process exits: its pidfd becomes readable and /proc forgets it.
  void exit(Pid pid) {
    source_.remove(pid);
    if (write_ends_.count(pid) != 0U) {
      const char c = 'x';
      (void)!::write(write_ends_[pid], &c, 1);
    }
  }
  [[nodiscard]] std::vector<int> signals_to(Pid pid) const {
    std::vector<int> out;
    for (const auto& [p, s] : signals) {
      if (p == pid) out.push_back(s);
    }
    return out;
  }

  std::vector<std::pair<Pid, int>> signals;
  std::vector<Pid> released;
  std::map<Pid, act::ThreadPriority> prio;
  std::map<Pid, int> oom;
  bool fail_signals = false;
  bool fail_oom = false;
  bool fail_priorities = false;

 private:
  FakeProcSource& source_;
  std::map<Pid, int> write_ends_;
  std::map<int, Pid> pids_;
};

// systemd's manager as a record of the calls made to it. Each answer waits in a queue until
// answer() delivers it, as a D-Bus reply arrives later; with fail set every call is refused.
class FakeServices final : public act::ServiceManager {
 public:
  void restart(const std::string& unit, Done done) override {
    answer_later("RestartUnit " + unit, std::move(done));
  }
  void freeze_unit(const std::string& unit, bool freeze, Done done) override {
    if (!fail) frozen[unit] = freeze;
    answer_later((freeze ? "FreezeUnit " : "ThawUnit ") + unit, std::move(done));
  }
  void cpu_quota(const std::string& unit, QuotaDone done) override {
    calls.push_back("Get CPUQuotaPerSecUSec " + unit);
    auto it = quota.find(unit);
    const std::uint64_t usec = it == quota.end() ? kNoQuota : it->second;
    queue_.push_back([this, done = std::move(done), usec] {
      done(!fail, fail ? "no systemd in a test" : "", usec);
    });
  }
  void set_cpu_quota(const std::string& unit, std::uint64_t usec, Done done) override {
    if (!fail) quota[unit] = usec;
    answer_later("SetUnitProperties " + unit + " CPUQuotaPerSecUSec=" + std::to_string(usec),
                 std::move(done));
  }
  void kill_unit(const std::string& unit, int signal, Done done) override {
    answer_later("KillUnit " + unit + " " + std::to_string(signal), std::move(done));
  }
  Result<void> thaw_unit_now(const std::string& unit) override {
    calls.push_back("ThawUnit " + unit + " (at once)");
    if (fail) return Error{0, "no systemd in a test"};
    frozen[unit] = false;
    return {};
  }
  Result<void> set_cpu_quota_now(const std::string& unit, std::uint64_t usec) override {
    calls.push_back("SetUnitProperties " + unit + " CPUQuotaPerSecUSec=" + std::to_string(usec) +
                    " (at once)");
    if (fail) return Error{0, "no systemd in a test"};
    quota[unit] = usec;
    return {};
  }
  [[nodiscard]] std::size_t pending() const override { return queue_.size(); }

  // Delivers the answers waiting, in the order the calls were made.
  void answer() {
    auto queue = std::move(queue_);
    queue_.clear();
    for (auto& reply : queue) reply();
  }

  bool fail = false;
  std::vector<std::string> calls;
  std::map<std::string, bool> frozen;
  std::map<std::string, std::uint64_t> quota;

 private:
  void answer_later(std::string call, Done done) {
    calls.push_back(std::move(call));
    queue_.push_back([this, done = std::move(done)] {
      done(!fail, fail ? "no systemd in a test" : "done by systemd");
    });
  }
  std::vector<std::function<void()>> queue_;
};

class FakeClock final : public Clock {
 public:
  Seconds monotonic() const override { return now; }
  double wall() const override { return 1'700'000'000 + now; }
  Seconds now = 100;
};

}  // namespace freezr::testing
