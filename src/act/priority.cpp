#include "act/priority.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace freezr::act {
namespace {
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassShift = 13;

std::optional<int> get_nice(Pid tid) {
  errno = 0;
  const int v = ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (v == -1 && errno != 0) return std::nullopt;
  return v;
}

std::vector<Pid> threads(const std::string& proc_root, Pid pid) {
  std::vector<Pid> out;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator(proc_root + "/" + std::to_string(pid) + "/task", ec)) {
    try {
      out.push_back(static_cast<Pid>(std::stol(e.path().filename().string())));
    } catch (const std::exception&) {
    }
  }
  return out;
}
}  // namespace

int encode_ioprio(const engine::IoPriority& p) {
  return (p.io_class << kIoprioClassShift) | (p.io_class == 3 ? 0 : p.level);
}

PriorityChange PriorityChange::of(const engine::Action& a) {
  PriorityChange c;
  c.nice = a.nice;
  c.ionice = a.ionice;
  c.cpus = a.cpus;
  if (a.sched) c.policy = *a.sched == engine::SchedClass::kIdle ? SCHED_IDLE : SCHED_BATCH;
  return c;
}

std::map<Pid, ThreadPriority> read_priorities(const std::string& proc_root, Pid pid) {
  std::map<Pid, ThreadPriority> out;
  for (Pid tid : threads(proc_root, pid)) {
    const auto nice = get_nice(tid);
    const long io = ::syscall(SYS_ioprio_get, kIoprioWhoProcess, tid);
    if (!nice || io < 0) continue;
    ThreadPriority p;
    p.nice = *nice;
    p.ioprio = static_cast<int>(io);
    p.policy = ::sched_getscheduler(tid);
    sched_param param{};
    if (p.policy >= 0 && ::sched_getparam(tid, &param) == 0) p.rt_priority = param.sched_priority;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(tid, sizeof set, &set) == 0) {
      for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (CPU_ISSET(c, &set)) p.cpus.push_back(c);
      }
    }
    out[tid] = std::move(p);
  }
  return out;
}

namespace {
bool set_policy(Pid tid, int policy, int rt_priority) {
  sched_param param{};
  param.sched_priority = rt_priority;
  return ::sched_setscheduler(tid, policy, &param) == 0;
}

bool set_cpus(Pid tid, const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) {
    if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &set);
  }
  return ::sched_setaffinity(tid, sizeof set, &set) == 0;
}
}  // namespace

Result<std::map<Pid, ThreadPriority>> set_priorities(const std::string& proc_root, Pid pid,
                                                     const PriorityChange& change) {
  auto before = read_priorities(proc_root, pid);
  if (before.empty()) return Error{ESRCH, "no threads (the process is gone)"};
  std::map<Pid, ThreadPriority> changed;
  std::string last_error;
  auto fail = [&](const char* call) {
    last_error = std::string(call) + ": " + std::strerror(errno);
    return false;
  };
  for (const auto& [tid, prio] : before) {
    bool ok = true;
    if (change.nice && ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), *change.nice) != 0) {
      ok = fail("setpriority");
    }
    if (change.ionice &&
        ::syscall(SYS_ioprio_set, kIoprioWhoProcess, tid, encode_ioprio(*change.ionice)) != 0) {
      ok = fail("ioprio_set");
    }
    if (change.policy && !set_policy(tid, *change.policy, 0)) ok = fail("sched_setscheduler");
    if (!change.cpus.empty() && !set_cpus(tid, change.cpus)) ok = fail("sched_setaffinity");
    if (ok) changed[tid] = prio;
  }
  if (changed.empty()) return Error{EPERM, last_error};
  return changed;
}

int restore_priorities(const std::string& proc_root, Pid pid,
                       const std::map<Pid, ThreadPriority>& original) {
  const auto main = original.find(pid);
  int restored = 0;
  for (Pid tid : threads(proc_root, pid)) {
    auto it = original.find(tid);
    if (it == original.end()) it = main;
    if (it == original.end()) continue;
    const auto& p = it->second;
    // The class first: leaving SCHED_IDLE makes the nice value count again.
    const bool c = p.policy < 0 || ::sched_getscheduler(tid) == p.policy ||
                   set_policy(tid, p.policy, p.rt_priority);
    const bool a = ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), p.nice) == 0;
    const bool b = ::syscall(SYS_ioprio_set, kIoprioWhoProcess, tid, p.ioprio) == 0;
    const bool d = p.cpus.empty() || set_cpus(tid, p.cpus);
    if (a && b && c && d) ++restored;
  }
  return restored;
}

Result<int> read_oom_score_adj(const std::string& proc_root, Pid pid) {
  const std::string path = proc_root + "/" + std::to_string(pid) + "/oom_score_adj";
  std::FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return Error{errno, path + ": " + std::strerror(errno)};
  int v = 0;
  const bool ok = std::fscanf(f, "%d", &v) == 1;
  std::fclose(f);
  if (!ok) return Error{EINVAL, path + ": not a number"};
  return v;
}

Result<void> write_oom_score_adj(const std::string& proc_root, Pid pid, int value) {
  const std::string path = proc_root + "/" + std::to_string(pid) + "/oom_score_adj";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error{errno, "oom_score_adj: " + std::string(std::strerror(errno))};
  const std::string text = std::to_string(value);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  ::close(fd);
  if (!ok) return Error{err, "oom_score_adj: " + std::string(std::strerror(err))};
  return {};
}

}  // namespace freezr::act
