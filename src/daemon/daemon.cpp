#include "daemon/daemon.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <set>
#include <spdlog/sinks/sink.h>

#include "act/cgroups.h"
#include "act/linux_actuator.h"
#include "act/reversible.h"
#include "act/systemd.h"
#include "core/clock.h"

#include "daemon/daemon_support.h"
#include "daemon/discovery.h"
#include "daemon/eventlog.h"
#include "daemon/exec_guard.h"
#include "daemon/events.h"
#include "daemon/foresight.h"
#include "daemon/instance_lock.h"
#include "daemon/logging.h"
#include "daemon/notify.h"
#include "daemon/preflight.h"
#include "daemon/pressure_watch.h"
#include "daemon/publish.h"
#include "daemon/recorder.h"
#include "daemon/retention.h"
#include "daemon/scanner.h"
#include "daemon/status.h"
#include "engine/policy.h"
#include "engine/protection.h"
#include "serve/assets.h"
#include "serve/http_server.h"
#include "serve/routes.h"
#include "store/database.h"
#include "store/history.h"
#include "store/ledger.h"
#include "ui/report.h"

namespace freezr::daemon {
namespace {

namespace asio = boost::asio;
using spdlog::level::level_enum;
using std::chrono::steady_clock;

constexpr double kHousekeepingSeconds = 60;

class Daemon {
 public:
  Daemon(config::Config cfg, RunOptions opts)
      : opts_(std::move(opts)),
        cfg_(std::make_unique<config::Config>(with_overrides(std::move(cfg), opts_))),
        logging_(make_logger(cfg_->logging.dir)),
        log_(logging_.logger, cfg_->logging.json),
        tick_timer_(io_),
        report_timer_(io_),
        housekeeping_timer_(io_),
        watchdog_timer_(io_),
        exit_timer_(io_),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        source_(opts_.proc_root),
        scanner_(source_, &cfg_->rules, &cfg_->categories),
        policy_(&cfg_->rules),
        protection_(::getpid(), cfg_->protected_names()),
        services_(io_),
        ledger_(nullptr),
        cgroups_(cgroup_roots(source_)),
        reversibles_(io_, source_, opts_.proc_root, cgroups_, ledger_,
                     [this](const act::ActionOutcome& o) { on_outcome(o); }),
        linux_(io_, source_, services_, reversibles_, cfg_->monitor.kill_grace,
               [this](const act::ActionOutcome& o) { on_outcome(o); }),
        dry_([this](const act::ActionOutcome& o) { on_outcome(o); }) {}

  int run() {
    signals_.add(SIGUSR1);
    reversibles_.prefer_signals(!cfg_->monitor.freeze_with_cgroup);
    started_ = clock_.monotonic();
    started_wall_ = clock_.wall();
    log_.note(level_enum::info, ui::banner(*cfg_, dry_run()));
    for (const auto& n : cfg_->notes) log_.note(level_enum::info, "config note: " + n);
    if (!preflight()) {
      logging_.logger->flush();
      return 1;
    }
    wait_signal();
    next_tick_ = steady_clock::now();
    tick();
    notify_ready(fmt::format("monitoring {} rules every {:g}s", cfg_->rules.size(),
                             cfg_->monitor.interval));
    if (opts_.stats) schedule_report();
    schedule_housekeeping();
    schedule_watchdog();
    io_.run();
    recorder_.event({clock_.wall(), "lifecycle", "", ::getpid(), "freezr", "stop", true,
                     "FreezR stopped"});
    recorder_.flush(clock_.wall());
    log_.note(level_enum::info, "FreezR stopped");
    logging_.logger->flush();
    return 0;
  }

 private:
  [[nodiscard]] bool dry_run() const { return opts_.dry_run || cfg_->monitor.dry_run; }
  act::Actuator& actuator() { return dry_run() ? static_cast<act::Actuator&>(dry_) : linux_; }

  bool preflight() {
    Preflight pf(log_);
    if (logging_.file_error.empty()) {
      auto r = ensure_writable_dir(cfg_->logging.dir);
      pf.check(r.ok(), "log directory", cfg_->logging.dir + ": " + (r ? *r : r.error().message));
    } else {
      pf.check(false, "log directory", "file logging is off (" + logging_.file_error + ")");
    }
    auto lock = pf.data_dir_and_lock(cfg_->storage.dir, opts_.replace,
                                     cfg_->monitor.kill_grace + 20);
    if (!lock) return false;
    lock_ = std::move(*lock);
    preflight_warnings_ = 0;
    check_disks(true);
    pf.system_health(source_);
    open_database(pf);
    pf.check(true, "cgroups", cgroups_.describe());
    for (const auto& line : reversibles_.recover()) pf.check(true, "leftovers", line);
    if (!start_http(pf)) return false;
    pressure_ = std::make_unique<PressureWatcher>(PressureWatcher::Deps{
        io_, source_, opts_.proc_root, log_, recorder_, reversibles_,
        [this]() -> const config::Config& { return *cfg_; },
        [this]() -> const engine::Protection& { return protection_; }, [this] { return dry_run(); },
        [this] { return clock_.wall(); },
        [this]() -> std::optional<double> {
          const auto& e = foresight_.forecaster().exhaustion();
          return e ? std::optional<double>(e->seconds) : std::nullopt;
        }});
    pf.check(true, "pressure", pressure_->start());
    start_process_events(pf);
    pf.capabilities();
    pf.summary(preflight_warnings_);
    recorder_.event({clock_.wall(), "lifecycle", "", ::getpid(), "freezr", "start", true,
                     "FreezR " + std::string(ui::kVersion) + " started with " + cfg_->source});
    run_retention();
    return true;
  }

  // The history and ledger file. Without it the ledger lives in memory: freezes are still
  // undone on a clean exit, but not after a crash.
  void open_database(Preflight& pf) {
    std::string note;
    auto db = store::Database::open(cfg_->storage.dir + "/freezr.db", false, &note);
    if (!note.empty()) pf.check(false, "database", note);
    if (!db) {
      pf.check(false, "database", db.error().message + "; the freeze ledger is kept in memory");
      return;
    }
    db_ = std::move(db).value();
    ledger_ = store::Ledger(db_.get());
    pf.check(true, "database", db_->path() + " (schema " +
                                   std::to_string(db_->schema_version()) + ")");
    if (cfg_->history.enabled) {
      history_ = std::make_unique<store::History>(*db_);
      recorder_ = Recorder(history_.get(), cfg_->history,
                           [this](const std::string& w) { log_.note(level_enum::warn, w); });
      recorder_.prune(clock_.wall());
    }
  }

  void start_process_events(Preflight& pf) {
    if (!cfg_->monitor.process_events) {
      pf.check(true, "process events", "off ([monitor] process_events = false): new processes "
                                       "are found by scanning alone");
      return;
    }
    const auto err = discovery_.start();
    pf.check(!err, "process events",
             err ? fmt::format("unavailable ({}; needs CAP_NET_ADMIN in the host's network "
                               "namespace): new processes are found by scanning every {:g}s",
                               *err, cfg_->monitor.interval)
                 : std::string("subscribed to the kernel's process connector: exec and rename "
                               "are seen at once"));
  }

  // The HTTP server, when enabled. A port that cannot be bound disables it with a warning;
  // an unsafe token file stops FreezR.
  bool start_http(Preflight& pf) {
    if (!cfg_->http.enabled) return true;
    if (!cfg_->http.token_file.empty()) {
      auto t = read_token(cfg_->http.token_file);
      if (!t) {
        log_.event(level_enum::err, "preflight", {{"check", std::string("http token")}, {"ok", false}},
                   t.error().message);
        return false;
      }
      token_ = *t;
    }
    serve::ApiContext ctx;
    ctx.state = [this] { return state_; };
    ctx.token = token_;
    ctx.history_path = db_ && history_ ? db_->path() : std::string();
    ctx.per_process_metrics = cfg_->http.per_process_metrics;
    ctx.now = [this] { return clock_.wall(); };
    ctx.asset = serve::dashboard_asset;
    ctx.thaw = [this](std::optional<Pid> pid) {
      const auto pids = reversibles_.thaw(pid);
      if (pid && pids.empty()) throw std::runtime_error("PID is not frozen by FreezR");
      return nlohmann::json{{"thawed", pids}};
    };
    ctx.reload = [this] {
      const bool ok = reload();
      return nlohmann::json{{"reloaded", ok}};
    };
    serve::ServerLimits limits;
    limits.max_connections = cfg_->http.max_connections;
    http_ = std::make_unique<serve::HttpServer>(
        io_, [ctx](const serve::Request& r) { return serve::route(r, ctx); }, limits);
    auto bound = http_->start(cfg_->http.listen);
    if (!bound) {
      pf.check(false, "http", bound.error().message + "; HTTP is off, monitoring continues");
      http_.reset();
      return true;
    }
    http_address_ = *bound;
    pf.check(true, "http", "listening on " + *bound + (token_.empty() ? "" : " (control endpoints on)"));
    return true;
  }

  // Disk usage of the log and data filesystems. Above the critical level the file sink keeps
  // only warnings; one line when entering and one when leaving that state.
  void check_disks(bool at_start) {
    double worst = 0;
    for (const auto& dir : std::set<std::string>{cfg_->logging.dir, cfg_->storage.dir}) {
      auto u = disk_usage(dir);
      if (!u) continue;
      worst = std::max(worst, u->used_percent);
      if (at_start) {
        const bool ok = u->used_percent <= cfg_->preflight.disk_warn_percent;
        if (!ok) ++preflight_warnings_;
        log_.event(ok ? level_enum::info : level_enum::warn, "preflight",
                   {{"check", std::string("disk space")}, {"ok", ok}},
                   fmt::format("{}: {:.1f}% used, {:.1f} MiB free", dir, u->used_percent,
                               static_cast<double>(u->free_bytes) / kMiB));
      }
    }
    const bool critical = worst > cfg_->preflight.disk_critical_percent;
    if (critical == degraded_) return;
    degraded_ = critical;
    if (logging_.file) {
      logging_.file->set_level(critical ? level_enum::warn : level_enum::trace);
    }
    log_.event(critical ? level_enum::warn : level_enum::info, "disk",
               {{"used_percent", worst}, {"critical_percent", cfg_->preflight.disk_critical_percent}},
               critical ? "disk almost full: files keep only warnings; monitoring continues"
                        : "disk space recovered: full file logging again");
  }

  void run_retention() {
    if (!logging_.file) return;
    int removed = 0, compressed = 0;
    for (const auto& p : apply_retention(cfg_->logging.dir, today(), cfg_->logging.keep_days,
                                         cfg_->logging.compress_after_days, &removed,
                                         &compressed)) {
      log_.event(level_enum::warn, "retention", {}, p);
    }
    if (removed + compressed > 0) {
      log_.event(level_enum::info, "retention",
                 {{"deleted", static_cast<long long>(removed)},
                  {"compressed", static_cast<long long>(compressed)}},
                 "old daily log files handled");
    }
  }

  void tick() {
    const auto t0 = steady_clock::now();
    const auto result = discovery_.scan(clock_.monotonic(), cfg_->monitor.full_scan_every);
    ++checks_;
    load_ = result.snap.loadavg;
    mem_ = result.snap.meminfo;
    protection_.refresh(result.snap);
    if (checks_ == 1) warn_unmatched(result);
    exec_guard_.on_scan(result);
    const double wall = clock_.wall();
    foresight_.observe(result, *cfg_, wall);
    for (const auto& d :
         policy_.evaluate(result.snap, result.cls, protection_, &foresight_.forecaster())) {
      log_decision(log_, d, cfg_->rules[d.rule_index].steps[d.step].cooldown);
      recorder_.decision(wall, d);
      if (d.verdict == engine::Verdict::kAct || d.verdict == engine::Verdict::kRelease) {
        actuator().apply(d);
      }
    }
    recorder_.transitions(wall, policy_.transitions());
    if (pressure_) pressure_->on_scan(result.snap);
    recorder_.scan(wall, result.snap, result.cls, cfg_->rules, policy_, degraded_, result.full);
    const auto status = write_status();
    const double took = std::chrono::duration<double>(steady_clock::now() - t0).count();
    scan_seconds_total_ += took;
    publish(result, status, took);
    schedule_tick();
  }

  void publish(const ScanResult& result, nlohmann::json status, double took) {
    PublishInput in;
    in.scan = &result;
    in.rules = &cfg_->rules;
    in.categories = &cfg_->categories;
    in.policy = &policy_;
    in.status = std::move(status);
    in.actions = action_counts_;
    in.frozen = reversibles_.frozen();
    in.now_wall = clock_.wall();
    in.started_wall = started_wall_;
    in.dry_run = dry_run();
    in.interval = cfg_->monitor.interval;
    in.scans = checks_;
    in.last_scan_seconds = took;
    in.scan_seconds_total = scan_seconds_total_;
    std::tie(in.self_cpu_seconds, in.self_rss_bytes) = self_usage(source_);
    in.control = !token_.empty();
    in.predictions = foresight_.to_json();
    state_ = build_state(std::move(in));
    if (http_ && http_->ws_clients() > 0) {
      http_->broadcast(live_update(*state_, recorder_.take_feed()));
    } else {
      recorder_.take_feed();
    }
  }

  void schedule_tick() {
    if (stopping_) return;
    next_tick_ += to_duration(cfg_->monitor.interval);
    const auto now = steady_clock::now();
    if (next_tick_ <= now) {
      log_.note(level_enum::warn, "scan overran its interval; the next scan starts now");
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
        log_.note(level_enum::warn, "rule '" + cfg_->rules[i].name +
                                        "' matches no running process (check its match criteria)");
      }
    }
  }

  nlohmann::json write_status() {
    StatusInput in;
    in.pid = ::getpid();
    in.dry_run = dry_run();
    in.started_wall = started_wall_;
    in.now_wall = clock_.wall();
    in.interval = cfg_->monitor.interval;
    in.config_source = cfg_->source;
    in.degraded_logging = degraded_;
    in.http = http_address_;
    if (pressure_) {
      in.pressure_level = engine::to_string(pressure_->level());
      in.pressure_mode = pressure_->mode();
      in.pressure_kills = pressure_->kills();
    }
    in.totals = totals();
    for (std::size_t i = 0; i < cfg_->rules.size(); ++i) {
      const auto& r = cfg_->rules[i];
      const auto* first = r.steps.empty() ? nullptr : &r.steps[0];
      in.rules.push_back({r.name, engine::action_summary(r),
                          first ? first->cpu_percent : std::nullopt,
                          first ? first->memory_mb : std::nullopt, r.enabled, policy_.streak(i),
                          policy_.counters(i)});
    }
    auto doc = status_json(in);
    const auto err = write_atomically(cfg_->storage.dir + "/status.json", doc.dump(2) + "\n");
    if (!err.empty() && !status_error_reported_) {
      log_.note(level_enum::warn, "status snapshot not written: " + err + " (said once)");
    }
    status_error_reported_ = !err.empty();
    return doc;
  }

  void on_outcome(const act::ActionOutcome& o) {
    log_outcome(log_, o);
    recorder_.outcome(clock_.wall(), o);
    if (o.final || !o.ok) {
      const char* outcome = o.dry_run ? "dry_run" : o.ok ? "ok" : "failed";
      const std::string action = std::string(o.undo ? "undo_" : "") + engine::to_string(o.action);
      ++action_counts_[{o.rule, action, outcome}];
    }
    if (!o.dry_run && !o.ok) ++failed_;
    if (!o.dry_run && o.ok && o.final && o.action == engine::ActionKind::kKill) ++kills_;
    if (!o.dry_run && o.ok && o.final && o.action == engine::ActionKind::kRestart) ++restarts_;
    if (!o.dry_run && o.ok && !o.undo && o.action == engine::ActionKind::kFreeze) ++freezes_;
    if (!o.dry_run && o.ok && !o.undo && o.action == engine::ActionKind::kThrottle) ++throttles_;
    if (!o.dry_run && o.ok && !o.undo && o.action == engine::ActionKind::kRenice) ++renices_;
    if (stopping_ && linux_.pending() == 0) io_.stop();
  }

  void wait_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();
      } else if (sig == SIGUSR1) {
        log_.note(level_enum::info, ui::statistics_block(totals()));
      } else {
        shutdown(sig);
        return;
      }
      wait_signal();
    });
  }

  bool reload() {
    if (!opts_.config_path) {
      log_.note(level_enum::info,
                "reload: running on the embedded default configuration; nothing to reload");
      return false;
    }
    notify_reloading();
    try {
      auto next = std::make_unique<config::Config>(
          with_overrides(config::load_config(*opts_.config_path), opts_));
      next->logging.dir = cfg_->logging.dir;  // directories and the lock stay until restart
      next->storage.dir = cfg_->storage.dir;
      policy_.reset(&next->rules);
      scanner_.reset_rules(&next->rules, &next->categories);
      protection_ = engine::Protection(::getpid(), next->protected_names());
      cfg_ = std::move(next);
      foresight_.reset(*cfg_);
      exec_guard_.reset();
      discovery_.force_full();
      reversibles_.prefer_signals(!cfg_->monitor.freeze_with_cgroup);
      const auto msg = fmt::format("configuration reloaded from {}: {} rules", cfg_->source,
                                   cfg_->rules.size());
      log_.event(level_enum::info, "reload",
                 {{"config", cfg_->source}, {"rules", static_cast<long long>(cfg_->rules.size())}},
                 msg);
      recorder_.event({clock_.wall(), "lifecycle", "", ::getpid(), "freezr", "reload", true, msg});
      notify_ready("configuration reloaded");
      return true;
    } catch (const config::ConfigError& e) {
      const std::string msg =
          std::string("configuration reload rejected, keeping the running one: ") + e.what();
      log_.event(level_enum::err, "reload", {{"ok", false}}, msg);
      recorder_.event({clock_.wall(), "lifecycle", "", ::getpid(), "freezr", "reload", false, msg});
      notify_ready("configuration reload rejected");
      return false;
    }
  }

  void shutdown(int sig) {
    notify_stopping();
    log_.note(level_enum::info,
              fmt::format("received {}; stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
    stopping_ = true;
    for (auto* t : {&tick_timer_, &report_timer_, &housekeeping_timer_, &watchdog_timer_}) {
      t->cancel();
    }
    signals_.cancel();
    discovery_.stop();
    if (http_) http_->stop();
    if (pressure_) pressure_->stop();
    if (const int undone = reversibles_.undo_all(); undone > 0) {
      log_.note(level_enum::info, fmt::format("undid {} renice/throttle/freeze action(s)", undone));
    }
    if (linux_.pending() == 0) {
      io_.stop();
      return;
    }
    log_.note(level_enum::info,
              fmt::format("waiting for {} pending action(s) to finish", linux_.pending()));
    exit_timer_.expires_after(to_duration(cfg_->monitor.kill_grace + 12));
    exit_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) io_.stop();
    });
  }

  void schedule_report() {
    report_timer_.expires_after(to_duration(opts_.report_interval));
    report_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      log_.note(level_enum::info, ui::statistics_block(totals()));
      schedule_report();
    });
  }

  void schedule_housekeeping() {
    housekeeping_timer_.expires_after(to_duration(kHousekeepingSeconds));
    housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      check_disks(false);
      if (++housekeeping_rounds_ % 60 == 0) {  // hourly
        run_retention();
        recorder_.prune(clock_.wall());
      }
      schedule_housekeeping();
    });
  }

  void schedule_watchdog() {
    const auto period = watchdog_period();
    if (!period) return;
    notify_watchdog();
    watchdog_timer_.expires_after(to_duration(*period));
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping_) schedule_watchdog();
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
    t.freezes = freezes_;
    t.throttles = throttles_;
    t.renices = renices_;
    t.failed_actions = failed_;
    t.load = load_;
    t.memory = mem_;
    return t;
  }

  RunOptions opts_;
  std::unique_ptr<config::Config> cfg_;
  Logging logging_;
  EventLog log_;
  asio::io_context io_;
  asio::steady_timer tick_timer_, report_timer_, housekeeping_timer_, watchdog_timer_,
      exit_timer_;
  asio::signal_set signals_;
  SystemClock clock_;
  proc::FsProcSource source_;
  Scanner scanner_;
  engine::Policy policy_;
  engine::Protection protection_;
  act::SystemdManager services_;
  std::unique_ptr<store::Database> db_;
  store::Ledger ledger_;
  act::Cgroups cgroups_;
  act::Reversibles reversibles_;
  act::LinuxActuator linux_;
  act::DryRunActuator dry_;
  InstanceLock lock_;
  std::unique_ptr<store::History> history_;
  Recorder recorder_{nullptr, {}, {}};
  Foresight foresight_{*cfg_, log_, recorder_};
  ExecGuard exec_guard_{{source_, log_, recorder_, [this]() -> const config::Config& { return *cfg_; },
                         [this]() -> proc::InfoSource& { return scanner_.info(); },
                         [this]() -> const engine::Protection& { return protection_; },
                         [this]() -> act::Actuator& { return actuator(); },
                         [this] { return clock_.wall(); }}};
  Discovery discovery_{io_, scanner_, exec_guard_};
  std::unique_ptr<serve::HttpServer> http_;
  std::string token_;
  std::string http_address_;
  std::shared_ptr<const serve::State> state_;
  std::unique_ptr<PressureWatcher> pressure_;
  serve::ActionCounts action_counts_;
  double scan_seconds_total_ = 0;
  Seconds started_ = 0;
  double started_wall_ = 0;
  steady_clock::time_point next_tick_;
  std::uint64_t checks_ = 0, restarts_ = 0, kills_ = 0, failed_ = 0;
  std::uint64_t freezes_ = 0, throttles_ = 0, renices_ = 0;
  std::optional<proc::LoadAvg> load_;
  std::optional<proc::MemInfo> mem_;
  int preflight_warnings_ = 0;
  unsigned housekeeping_rounds_ = 0;
  bool degraded_ = false;
  bool status_error_reported_ = false;
  bool stopping_ = false;
};

}  // namespace

int run(config::Config config, const RunOptions& options) {
  Daemon d(std::move(config), options);
  return d.run();
}

}  // namespace freezr::daemon
