#include "act/linux_actuator.h"

#include <fmt/format.h>
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

struct LinuxActuator::PendingKill {
  PendingKill(asio::io_context& io, int fd) : pidfd(io, fd), timer(io) {}
  ActionOutcome outcome;  // the decision's, for the reports
  engine::TargetInfo target;
  asio::posix::stream_descriptor pidfd;
  asio::steady_timer timer;
  Seconds started = 0;     // monotonic
  bool immediate = false;  // SIGKILL first, without a grace period
  bool sent_kill = false;
  bool done = false;
  std::string unit;  // killed as a whole: SIGKILL goes to the unit too (KillUnit)
};

LinuxActuator::LinuxActuator(asio::io_context& io, ProcessControl& control, const Clock& clock,
                             ServiceManager& services, Reversibles& reversibles,
                             CommandRunner& commands, double grace, OutcomeSink sink)
    : io_(io),
      control_(control),
      clock_(clock),
      services_(services),
      reversibles_(reversibles),
      commands_(commands),
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

std::size_t LinuxActuator::pending() const {
  return kills_.size() + services_.pending() + commands_.running();
}

void LinuxActuator::exec(const engine::Decision& d) {
  std::vector<std::optional<engine::TargetInfo>> targets(d.targets.begin(), d.targets.end());
  if (targets.empty()) targets.emplace_back();
  for (const auto& t : targets) {
    auto o = outcome_of(d);
    o.target = t;
    commands_.run(
        d.action.command, command_environment(o, false),
        [sink = sink_, o, line = engine::command_line(d.action.command)](const CommandResult& r) {
          auto done = o;
          done.ok = r.ok();
          done.detail = line + ": " + r.describe();
          sink(done);
        });
  }
}

void LinuxActuator::apply(const engine::Decision& d) {
  if (d.verdict == engine::Verdict::kRelease) {
    reversibles_.release(d);
    return;
  }
  switch (d.action.kind) {
    case engine::ActionKind::kLog:
      for (const auto& t : d.targets) {
        auto o = outcome_of(d);
        o.target = t;
        o.ok = true;
        o.detail = "logged";
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
      if (!d.whole_unit.empty()) {
        kill_unit(d);
        return;
      }
      for (const auto& t : d.targets) kill(d, t, false);
      return;
    case engine::ActionKind::kRestart: {
      auto o = outcome_of(d);
      o.service = d.action.service;
      services_.restart(d.action.service, [sink = sink_, o](bool ok, const std::string& detail) {
        auto done = o;
        done.ok = ok;
        done.detail = detail;
        sink(done);
      });
      return;
    }
    case engine::ActionKind::kExec:
      exec(d);
      return;
  }
}

void LinuxActuator::kill_unit(const engine::Decision& d) {
  const int first = d.action.immediate ? SIGKILL : SIGTERM;
  services_.kill_unit(d.whole_unit, first, [this, d](bool ok, const std::string& detail) {
    if (!ok && !d.targets.empty()) {
      auto o = outcome_of(d);
      o.target = d.targets.front();
      o.ok = true;
      o.final = false;
      o.detail =
          "KillUnit " + d.whole_unit + " failed (" + detail + "): killing process by process";
      sink_(o);
    }
    // Each process is watched until it exits, and sent SIGKILL after the grace period.
    for (const auto& t : d.targets) kill(d, t, ok);
  });
}

void LinuxActuator::kill(const engine::Decision& d, const engine::TargetInfo& t, bool signalled) {
  auto o = outcome_of(d);
  o.target = t;
  if (kills_.count(t.id) != 0U) {
    o.ok = true;
    o.final = false;
    o.detail = "already being killed";
    sink_(o);
    return;
  }
  auto fd = control_.open(t.id);
  if (!fd) {
    o.ok = fd.error().gone();
    o.detail = fd.error().gone() ? "already gone: " + fd.error().message : fd.error().message;
    sink_(o);
    return;
  }
  auto k = std::make_shared<PendingKill>(io_, *fd);
  k->outcome = o;
  k->started = clock_.monotonic();
  k->target = t;
  const int first = d.action.immediate ? SIGKILL : SIGTERM;
  if (!signalled && !control_.signal(*fd, first)) {
    const int err = errno;
    o.ok = err == ESRCH;
    o.detail = fmt::format("{} failed: {}", d.action.immediate ? "SIGKILL" : "SIGTERM",
                           std::strerror(err));
    sink_(o);
    return;  // k closes the pidfd
  }
  k->immediate = d.action.immediate;
  k->sent_kill = d.action.immediate;
  if (d.action.immediate) control_.release_memory(*fd);
  o.ok = true;
  o.final = false;
  o.detail = d.action.immediate ? "SIGKILL sent" : "SIGTERM sent";
  if (signalled) {
    o.detail += " to every process of " + d.whole_unit + " (KillUnit)";
    // The unit's SIGKILL goes once, with the kill of its first process.
    if (t.id == d.targets.front().id) k->unit = d.whole_unit;
  }
  sink_(o);
  kills_.emplace(t.id, k);
  watch(k);
  if (d.action.immediate) {
    give_up_after(k, 5);
    return;
  }
  k->timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(grace_)));
  k->timer.async_wait([this, k](const boost::system::error_code& ec) {
    if (ec || k->done) return;
    if (!control_.signal(k->pidfd.native_handle(), SIGKILL) && errno != ESRCH) {
      finish(k, false, std::string("SIGKILL failed: ") + std::strerror(errno));
      return;
    }
    k->sent_kill = true;
    if (!k->unit.empty()) {  // what the unit forked since the scan goes too
      services_.kill_unit(k->unit, SIGKILL, [](bool, const std::string&) {});
    }
    // A process in uninterruptible sleep may take a moment; give up after 10 s more.
    give_up_after(k, 10);
  });
}

void LinuxActuator::give_up_after(const std::shared_ptr<PendingKill>& k, int seconds) {
  k->timer.expires_after(std::chrono::seconds(seconds));
  k->timer.async_wait([this, k, seconds](const boost::system::error_code& ec) {
    if (!ec && !k->done) finish(k, false, fmt::format("still alive {} s after SIGKILL", seconds));
  });
}

void LinuxActuator::watch(const std::shared_ptr<PendingKill>& k) {
  // A pidfd becomes readable when its process exits.
  k->pidfd.async_wait(asio::posix::stream_descriptor::wait_read,
                      [this, k](const boost::system::error_code& ec) {
                        if (ec || k->done) return;
                        const double secs = clock_.monotonic() - k->started;
                        finish(k, true,
                               fmt::format("exited {:.2f} s after {}", secs,
                                           k->immediate   ? "SIGKILL"
                                           : k->sent_kill ? "SIGTERM (needed SIGKILL)"
                                                          : "SIGTERM"));
                      });
}

void LinuxActuator::finish(const std::shared_ptr<PendingKill>& k, bool ok,
                           const std::string& detail) {
  k->done = true;
  k->timer.cancel();
  boost::system::error_code ignored;
  k->pidfd.cancel(ignored);
  kills_.erase(k->target.id);
  auto o = k->outcome;
  o.ok = ok;
  o.detail = detail;
  sink_(o);
}

void LinuxActuator::hurry() {
  for (auto& [id, k] : kills_) {
    if (!k->sent_kill && control_.signal(k->pidfd.native_handle(), SIGKILL)) k->sent_kill = true;
  }
}

}  // namespace freezr::act
