#include "act/priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
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

std::map<Pid, ThreadPriority> read_priorities(const std::string& proc_root, Pid pid) {
  std::map<Pid, ThreadPriority> out;
  for (Pid tid : threads(proc_root, pid)) {
    const auto nice = get_nice(tid);
    const long io = ::syscall(SYS_ioprio_get, kIoprioWhoProcess, tid);
    if (nice && io >= 0) out[tid] = ThreadPriority{*nice, static_cast<int>(io)};
  }
  return out;
}

Result<std::map<Pid, ThreadPriority>> set_priorities(const std::string& proc_root, Pid pid,
                                                     std::optional<int> nice,
                                                     std::optional<engine::IoPriority> ionice) {
  auto before = read_priorities(proc_root, pid);
  if (before.empty()) return Error{ESRCH, "no threads (the process is gone)"};
  std::map<Pid, ThreadPriority> changed;
  std::string last_error;
  for (const auto& [tid, prio] : before) {
    bool ok = true;
    if (nice && ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), *nice) != 0) {
      ok = false;
      last_error = std::string("setpriority: ") + std::strerror(errno);
    }
    if (ionice && ::syscall(SYS_ioprio_set, kIoprioWhoProcess, tid, encode_ioprio(*ionice)) != 0) {
      ok = false;
      last_error = std::string("ioprio_set: ") + std::strerror(errno);
    }
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
    const bool a = ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), it->second.nice) == 0;
    const bool b = ::syscall(SYS_ioprio_set, kIoprioWhoProcess, tid, it->second.ioprio) == 0;
    if (a && b) ++restored;
  }
  return restored;
}

}  // namespace freezr::act
