#include "os/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <thread>

namespace freezr::os {

InstanceLock& InstanceLock::operator=(InstanceLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

Pid InstanceLock::read_holder(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0 || pid > 0x3fffffff) return 0;
  return static_cast<Pid>(pid);
}

namespace {
bool write_pid(int fd) {
  const std::string text = std::to_string(::getpid()) + "\n";
  return ::ftruncate(fd, 0) == 0 &&
         ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
}

// The holder is alive (it holds the lock), so the PID it wrote is current; the pidfd pins that
// process between lookup and signal.
bool ask_to_stop(Pid pid) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return false;
  const bool ok = ::syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, nullptr, 0) == 0;
  ::close(pidfd);
  return ok;
}
}  // namespace

Result<InstanceLock> InstanceLock::acquire(const std::string& path, bool replace,
                                           double wait_seconds,
                                           const std::function<void(const std::string&)>& say) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error{errno, "cannot open lock file " + path + ": " + std::strerror(errno)};
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      const int err = errno;
      ::close(fd);
      return Error{err, "cannot lock " + path + ": " + std::strerror(err)};
    }
    const Pid holder = read_holder(path);
    if (!replace) {
      ::close(fd);
      return Error{EWOULDBLOCK, "another FreezR is running (PID " + std::to_string(holder) +
                                    ", lock " + path + "); use --replace to take over"};
    }
    if (holder <= 0 || !ask_to_stop(holder)) {
      ::close(fd);
      return Error{EWOULDBLOCK, "the lock " + path + " is held but its owner (PID " +
                                    std::to_string(holder) + ") cannot be asked to stop"};
    }
    say("--replace: asked the running FreezR (PID " + std::to_string(holder) +
        ") to stop; waiting for its lock");
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::close(fd);
        return Error{ETIMEDOUT, "PID " + std::to_string(holder) + " did not release " + path};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    say("--replace: took over from PID " + std::to_string(holder));
  }
  if (!write_pid(fd)) {
    const int err = errno;
    ::close(fd);
    return Error{err, "cannot write PID into " + path + ": " + std::strerror(err)};
  }
  return InstanceLock(fd, path);
}

}  // namespace freezr::os
