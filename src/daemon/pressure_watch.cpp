#include "daemon/pressure_watch.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace freezr::daemon {

namespace asio = boost::asio;
using spdlog::level::level_enum;
using std::chrono::steady_clock;

struct PressureWatcher::Impl {
  explicit Impl(asio::io_context& io) : check(io), settle(io) {}
  // /proc/pressure/memory, armed for "some" and for "full".
  std::vector<std::unique_ptr<asio::posix::stream_descriptor>> triggers;
  asio::steady_timer check;                // adaptive MemAvailable check
  asio::steady_timer settle;               // after a kill: give up waiting, or the dry-run pause
  std::unique_ptr<scan::Scanner> scanner;  // its own scanner: ranking must not disturb the main one
};

PressureWatcher::PressureWatcher(Deps deps)
    : d_(std::move(deps)), impl_(std::make_unique<Impl>(d_.io)) {}

PressureWatcher::~PressureWatcher() { stop(); }

void PressureWatcher::stop() {
  impl_->check.cancel();
  impl_->settle.cancel();
  boost::system::error_code ignored;
  for (auto& t : impl_->triggers) t->cancel(ignored);
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
                       woke_at_ = d_.clock.monotonic();
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
  woke_at_ = d_.clock.monotonic();
  evaluate(engine::pressure_sample(snap.meminfo, snap.memory_pressure), "scan");
}

namespace {
// How long after a victim's exit the pressure is read again (see on_outcome).
constexpr double kSettleAfterKill = 0.25;

std::vector<report::Field> sample_fields(const engine::PressureSample& s) {
  std::vector<report::Field> f = {{"mem_available_percent", s.mem_available_percent}};
  if (s.some_avg10) f.push_back({"psi_some_avg10", *s.some_avg10});
  if (s.full_avg10) f.push_back({"psi_full_avg10", *s.full_avg10});
  if (s.swap_free_percent) f.push_back({"swap_free_percent", *s.swap_free_percent});
  return f;
}

std::string cmdline_of(proc::ProcSource& source, Pid pid) {
  std::string buf;
  if (!source.read_pid_file(pid, "cmdline", buf)) return {};
  auto s = proc::join_cmdline(buf);
  if (s.size() > 200) s = s.substr(0, 200) + "…";
  return s;
}
}  // namespace

void PressureWatcher::evaluate(const engine::PressureSample& s, const char* woke_by) {
  const auto& p = d_.config().pressure;
  std::optional<double> eta;
  if (p.predict_minutes && d_.exhaustion_seconds) eta = d_.exhaustion_seconds();
  const engine::PressureLevels levels{p.warning, p.critical, p.predict_minutes};
  const auto step = engine::advance_pressure(state_, {s, eta, d_.clock.monotonic()}, levels);
  if (step.changed()) log_change(step, s, step.predicted ? "prediction" : woke_by, eta);
  if (step.want == engine::PressureWant::kVictim) {
    act_on_victim(step, s, engine::thresholds_of(levels, step.to));
  }
  if (step.want == engine::PressureWant::kRelease) release();
  schedule_check(s);
}

void PressureWatcher::log_change(const engine::PressureStep& step, const engine::PressureSample& s,
                                 const char* woke_by, std::optional<double> eta) {
  auto f = sample_fields(s);
  f.insert(f.begin(), {{"from", std::string(engine::to_string(step.from))},
                       {"to", std::string(engine::to_string(step.to))},
                       {"woke_by", std::string(woke_by)}});
  auto msg = fmt::format("memory pressure {} → {} ({})", engine::to_string(step.from),
                         engine::to_string(step.to), engine::describe_sample(s));
  if (step.predicted && eta) {
    msg += fmt::format("; memory predicted to reach the critical level in {:.0f} s", *eta);
    f.push_back({"predicted_seconds", std::round(*eta)});
  }
  d_.log.line(step.to > step.from ? level_enum::warn : level_enum::info, "pressure", f, msg);
  d_.writer.event(
      {d_.wall(), "pressure", "", 0, "", engine::to_string(step.to), std::nullopt, msg, {}});
}

void PressureWatcher::schedule_check(const engine::PressureSample& s) {
  const auto& cfg = d_.config();
  const double next =
      engine::pressure_check_interval(s, cfg.pressure.critical, cfg.monitor.interval);
  if (next >= cfg.monitor.interval) return;  // the next scan will look anyway
  impl_->check.expires_after(
      std::chrono::duration_cast<steady_clock::duration>(std::chrono::duration<double>(next)));
  impl_->check.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    woke_at_ = d_.clock.monotonic();
    evaluate(read_sample(), "memory check");
  });
}

void PressureWatcher::evaluate_later(double seconds, const char* why) {
  impl_->settle.expires_after(
      std::chrono::duration_cast<steady_clock::duration>(std::chrono::duration<double>(seconds)));
  impl_->settle.async_wait([this, why](const boost::system::error_code& ec) {
    if (ec) return;
    woke_at_ = d_.clock.monotonic();
    evaluate(read_sample(), why);
  });
}

PressureWatcher::Ranking PressureWatcher::rank() {
  const auto& cfg = d_.config();
  if (!impl_->scanner) impl_->scanner = std::make_unique<scan::Scanner>(d_.source, &cfg.rules);
  impl_->scanner->reset_rules(&cfg.rules, &cfg.categories);
  Ranking r;
  r.scan = impl_->scanner->scan(d_.clock.monotonic());
  r.order = engine::rank_victims(r.scan.snap, r.scan.cls, cfg.rules, cfg.pressure.victims,
                                 d_.protection(), impl_->scanner->info(), [this, &cfg](Pid pid) {
                                   return scan::read_oom_facts(d_.source, pid,
                                                               cfg.pressure.victims.memory_metric);
                                 });
  return r;
}

void PressureWatcher::act_on_victim(const engine::PressureStep& step,
                                    const engine::PressureSample& s,
                                    const engine::LevelThresholds& level) {
  const auto& cfg = d_.config();
  const auto [scan, order] = rank();
  if (order.ranked.empty()) {
    if (!state_.acted) {
      d_.log.line(level_enum::err, "pressure", sample_fields(s),
                  fmt::format("{} memory pressure but no process may be {} (all are protected "
                              "or outside the candidates)",
                              engine::to_string(step.to), engine::to_string(step.action.kind)));
      state_.acted = true;
    }
    return;
  }
  const auto& chosen = order.ranked.front();
  const auto& p = scan.snap.processes[chosen.index];
  Victim v{p.id, sample_fields(s), "", chosen.reason, ""};
  for (std::size_t k = 1; k < order.ranked.size() && k <= 3; ++k) {
    const auto& o = scan.snap.processes[order.ranked[k].index];
    v.others += fmt::format("{}#{} pid {} {} ({})", v.others.empty() ? "" : "; ", k + 1, o.id.pid,
                            o.comm, order.ranked[k].reason);
  }
  if (v.others.empty()) v.others = "none";
  v.fields.insert(v.fields.begin(), {{"pid", static_cast<long long>(p.id.pid)},
                                     {"name", p.comm},
                                     {"rss_mib", std::round(p.rss_mb() * 10) / 10},
                                     {"cpu", std::round(p.cpu_percent * 10) / 10},
                                     {"start_time", static_cast<long long>(p.id.start_time)},
                                     {"cmdline", cmdline_of(d_.source, p.id.pid)},
                                     {"chosen_because", v.because},
                                     {"next_candidates", v.others}});
  v.what = fmt::format("pid {} {} ({:.0f} MiB) at {}", p.id.pid, p.comm, p.rss_mb(),
                       engine::describe_sample(s));
  victim_ = std::move(v);
  const auto d = engine::pressure_decision(
      step, s, level, {p.id, p.comm, p.cpu_percent, p.rss_mb()}, chosen.reason);
  // A kill keeps the responder busy until its outcome comes back (at most 5 s for a real
  // one); in dry-run nothing dies, so it pauses for two trigger windows before choosing again.
  const double busy = d_.dry_run() ? 2 * cfg.pressure.window : 6;
  engine::pressure_acted(state_, step, p.id, d_.clock.monotonic(), busy);
  if (step.action.kind == engine::ActionKind::kKill) {
    evaluate_later(busy, d_.dry_run() ? "dry-run pause over" : "the victim did not exit in time");
  } else if (!d_.dry_run()) {
    d_.log.line(level_enum::warn, "pressure", sample_fields(s),
                fmt::format("{} pid {} {} at {}", engine::to_string(step.action.kind), p.id.pid,
                            p.comm, engine::describe_sample(s)));
  }
  d_.carry_out(d);
}

void PressureWatcher::release() {
  const auto held = *state_.held;
  state_.held.reset();
  d_.carry_out(engine::pressure_release(held));
}

void PressureWatcher::on_outcome(const act::ActionOutcome& o) {
  if (o.action != engine::ActionKind::kKill || !victim_ || !o.target ||
      o.target->id != victim_->id) {
    return;
  }
  const auto& v = *victim_;
  if (o.dry_run) {
    d_.log.line(level_enum::warn, "dry-run", v.fields, "would kill " + v.what);
    d_.writer.event({d_.wall(),
                     "pressure",
                     "",
                     v.id.pid,
                     o.target->comm,
                     "kill",
                     std::nullopt,
                     "dry-run: would kill " + v.what + "; next: " + v.others,
                     {}});
    return;
  }
  if (!o.final && o.ok) {  // SIGKILL sent
    const double delay_ms = (d_.clock.monotonic() - woke_at_) * 1000;
    ++kills_;
    auto f = v.fields;
    f.push_back({"decision_ms", std::round(delay_ms * 100) / 100});
    d_.log.line(level_enum::err, "oom-kill", f, "killed " + v.what);
    d_.writer.event(
        {d_.wall(),
         "pressure",
         "",
         v.id.pid,
         o.target->comm,
         "kill",
         true,
         fmt::format("killed {}; chosen because {}; next: {}", v.what, v.because, v.others),
         {}});
    return;
  }
  if (!o.final) return;
  const bool vanished = !o.ok || o.detail.rfind("already gone", 0) == 0;
  if (vanished) {
    d_.log.line(level_enum::warn, "pressure", v.fields,
                "victim vanished before the kill; choosing again");
  }
  // The kill is over: look again, from the loop. After an exit, a moment later: the memory of
  // a large process is not all accounted free the instant it exits (a shared mm, the oom
  // reaper), and a second kill decided on the old figures is the worst thing a guardian does.
  victim_.reset();
  impl_->settle.cancel();
  if (!vanished) {
    // Busy until then, so that a scan meanwhile cannot decide on the old figures either.
    state_.busy_until = d_.clock.monotonic() + kSettleAfterKill;
    evaluate_later(kSettleAfterKill, "victim exited");
    return;
  }
  state_.busy_until.reset();
  asio::post(d_.io, [this] {
    woke_at_ = d_.clock.monotonic();
    evaluate(read_sample(), "victim vanished");
  });
}

}  // namespace freezr::daemon
