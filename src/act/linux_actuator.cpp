#include "act/linux_actuator.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>

namespace freezr::act {

namespace asio = boost::asio;

Result<int> open_verified_pidfd(proc::ProcSource& source, const ProcessId& id) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, id.pid, 0));
  if (fd < 0) return Error{errno, std::string("pidfd_open: ") + std::strerror(errno)};
  std::string buf;
  auto r = source.read_pid_file(id.pid, "stat", buf);
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

bool pidfd_signal(int pidfd, int sig) {
  return ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0;
}

struct LinuxActuator::PendingKill {
  PendingKill(asio::io_context& io, int fd) : pidfd(io, fd), timer(io) {}
  std::string rule;
  engine::TargetInfo target;
  asio::posix::stream_descriptor pidfd;
  asio::steady_timer timer;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bool sent_kill = false;
  bool done = false;
};

LinuxActuator::LinuxActuator(asio::io_context& io, proc::ProcSource& source,
                             ServiceManager& services, Reversibles& reversibles, double grace,
                             OutcomeSink sink)
    : io_(io),
      source_(source),
      services_(services),
      reversibles_(reversibles),
      grace_(grace),
      sink_(std::move(sink)) {}

LinuxActuator::~LinuxActuator() {
  for (auto& [id, k] : kills_) {
    k->done = true;
    k->timer.cancel();
    boost::system::error_code ignored;
    k->pidfd.cancel(ignored);
  }
}

std::size_t LinuxActuator::pending() const { return kills_.size() + services_.pending(); }

void LinuxActuator::apply(const engine::Decision& d) {
  if (d.verdict == engine::Verdict::kRelease) {
    reversibles_.release(d);
    return;
  }
  switch (d.action.kind) {
    case engine::ActionKind::kLog:
      for (const auto& t : d.targets) {
        ActionOutcome o{d.rule, d.action.kind, t, "", true, false, true, "logged"};
        sink_(o);
      }
      return;
    case engine::ActionKind::kRenice:
      reversibles_.renice(d);
      return;
    case engine::ActionKind::kThrottle:
      reversibles_.throttle(d);
      return;
    case engine::ActionKind::kFreeze:
      reversibles_.freeze(d);
      return;
    case engine::ActionKind::kKill:
      for (const auto& t : d.targets) kill(d, t);
      return;
    case engine::ActionKind::kRestart: {
      auto sink = sink_;
      auto rule = d.rule;
      auto unit = d.action.service;
      services_.restart(unit, [sink, rule, unit](bool ok, const std::string& detail) {
        ActionOutcome o;
        o.rule = rule;
        o.action = engine::ActionKind::kRestart;
        o.service = unit;
        o.ok = ok;
        o.detail = detail;
        sink(o);
      });
      return;
    }
  }
}

void LinuxActuator::kill(const engine::Decision& d, const engine::TargetInfo& t) {
  ActionOutcome o{d.rule, engine::ActionKind::kKill, t, "", false, false, true, ""};
  if (kills_.count(t.id) != 0U) {
    o.ok = true;
    o.final = false;
    o.detail = "already being killed";
    sink_(o);
    return;
  }
  auto fd = open_verified_pidfd(source_, t.id);
  if (!fd) {
    o.ok = fd.error().gone();
    o.detail = fd.error().gone() ? "already gone: " + fd.error().message : fd.error().message;
    sink_(o);
    return;
  }
  auto k = std::make_shared<PendingKill>(io_, *fd);
  k->rule = d.rule;
  k->target = t;
  if (!pidfd_signal(*fd, SIGTERM)) {
    const int err = errno;
    o.ok = err == ESRCH;
    o.detail = std::string("SIGTERM failed: ") + std::strerror(err);
    sink_(o);
    return;  // k closes the pidfd
  }
  o.ok = true;
  o.final = false;
  o.detail = "SIGTERM sent";
  sink_(o);
  kills_.emplace(t.id, k);
  watch(k);
  k->timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(grace_)));
  k->timer.async_wait([this, k](const boost::system::error_code& ec) {
    if (ec || k->done) return;
    if (!pidfd_signal(k->pidfd.native_handle(), SIGKILL) && errno != ESRCH) {
      finish(k, false, std::string("SIGKILL failed: ") + std::strerror(errno));
      return;
    }
    k->sent_kill = true;
    // A process in uninterruptible sleep may take a moment; give up after 10 s more.
    k->timer.expires_after(std::chrono::seconds(10));
    k->timer.async_wait([this, k](const boost::system::error_code& ec2) {
      if (!ec2 && !k->done) finish(k, false, "still alive 10 s after SIGKILL");
    });
  });
}

void LinuxActuator::watch(const std::shared_ptr<PendingKill>& k) {
  // A pidfd becomes readable when its process exits.
  k->pidfd.async_wait(asio::posix::stream_descriptor::wait_read,
                      [this, k](const boost::system::error_code& ec) {
                        if (ec || k->done) return;
                        const double secs = std::chrono::duration<double>(
                                                std::chrono::steady_clock::now() - k->started)
                                                .count();
                        char buf[96];
                        std::snprintf(buf, sizeof buf, "exited %.2f s after %s", secs,
                                      k->sent_kill ? "SIGTERM (needed SIGKILL)" : "SIGTERM");
                        finish(k, true, buf);
                      });
}

void LinuxActuator::finish(const std::shared_ptr<PendingKill>& k, bool ok,
                           const std::string& detail) {
  k->done = true;
  k->timer.cancel();
  boost::system::error_code ignored;
  k->pidfd.cancel(ignored);
  kills_.erase(k->target.id);
  ActionOutcome o{k->rule, engine::ActionKind::kKill, k->target, "", ok, false, true, detail};
  sink_(o);
}

void LinuxActuator::hurry() {
  for (auto& [id, k] : kills_) {
    if (!k->sent_kill && pidfd_signal(k->pidfd.native_handle(), SIGKILL)) k->sent_kill = true;
  }
}

}  // namespace freezr::act
