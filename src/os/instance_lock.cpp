#include "os/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "fs/files.h"
#include "proc/parse.h"

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

namespace {

std::uint64_t start_time_of(const std::string& pid) {
  const auto stat = fs::read_regular_file("/proc/" + pid + "/stat", 4096);
  if (!stat) return 0;
  const auto fields = proc::parse_stat(*stat);
  return fields ? fields->start_time : 0;
}

// The path of an executable without the " (deleted)" the kernel appends once it was replaced
// (a FreezR upgraded in place).
std::string exe_of(const std::string& pid) {
  std::error_code ec;
  std::string exe = std::filesystem::read_symlink("/proc/" + pid + "/exe", ec).string();
  const std::string deleted = " (deleted)";
  if (exe.size() > deleted.size() && exe.ends_with(deleted))
    exe.resize(exe.size() - deleted.size());
  return exe;
}

}  // namespace

Holder InstanceLock::read_holder(const std::string& path) {
  const auto text = fs::read_regular_file(path, 4096);
  if (!text) return {};
  std::istringstream in(*text);
  long pid = 0;
  std::uint64_t start = 0;
  if (!(in >> pid) || pid <= 0 || pid > 0x3fffffff) return {};
  if (!(in >> start)) start = 0;
  return Holder{static_cast<Pid>(pid), start};
}

namespace {
bool write_holder(int fd) {
  const std::string text =
      std::to_string(::getpid()) + " " + std::to_string(start_time_of("self")) + "\n";
  return ::ftruncate(fd, 0) == 0 &&
         ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
}

// Sends sig to the lock's holder once it is proven to be a FreezR: the pidfd pins one
// process, and that process must have the start time the lock records and FreezR's executable
// (this one's path or name). Anything else is refused with the reason.
Result<void> signal_holder(const Holder& holder, int sig) {
  const std::string pid = std::to_string(holder.pid);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, holder.pid, 0));
  if (pidfd < 0) return Error(errno, "PID " + pid + " cannot be opened: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{pidfd};
  if (holder.start_time == 0 || start_time_of(pid) != holder.start_time) {
    return error_of(ErrorKind::kPermission,
                    "PID " + pid +
                        " is not the process that took the lock (its start time "
                        "differs from the one the lock records)");
  }
  const std::string mine = exe_of("self"), theirs = exe_of(pid);
  const auto name = [](const std::string& p) { return std::filesystem::path(p).filename(); };
  if (theirs.empty() || (theirs != mine && name(theirs) != name(mine))) {
    return error_of(ErrorKind::kPermission, "PID " + pid + " runs " +
                                                (theirs.empty() ? "an unknown program" : theirs) +
                                                ", not FreezR (" + mine + ")");
  }
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) != 0) {
    return Error(errno, "PID " + pid + " cannot be signalled: " + std::strerror(errno));
  }
  return {};
}

// Opens the lock file as FreezR's own: never through a link, a regular file owned by this
// user, readable by nobody else (tightened if it was not).
Result<int> open_lock(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    return Error(err, "cannot open lock file " + path + ": " +
                          (err == ELOOP ? "it is a symbolic link" : std::strerror(err)));
  }
  struct stat st {};
  std::string refused;
  if (::fstat(fd, &st) != 0) {
    refused = std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    refused = "not a regular file";
  } else if (st.st_uid != ::geteuid()) {
    refused = "owned by UID " + std::to_string(st.st_uid) + ", not by FreezR's user";
  } else if ((st.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0) {
    refused = std::string("cannot make it private: ") + std::strerror(errno);
  }
  if (!refused.empty()) {
    ::close(fd);
    return error_of(ErrorKind::kPermission, "refusing lock file " + path + ": " + refused);
  }
  return fd;
}
}  // namespace

Result<InstanceLock> InstanceLock::acquire(const std::string& path, bool replace,
                                           double wait_seconds,
                                           const std::function<void(const std::string&)>& say) {
  auto opened = open_lock(path);
  if (!opened) return opened.error();
  const int fd = *opened;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      const int err = errno;
      ::close(fd);
      return Error{err, "cannot lock " + path + ": " + std::strerror(err)};
    }
    const Holder holder = read_holder(path);
    const std::string who = std::to_string(holder.pid);
    if (!replace) {
      ::close(fd);
      return Error{EWOULDBLOCK, "another FreezR is running (PID " + who + ", lock " + path +
                                    "); use --replace to take over"};
    }
    const auto asked = holder.pid > 0 ? signal_holder(holder, SIGTERM)
                                      : Result<void>(parse_error("it names no PID"));
    if (!asked) {
      ::close(fd);
      return Error{EWOULDBLOCK, "the lock " + path + " is held but its owner (PID " + who +
                                    ") was not asked to stop: " + asked.error().message};
    }
    say("--replace: asked the running FreezR (PID " + who + ") to stop; waiting for its lock");
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::close(fd);
        return Error{ETIMEDOUT, "PID " + who + " did not release " + path};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    say("--replace: took over from PID " + who);
  }
  if (!write_holder(fd)) {
    const int err = errno;
    ::close(fd);
    return Error{err, "cannot write PID into " + path + ": " + std::strerror(err)};
  }
  return InstanceLock(fd, path);
}

Result<Pid> InstanceLock::signal(const std::string& path, int sig) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Error(errno, "no FreezR is running (no lock " + path + ")", ErrorKind::kGone);
  }
  const bool free = ::flock(fd, LOCK_SH | LOCK_NB) == 0;
  ::close(fd);
  if (free) return Error(0, "no FreezR is running (nobody holds " + path + ")", ErrorKind::kGone);
  const Holder holder = read_holder(path);
  if (holder.pid <= 0) return parse_error("the lock " + path + " names no PID");
  if (auto sent = signal_holder(holder, sig); !sent) return sent.error();
  return holder.pid;
}

}  // namespace freezr::os
