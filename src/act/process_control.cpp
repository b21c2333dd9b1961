#include "act/process_control.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace freezr::act {

std::optional<proc::StatFields> same_process(proc::ProcSource& source, const ProcessId& id) {
  std::string buf;
  if (!source.read_pid_file(id.pid, "stat", buf)) return std::nullopt;
  auto st = proc::parse_stat(buf);
  if (!st || st->start_time != id.start_time) return std::nullopt;
  return *st;
}

Result<int> LinuxProcessControl::open(const ProcessId& id) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, id.pid, 0));
  if (fd < 0) return Error{errno, std::string("pidfd_open: ") + std::strerror(errno)};
  // Checked after the pidfd is held: the pidfd then refers to exactly that process.
  if (!same_process(source_, id)) {
    ::close(fd);
    return Error{ESRCH, "exited, or its PID now belongs to another process; not touched"};
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
