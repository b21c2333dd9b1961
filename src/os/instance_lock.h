// InstanceLock: one FreezR per data directory. An flock()ed file, 0600, holding the owner's PID
// and start time.
#pragma once

#include <functional>
#include <string>

#include "core/result.h"
#include "core/types.h"

namespace freezr::os {

// Who a lock file names: the PID and its start time (clock ticks after boot; 0 when absent).
struct Holder {
  Pid pid = 0;
  std::uint64_t start_time = 0;
};

class InstanceLock {
 public:
  InstanceLock() = default;
  InstanceLock(InstanceLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  InstanceLock& operator=(InstanceLock&& other) noexcept;
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;
  ~InstanceLock();

  // Takes the lock at path and writes this process's PID into it. When another process holds
  // it: without replace, fails with EWOULDBLOCK and a message naming the holder's PID; with
  // replace, sends the holder SIGTERM through a pidfd, once that process is proven to be the
  // FreezR that took the lock (its start time and executable), and waits up to wait_seconds
  // for it to let go. A link, a file of another user or one that is not regular is refused.
  // `say` receives progress lines.
  static Result<InstanceLock> acquire(const std::string& path, bool replace, double wait_seconds,
                                      const std::function<void(const std::string&)>& say);

  // Sends sig to the FreezR holding the lock at path, proven as --replace proves it (its start
  // time and executable); its PID. An error of kind gone when no FreezR holds the lock.
  static Result<Pid> signal(const std::string& path, int sig);

  // Who a lock file names (pid 0 when it names nobody).
  static Holder read_holder(const std::string& path);

  [[nodiscard]] bool held() const { return fd_ >= 0; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  InstanceLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace freezr::os
