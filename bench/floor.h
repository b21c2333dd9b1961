// The floor both benchmarks compare with: what any /proc reader must do at least for a scan —
// list /proc and read every /proc/PID/stat into a 4 KiB buffer, opening and closing it each
// time, or (kept) opening it once and reading it with pread afterwards.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

namespace freezr::bench {

class Floor {
 public:
  explicit Floor(bool kept) : kept_(kept) {}
  ~Floor() {
    for (const auto& [pid, fd] : fds_) ::close(fd);
  }
  Floor(const Floor&) = delete;
  Floor& operator=(const Floor&) = delete;

  // One scan; how many stat files it read.
  std::size_t pass() {
    std::size_t n = 0;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return 0;
    ++round_;
    while (const dirent* e = ::readdir(proc)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      const int pid = std::atoi(e->d_name);
      int fd = -1;
      if (kept_) {
        if (const auto it = fds_.find(pid); it != fds_.end()) fd = it->second;
      }
      if (fd < 0) {
        std::snprintf(path_, sizeof path_, "/proc/%d/stat", pid);
        fd = ::open(path_, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        if (kept_) fds_[pid] = fd;
      }
      if (::pread(fd, buf_, sizeof buf_, 0) > 0) {
        ++n;
        if (kept_) seen_[pid] = round_;
      }
      if (!kept_) ::close(fd);
    }
    ::closedir(proc);
    if (kept_) {  // the files of processes gone
      for (auto it = fds_.begin(); it != fds_.end();) {
        if (seen_[it->first] != round_) {
          ::close(it->second);
          seen_.erase(it->first);
          it = fds_.erase(it);
        } else {
          ++it;
        }
      }
    }
    return n;
  }

 private:
  bool kept_;
  unsigned round_ = 0;
  char buf_[4096];
  char path_[64];
  std::unordered_map<int, int> fds_;
  std::unordered_map<int, unsigned> seen_;
};

}  // namespace freezr::bench
