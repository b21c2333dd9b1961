#include "daemon/daemon.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>

#include "act/linux_actuator.h"
#include "act/systemd.h"
#include "core/clock.h"
#include "daemon/logging.h"
#include "daemon/scanner.h"
#include "engine/policy.h"
#include "engine/protection.h"
#include "ui/report.h"

namespace freezr::daemon {
namespace {

namespace asio = boost::asio;
using std::chrono::steady_clock;

steady_clock::duration to_duration(double seconds) {
  return std::chrono::duration_cast<steady_clock::duration>(std::chrono::duration<double>(seconds));
}

std::string describe(const engine::TargetInfo& t) {
  return fmt::format("pid={} name=\"{}\" cpu={:.1f}% rss={:.1f}MiB", t.id.pid, t.comm,
                     t.cpu_percent, t.rss_mb);
}

class Daemon {
 public:
  Daemon(config::Config cfg, RunOptions opts)
      : opts_(std::move(opts)),
        cfg_(std::make_unique<config::Config>(std::move(cfg))),
        tick_timer_(io_),
        report_timer_(io_),
        exit_timer_(io_),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        source_(opts_.proc_root),
        scanner_(source_, &cfg_->rules),
        policy_(&cfg_->rules),
        protection_(::getpid(), cfg_->protected_names()),
        services_(io_),
        linux_(io_, source_, services_, cfg_->monitor.kill_grace,
               [this](const act::ActionOutcome& o) { on_outcome(o); }),
        dry_([this](const act::ActionOutcome& o) { on_outcome(o); }) {
    std::string file_error;
    log_ = make_logger(cfg_->logging.dir, &file_error);
    if (!file_error.empty()) {
      log_->warn("file logging is off ({}); logging to stdout only", file_error);
    }
  }

  int run() {
    signals_.add(SIGUSR1);
    started_ = clock_.monotonic();
    log_->info("{}", ui::banner(*cfg_, dry_run()));
    for (const auto& n : cfg_->notes) log_->info("config note: {}", n);
    wait_signal();
    next_tick_ = steady_clock::now();
    tick();
    if (opts_.stats) schedule_report();
    io_.run();
    log_->info("FreezR stopped");
    log_->flush();
    return 0;
  }

 private:
  [[nodiscard]] bool dry_run() const { return opts_.dry_run || cfg_->monitor.dry_run; }
  act::Actuator& actuator() { return dry_run() ? static_cast<act::Actuator&>(dry_) : linux_; }

  void tick() {
    const auto result = scanner_.scan(clock_.monotonic());
    ++checks_;
    load_ = result.snap.loadavg;
    mem_ = result.snap.meminfo;
    protection_.refresh(result.snap);
    if (checks_ == 1) warn_unmatched(result);
    for (const auto& d : policy_.evaluate(result.snap, result.cls, protection_)) handle(d);
    schedule_tick();
  }

  void schedule_tick() {
    if (stopping_) return;
    const auto interval = to_duration(cfg_->monitor.interval);
    next_tick_ += interval;
    const auto now = steady_clock::now();
    if (next_tick_ <= now) {
      log_->warn("scan overran its interval; the next scan starts now");
      next_tick_ = now;
    }
    tick_timer_.expires_at(next_tick_);
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping_) tick();
    });
  }

  void warn_unmatched(const ScanResult& r) {
    for (std::size_t i = 0; i < cfg_->rules.size(); ++i) {
      if (cfg_->rules[i].enabled && r.cls.members[i].empty()) {
        log_->warn("rule '{}' matches no running process (check its match criteria)",
                   cfg_->rules[i].name);
      }
    }
  }

  void handle(const engine::Decision& d) {
    std::string who;
    for (const auto& t : d.targets) who += " " + describe(t);
    switch (d.verdict) {
      case engine::Verdict::kAct:
        log_->warn("VIOLATION rule={} action={}{}{} reason=\"{}\"", d.rule,
                   engine::to_string(d.action),
                   d.service.empty() ? "" : " service=" + d.service, who, d.reason());
        actuator().apply(d);
        return;
      case engine::Verdict::kProtected:
        for (const auto& [t, why] : d.skipped) {
          log_->warn("SKIP rule={} {} reason=\"{}\": protected ({}), not acted on", d.rule,
                     describe(t), d.reason(), why);
        }
        return;
      case engine::Verdict::kCooldown:
        log_->info("COOLDOWN rule={}{} reason=\"{}\": acted less than {:g}s ago, waiting", d.rule,
                   who, d.reason(), cfg_->rules[d.rule_index].cooldown);
        return;
    }
  }

  void on_outcome(const act::ActionOutcome& o) {
    const std::string who = o.target ? " " + describe(*o.target) : " service=" + o.service;
    if (o.dry_run) {
      log_->warn("DRY-RUN rule={} action={}{}: {}", o.rule, engine::to_string(o.action), who,
                 o.detail);
    } else if (!o.ok) {
      ++failed_;
      log_->error("ACTION FAILED rule={} action={}{}: {}", o.rule, engine::to_string(o.action),
                  who, o.detail);
    } else {
      log_->warn("ACTION rule={} action={}{}: {}", o.rule, engine::to_string(o.action), who,
                 o.detail);
      if (o.final && o.action == engine::ActionKind::kKill) ++kills_;
      if (o.final && o.action == engine::ActionKind::kRestart) ++restarts_;
    }
    if (stopping_ && linux_.pending() == 0) io_.stop();
  }

  void wait_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();
      } else if (sig == SIGUSR1) {
        log_->info("{}", ui::statistics_block(totals()));
      } else {
        shutdown(sig);
        return;
      }
      wait_signal();
    });
  }

  void reload() {
    if (!opts_.config_path) {
      log_->info("SIGHUP: running on the embedded default configuration; nothing to reload");
      return;
    }
    try {
      auto next = std::make_unique<config::Config>(config::load_config(*opts_.config_path));
      policy_.reset(&next->rules);
      scanner_.reset_rules(&next->rules);
      protection_ = engine::Protection(::getpid(), next->protected_names());
      cfg_ = std::move(next);
      log_->info("configuration reloaded from {}: {} rules", cfg_->source, cfg_->rules.size());
    } catch (const config::ConfigError& e) {
      log_->error("configuration reload rejected, keeping the running one: {}", e.what());
    }
  }

  void shutdown(int sig) {
    log_->info("received {}; stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    stopping_ = true;
    tick_timer_.cancel();
    report_timer_.cancel();
    signals_.cancel();
    if (linux_.pending() == 0) {
      io_.stop();
      return;
    }
    log_->info("waiting for {} pending action(s) to finish", linux_.pending());
    exit_timer_.expires_after(to_duration(cfg_->monitor.kill_grace + 12));
    exit_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) io_.stop();
    });
  }

  void schedule_report() {
    report_timer_.expires_after(to_duration(opts_.report_interval));
    report_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      log_->info("{}", ui::statistics_block(totals()));
      schedule_report();
    });
  }

  [[nodiscard]] ui::Totals totals() const {
    ui::Totals t;
    t.runtime = clock_.monotonic() - started_;
    t.checks = checks_;
    for (std::size_t i = 0; i < cfg_->rules.size(); ++i) {
      const auto& c = policy_.counters(i);
      t.process_checks += c.checks;
      t.violating_checks += c.violating_checks;
      t.cpu_violations += c.cpu_violations;
      t.memory_violations += c.memory_violations;
      t.cpu_since_action += c.cpu_since_action;
      t.memory_since_action += c.memory_since_action;
    }
    t.restarts = restarts_;
    t.kills = kills_;
    t.failed_actions = failed_;
    t.load = load_;
    t.memory = mem_;
    return t;
  }

  RunOptions opts_;
  std::unique_ptr<config::Config> cfg_;
  asio::io_context io_;
  asio::steady_timer tick_timer_;
  asio::steady_timer report_timer_;
  asio::steady_timer exit_timer_;
  asio::signal_set signals_;
  SystemClock clock_;
  proc::FsProcSource source_;
  Scanner scanner_;
  engine::Policy policy_;
  engine::Protection protection_;
  act::SystemdManager services_;
  act::LinuxActuator linux_;
  act::DryRunActuator dry_;
  std::shared_ptr<spdlog::logger> log_;
  Seconds started_ = 0;
  steady_clock::time_point next_tick_;
  std::uint64_t checks_ = 0, restarts_ = 0, kills_ = 0, failed_ = 0;
  std::optional<proc::LoadAvg> load_;
  std::optional<proc::MemInfo> mem_;
  bool stopping_ = false;
};

}  // namespace

int run(config::Config config, const RunOptions& options) {
  Daemon d(std::move(config), options);
  return d.run();
}

}  // namespace freezr::daemon
