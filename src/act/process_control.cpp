#include "act/process_control.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace freezr::act {

Result<int> LinuxProcessControl::open(const ProcessId& id) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, id.pid, 0));
  if (fd < 0) return Error{errno, std::string("pidfd_open: ") + std::strerror(errno)};
  std::string buf;
  auto r = source_.read_pid_file(id.pid, "stat", buf);
  if (!r) {
    ::close(fd);
    return Error{ESRCH, "process exited before it could be verified"};
  }
  auto st = proc::parse_stat(buf);
  if (!st || st->start_time != id.start_time) {
    ::close(fd);
    return Error{ESRCH, "PID was reused by another process; not touched"};
  }
  return fd;
}

bool LinuxProcessControl::signal(int pidfd, int sig) {
  return ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0;
}

void LinuxProcessControl::release_memory(int pidfd) {
#ifdef SYS_process_mrelease
  ::syscall(SYS_process_mrelease, pidfd, 0);  // fails harmlessly on kernels before 5.15
#else
  (void)pidfd;
#endif
}

}  // namespace freezr::act
