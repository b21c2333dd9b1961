// Idle children for the benchmarks: they fill the process table up to a count, and are ended
// by PID afterwards.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace freezr::bench {

// Numeric entries of /proc: the processes on the machine.
inline std::size_t count_pids() {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) ++n;
  }
  return n;
}

// Forks n children that only wait for a signal; stops early if fork fails.
inline std::vector<pid_t> spawn_idle(std::size_t n) {
  std::vector<pid_t> kids;
  for (std::size_t i = 0; i < n; ++i) {
    const pid_t p = fork();
    if (p == 0) {
      for (;;) pause();
    }
    if (p < 0) break;
    kids.push_back(p);
  }
  return kids;
}

// Children to fill the machine up to `target` processes.
inline std::vector<pid_t> fill_to(std::size_t target) {
  const std::size_t have = count_pids();
  return spawn_idle(target > have ? target - have : 0);
}

inline void end_children(const std::vector<pid_t>& kids) {
  for (pid_t p : kids) kill(p, SIGKILL);
  for (pid_t p : kids) waitpid(p, nullptr, 0);
}

}  // namespace freezr::bench
