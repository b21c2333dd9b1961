#include "daemon/pressure_watch.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstring>
#include <fmt/format.h>

#include "act/linux_actuator.h"

namespace freezr::daemon {

namespace asio = boost::asio;
using spdlog::level::level_enum;
using std::chrono::steady_clock;

engine::OomFacts read_oom_facts(proc::ProcSource& source, Pid pid) {
  engine::OomFacts f;
  std::string buf;
  if (source.read_pid_file(pid, "oom_score", buf)) f.oom_score = std::atoi(buf.c_str());
  if (source.read_pid_file(pid, "oom_score_adj", buf)) f.oom_score_adj = std::atoi(buf.c_str());
  return f;
}

struct PressureWatcher::Impl {
  explicit Impl(asio::io_context& io) : check(io), settle(io) {}
  // /proc/pressure/memory, armed for "some" and for "full".
  std::vector<std::unique_ptr<asio::posix::stream_descriptor>> triggers;
  asio::steady_timer check;   // adaptive MemAvailable check
  asio::steady_timer settle;  // after a kill: give up waiting, or the dry-run pause
  std::unique_ptr<asio::posix::stream_descriptor> victim;  // pidfd of the process being killed
  std::unique_ptr<Scanner> scanner;  // its own scanner: ranking must not disturb the main one
};

PressureWatcher::PressureWatcher(Deps deps) : d_(std::move(deps)), impl_(std::make_unique<Impl>(d_.io)) {}

PressureWatcher::~PressureWatcher() { stop(); }

void PressureWatcher::stop() {
  impl_->check.cancel();
  impl_->settle.cancel();
  boost::system::error_code ignored;
  for (auto& t : impl_->triggers) t->cancel(ignored);
  if (impl_->victim) impl_->victim->cancel(ignored);
}

std::optional<std::string> PressureWatcher::arm(const char* kind, double percent,
                                                std::string* why) {
  const auto& p = d_.config().pressure;
  const std::string path = d_.proc_root + "/pressure/memory";
  // Without CAP_SYS_RESOURCE the kernel wants a window that is a multiple of 2 s.
  for (double window : {p.window, std::max(2.0, std::ceil(p.window / 2) * 2)}) {
    const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      *why = std::string("cannot open ") + path + ": " + std::strerror(errno);
      return std::nullopt;
    }
    const auto window_us = static_cast<long>(window * 1e6);
    const auto stall_us =
        std::max(1L, static_cast<long>(static_cast<double>(window_us) * percent / 100.0));
    const std::string line = fmt::format("{} {} {}", kind, stall_us, window_us);
    if (::write(fd, line.c_str(), line.size() + 1) >= 0) {
      impl_->triggers.push_back(std::make_unique<asio::posix::stream_descriptor>(d_.io, fd));
      arm_wait(*impl_->triggers.back());
      return fmt::format("{} {:g} ms per {:g} s", kind, static_cast<double>(stall_us) / 1000,
                         window);
    }
    *why = std::string("the kernel refused the trigger '") + line + "': " + std::strerror(errno);
    ::close(fd);
  }
  return std::nullopt;
}

std::string PressureWatcher::start() {
  const auto& p = d_.config().pressure;
  if (!p.enabled) {
    mode_ = "off";
    return "memory pressure handling is off";
  }
  // For each of some and full, the lower threshold of the two levels is the one to wake on.
  auto lower = [](std::optional<double> a, std::optional<double> b) {
    return a && b ? std::optional<double>(std::min(*a, *b)) : a ? a : b;
  };
  const auto some = lower(p.warning.some_avg10, p.critical.some_avg10);
  const auto full = lower(p.warning.full_avg10, p.critical.full_avg10);
  if (!some && !full) {
    mode_ = "memory";
    return "no PSI thresholds: MemAvailable is checked at an adaptive interval";
  }
  std::string why, armed;
  for (const auto& [kind, value] : {std::pair{"some", some}, std::pair{"full", full}}) {
    if (!value) continue;
    if (auto text = arm(kind, *value, &why)) armed += (armed.empty() ? "" : ", ") + *text;
  }
  if (armed.empty()) {
    mode_ = "polling";
    return "PSI trigger not armed (" + why + "); reading avg10 every scan instead";
  }
  mode_ = "trigger";
  return "PSI trigger armed on " + d_.proc_root + "/pressure/memory (" + armed +
         " of stall); MemAvailable checked at an adaptive interval";
}

void PressureWatcher::arm_wait(asio::posix::stream_descriptor& trigger) {
  // A PSI trigger is reported as POLLPRI: asio's wait_error.
  trigger.async_wait(asio::posix::stream_descriptor::wait_error,
                     [this, &trigger](const boost::system::error_code& ec) {
                       if (ec) return;
                       woke_at_ = steady_clock::now();
                       evaluate(read_sample(), "PSI trigger");
                       arm_wait(trigger);
                     });
}

engine::PressureSample PressureWatcher::read_sample() {
  std::optional<proc::MemInfo> mem;
  std::optional<proc::Pressure> psi;
  if (auto t = d_.source.read_system_file("meminfo")) {
    if (auto m = proc::parse_meminfo(*t)) mem = *m;
  }
  if (auto t = d_.source.read_system_file("pressure/memory")) {
    if (auto p = proc::parse_pressure(*t)) psi = *p;
  }
  return engine::pressure_sample(mem, psi);
}

void PressureWatcher::on_scan(const engine::Snapshot& snap) {
  if (mode_ == "off") return;
  woke_at_ = steady_clock::now();
  evaluate(engine::pressure_sample(snap.meminfo, snap.memory_pressure), "scan");
}

namespace {
std::vector<Field> sample_fields(const engine::PressureSample& s) {
  std::vector<Field> f = {{"mem_available_percent", s.mem_available_percent}};
  if (s.some_avg10) f.push_back({"psi_some_avg10", *s.some_avg10});
  if (s.full_avg10) f.push_back({"psi_full_avg10", *s.full_avg10});
  if (s.swap_free_percent) f.push_back({"swap_free_percent", *s.swap_free_percent});
  return f;
}

std::string sample_text(const engine::PressureSample& s) {
  std::string out = fmt::format("MemAvailable {:.1f}%", s.mem_available_percent);
  if (s.some_avg10) out += fmt::format(", PSI some {:.2f}", *s.some_avg10);
  if (s.full_avg10) out += fmt::format(", full {:.2f}", *s.full_avg10);
  if (s.swap_free_percent) out += fmt::format(", swap free {:.1f}%", *s.swap_free_percent);
  return out;
}
}  // namespace

void PressureWatcher::evaluate(const engine::PressureSample& s, const char* woke_by) {
  const auto& p = d_.config().pressure;
  auto next = engine::next_level(level_, s, p.warning, p.critical);
  std::optional<double> eta;
  if (p.predict_minutes && d_.exhaustion_seconds) eta = d_.exhaustion_seconds();
  predicted_ = next == engine::PressureLevel::kNone && eta && *eta <= *p.predict_minutes * 60;
  if (predicted_) {
    next = engine::PressureLevel::kWarning;
    woke_by = "prediction";
  }
  if (next != level_) {
    auto f = sample_fields(s);
    f.insert(f.begin(), {{"from", std::string(engine::to_string(level_))},
                         {"to", std::string(engine::to_string(next))},
                         {"woke_by", std::string(woke_by)}});
    auto msg = fmt::format("memory pressure {} → {} ({})", engine::to_string(level_),
                           engine::to_string(next), sample_text(s));
    if (predicted_) {
      msg += fmt::format("; memory predicted to reach the critical level in {:.0f} s", *eta);
      f.push_back({"predicted_seconds", std::round(*eta)});
    }
    d_.log.event(next > level_ ? level_enum::warn : level_enum::info, "pressure", f, msg);
    d_.recorder.event({d_.wall(), "pressure", "", 0, "", engine::to_string(next), std::nullopt, msg});
    level_ = next;
    gentle_done_ = false;
  }
  act_on_level(s);
  schedule_check(s);
}

void PressureWatcher::act_on_level(const engine::PressureSample& s) {
  const auto& p = d_.config().pressure;
  if (level_ == engine::PressureLevel::kNone) return;
  const auto& lvl = level_ == engine::PressureLevel::kCritical ? p.critical : p.warning;
  if (predicted_) {
    // Held by a prediction, not by the figures: the level's action once, then wait and see.
    if (gentle_done_ || lvl.action.kind == engine::ActionKind::kLog) return;
    if (lvl.action.kind == engine::ActionKind::kKill) {
      if (!killing_) kill_next(s);
      gentle_done_ = true;
    } else {
      gentle(lvl, s);
    }
    return;
  }
  if (lvl.action.kind == engine::ActionKind::kKill) {
    // Only while the entering condition holds: inside the hysteresis band nothing more dies.
    if (!killing_ && engine::crosses(s, lvl)) kill_next(s);
  } else if (lvl.action.kind != engine::ActionKind::kLog && !gentle_done_) {
    gentle(lvl, s);
  }
}

void PressureWatcher::schedule_check(const engine::PressureSample& s) {
  const auto& cfg = d_.config();
  const double next = engine::pressure_check_interval(s, cfg.pressure.critical, cfg.monitor.interval);
  if (next >= cfg.monitor.interval) return;  // the next scan will look anyway
  impl_->check.expires_after(std::chrono::duration_cast<steady_clock::duration>(
      std::chrono::duration<double>(next)));
  impl_->check.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    woke_at_ = steady_clock::now();
    evaluate(read_sample(), "memory check");
  });
}

namespace {
std::string cmdline_of(proc::ProcSource& source, Pid pid) {
  std::string buf;
  if (!source.read_pid_file(pid, "cmdline", buf)) return {};
  auto s = proc::join_cmdline(buf);
  if (s.size() > 200) s = s.substr(0, 200) + "…";
  return s;
}
}  // namespace

PressureWatcher::Ranking PressureWatcher::rank() {
  const auto& cfg = d_.config();
  if (!impl_->scanner) impl_->scanner = std::make_unique<Scanner>(d_.source, &cfg.rules);
  impl_->scanner->reset_rules(&cfg.rules, &cfg.categories);
  Ranking r;
  r.scan = impl_->scanner->scan(
      std::chrono::duration<double>(steady_clock::now().time_since_epoch()).count());
  r.order = engine::rank_victims(r.scan.snap, r.scan.cls, cfg.rules, cfg.pressure.victims,
                                 d_.protection(), impl_->scanner->info(),
                                 [this](Pid pid) { return read_oom_facts(d_.source, pid); });
  return r;
}

void PressureWatcher::kill_next(const engine::PressureSample& s) {
  const auto& cfg = d_.config();
  const auto [scan, order] = rank();
  if (order.ranked.empty()) {
    if (!gentle_done_) {
      d_.log.event(level_enum::err, "pressure", sample_fields(s),
                   "critical memory pressure but no process may be killed (all are protected or "
                   "outside the candidates)");
      gentle_done_ = true;
    }
    return;
  }
  const auto& victim = order.ranked.front();
  const auto& p = scan.snap.processes[victim.index];
  std::string others;
  for (std::size_t k = 1; k < order.ranked.size() && k <= 3; ++k) {
    const auto& o = scan.snap.processes[order.ranked[k].index];
    others += fmt::format("{}#{} pid {} {} ({})", others.empty() ? "" : "; ", k + 1, o.id.pid,
                          o.comm, order.ranked[k].reason);
  }
  auto f = sample_fields(s);
  f.insert(f.begin(), {{"pid", static_cast<long long>(p.id.pid)},
                       {"name", p.comm},
                       {"rss_mib", std::round(p.rss_mb() * 10) / 10},
                       {"cpu", std::round(p.cpu_percent * 10) / 10},
                       {"start_time", static_cast<long long>(p.id.start_time)},
                       {"cmdline", cmdline_of(d_.source, p.id.pid)},
                       {"chosen_because", victim.reason},
                       {"next_candidates", others.empty() ? std::string("none") : others}});
  const std::string what = fmt::format("pid {} {} ({:.0f} MiB) at {}", p.id.pid, p.comm,
                                       p.rss_mb(), sample_text(s));
  killing_ = true;
  auto settle = [this](double seconds, const char* why) {
    impl_->settle.expires_after(std::chrono::duration_cast<steady_clock::duration>(
        std::chrono::duration<double>(seconds)));
    impl_->settle.async_wait([this, why](const boost::system::error_code& ec) {
      if (ec) return;
      killing_ = false;
      boost::system::error_code ignored;
      if (impl_->victim) impl_->victim->cancel(ignored);
      d_.log.note(level_enum::info, std::string("pressure: ") + why + "; re-reading");
      woke_at_ = steady_clock::now();
      evaluate(read_sample(), "after a kill");
    });
  };
  if (d_.dry_run()) {
    d_.log.event(level_enum::warn, "dry-run", f, "would kill " + what);
    d_.recorder.event({d_.wall(), "pressure", "", p.id.pid, p.comm, "kill", std::nullopt,
                       "dry-run: would kill " + what + "; next: " + others});
    settle(2 * cfg.pressure.window, "dry-run pause over");
    return;
  }
  auto fd = act::open_verified_pidfd(d_.source, p.id);
  if (!fd || !act::pidfd_signal(*fd, SIGKILL)) {
    if (fd) ::close(*fd);
    killing_ = false;
    d_.log.event(level_enum::warn, "pressure", f, "victim vanished before the kill; choosing again");
    return;
  }
#ifdef SYS_process_mrelease
  ::syscall(SYS_process_mrelease, *fd, 0);  // reap its memory now; fails harmlessly on old kernels
#endif
  const double delay_ms =
      std::chrono::duration<double, std::milli>(steady_clock::now() - woke_at_).count();
  ++kills_;
  f.push_back({"decision_ms", std::round(delay_ms * 100) / 100});
  d_.log.event(level_enum::err, "oom-kill", f, "killed " + what);
  d_.recorder.event({d_.wall(), "pressure", "", p.id.pid, p.comm, "kill", true,
                     fmt::format("killed {}; chosen because {}; next: {}", what, victim.reason,
                                 others.empty() ? "none" : others)});
  impl_->victim = std::make_unique<asio::posix::stream_descriptor>(d_.io, *fd);
  impl_->victim->async_wait(asio::posix::stream_descriptor::wait_read,
                            [this](const boost::system::error_code& ec) {
                              if (ec) return;
                              impl_->settle.cancel();
                              killing_ = false;
                              woke_at_ = steady_clock::now();
                              evaluate(read_sample(), "victim exited");
                            });
  settle(5, "the victim did not exit within 5 s");
}

void PressureWatcher::gentle(const engine::LevelThresholds& lvl, const engine::PressureSample& s) {
  const auto [scan, order] = rank();
  gentle_done_ = true;
  if (order.ranked.empty()) return;
  const auto& p = scan.snap.processes[order.ranked.front().index];
  engine::Decision d;
  d.rule = "pressure";
  d.action = lvl.action;
  d.entity = p.id;
  d.targets = {{p.id, p.comm, p.cpu_percent, p.rss_mb()}};
  const auto msg = fmt::format("{} pid {} {} at {}", engine::to_string(lvl.action.kind), p.id.pid,
                               p.comm, sample_text(s));
  if (d_.dry_run()) {
    d_.log.event(level_enum::warn, "dry-run", sample_fields(s), "would " + msg);
    return;
  }
  d_.log.event(level_enum::warn, "pressure", sample_fields(s), msg);
  if (lvl.action.kind == engine::ActionKind::kRenice) d_.reversibles.renice(d);
  if (lvl.action.kind == engine::ActionKind::kFreeze) d_.reversibles.freeze(d);
}

}  // namespace freezr::daemon
