// The Daemon: the composition root of scanner, policy, predictors and actuators, and the
// event loop that drives them. Internal to src/daemon: daemon_start.cpp holds start-up
// (pre-flight checks, database, HTTP, process events), daemon.cpp the loop.
#pragma once

#include <spdlog/sinks/sink.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <map>
#include <set>

#include "act/cgroups.h"
#include "act/linux_actuator.h"
#include "act/reversible.h"
#include "act/systemd.h"
#include "config/profile_choice.h"
#include "core/clock.h"
#include "daemon/daemon.h"
#include "daemon/discovery.h"
#include "daemon/exec_watch.h"
#include "daemon/kernel_oom.h"
#include "daemon/preflight.h"
#include "daemon/pressure_watch.h"
#include "daemon/setup.h"
#include "engine/exec_rules.h"
#include "engine/policy.h"
#include "engine/protection.h"
#include "notify/notifier.h"
#include "os/code_pages.h"
#include "os/instance_lock.h"
#include "os/journal.h"
#include "os/log_retention.h"
#include "os/logging.h"
#include "os/notify.h"
#include "proc/thermal_sensors.h"
#include "report/decision_log.h"
#include "report/history_writer.h"
#include "report/live_state.h"
#include "report/log_lines.h"
#include "report/predictions.h"
#include "scan/scanner.h"
#include "serve/admission.h"
#include "serve/assets.h"
#include "serve/http_server.h"
#include "serve/routes.h"
#include "serve/status.h"
#include "store/database.h"
#include "store/history.h"
#include "store/ledger.h"
#include "ui/report.h"

namespace freezr::daemon::detail {

namespace asio = boost::asio;
using spdlog::level::level_enum;
using std::chrono::steady_clock;

inline constexpr double kHousekeepingSeconds = 60;
inline constexpr double kBatterySeconds = 10;  // how often the power supply is read
// How long after a read of the process table (dashboard, API, per-process metrics) it counts
// as watched: full sweeps every full_scan_every scans, not unwatched_full_scan_every.
inline constexpr double kReaderSeconds = 60;
// How far apart process events are read while no rule acts at exec: a burst of program starts
// costs one wake-up, and the next scan sees them all the same.
inline constexpr double kEventBatchSeconds = 0.1;
inline double event_batch_seconds(const config::Config& cfg) {
  return engine::acts_at_exec(cfg.rules) ? 0 : kEventBatchSeconds;
}

class Daemon {
 public:
  Daemon(config::Config cfg, RunOptions opts);

  int run();

 private:
  [[nodiscard]] bool dry_run() const { return opts_.dry_run || cfg_->monitor.dry_run; }
  act::Actuator& actuator() { return dry_run() ? static_cast<act::Actuator&>(dry_) : linux_; }

  bool preflight();
  // Under a cgroup systemd delegates to FreezR's unit, its groups go there (act::Cgroups).
  void delegate_cgroups(const std::string& own_cgroup);

  // The history database (the ledger has its own file in the data directory, so a damaged
  // history never loses a freeze); entries an older FreezR kept in the database move there.
  void open_database(Preflight& pf);

  void start_process_events(Preflight& pf);
  // What a reload cannot change while FreezR runs (addresses, files, directories), one line
  // per setting next changes: said, not silently dropped.
  // Whether next asks for another HTTP server (address, token, TLS, limits); restart_http
  // replaces the running one with it.
  [[nodiscard]] bool http_changed(const config::Config& next) const;
  void restart_http();
  [[nodiscard]] std::vector<std::string> settings_kept_until_restart(
      const config::Config& next) const;
  // What the routes may read and call of the daemon.
  serve::ApiContext api_context();
  // [http] max_connections, lowered (with a warning) to what the open-file limit allows.
  int connection_cap(Preflight& pf);
  // The web configuration's basic auth users and client certificate rule, into access_.
  void take_web_config(const std::optional<serve::WebConfig>& web);
  // On SIGHUP: the web configuration read again (renewed certificates for new connections).
  // A line for the log, or "" without one.
  std::string reload_web_config();

  // The HTTP server, when enabled. A port that cannot be bound disables it with a warning;
  // an unsafe token file stops FreezR.
  bool start_http(Preflight& pf);
  void keep_stat_files(Preflight& pf);

  // Disk usage of the log and data filesystems. Above the critical level the file sink keeps
  // only warnings; one line when entering and one when leaving that state.
  void check_disks(bool at_start);

  void run_retention();

  void tick();
  // How many scans apart full sweeps are now: fewer while nothing reads the process table.
  int sweep_every();
  // Notes a request that reads the process table (any thread).
  void note_reader(const serve::Request& r);

  // The state is published after each scan; it lists every process only while something
  // reads them (watched_), else the first reader has them listed from the last scan.
  void publish(const scan::ScanResult& result, double took);
  std::shared_ptr<const serve::State> state_with_processes();

  void schedule_tick();

  void warn_unmatched(const scan::ScanResult& r);

  void write_status(const serve::State& state);

  // The one path every decision takes, whatever made it (rules, on_exec, memory pressure):
  // recorded with its reason (for `freezr why`), then carried out by the actuator in force.
  void carry_out(const engine::Decision& d);

  void on_outcome(const act::ActionOutcome& o);
  // A notice for each action a leak's prediction says is coming (once while it lasts).
  void notify_predictions();
  // Sets up the webhooks and what they hear of (pressure levels, lifecycle events).
  void start_notify(Preflight& pf);
  // Runs one desktop notification as its user; a "Thaw now" chosen thaws the process.
  void show_on_desktop(const notify::DesktopLaunch& l);
  // The notice of an outcome, with the target's user (recorded when the decision was carried
  // out: a killed process has no /proc entry left to ask).
  notify::Notice notice_of(const act::ActionOutcome& o);
  // Runs a step's before or after hook (when: "before", "after") for the outcome o; then, when
  // given, calls next (also when the hook failed: a hook never stops its action).
  void run_hook(const char* when, const engine::Command& c, const act::ActionOutcome& o,
                act::Environment env, std::function<void()> next = {});

  // A kill by the kernel's OOM killer: an event and a warning, with whom FreezR's victim order
  // puts first now.
  void on_kernel_kill(const KernelKill& k, const scan::ScanResult& r);
  // The [[thermal]] sections' sensors at start-up, one pre-flight line each.
  void start_thermal(Preflight& pf);
  // Reads the sections' sensors and carries out what they call for.
  void cool_down(const scan::ScanResult& r);
  [[nodiscard]] std::vector<serve::ThermalRow> thermal_rows() const;

  void wait_signal();

  bool reload();
  // Puts next in force (after a reload, or for another profile): the rules, the scanner's and
  // the policy's view of them, protection, notifications, predictions, thermal sections. The
  // directories stay until a restart.
  void adopt(std::unique_ptr<config::Config> next);

  // Profiles (daemon_profile.cpp). base with the profile named name applied, with the flags'
  // overrides.
  [[nodiscard]] std::unique_ptr<config::Config> configured(const config::Config& base,
                                                           const std::string& name) const;
  // At start: the choice kept in the data directory, and the profile it gives before any scan.
  void start_profile();
  // The profile base should run under now (the choice, the last scan's processes, the power).
  [[nodiscard]] config::ChosenProfile wanted_profile(const config::Config& base);
  // Whether a process of the last scan matches m: its name and PID.
  [[nodiscard]] std::optional<std::string> running(const engine::Match& m);
  // After a scan (a light one sees the processes started since the last one too): switches to
  // the profile that should be in force when another is.
  void follow_profile();
  // Switches to chosen when another profile is in force; whether it did.
  bool switch_profile(const config::ChosenProfile& chosen);
  // The power supply, when a profile's condition needs it.
  void read_battery();
  // The line, the event and the counters of a switch from `from` to chosen.
  void profile_switched(const std::string& from, const config::ChosenProfile& chosen);
  // The published state and the status snapshot show the profile now, not after the next scan.
  void show_profile();
  // A user's choice (PUT /api/v1/profile, SIGUSR2): kept in the data directory, then followed.
  // Fails for an unknown name.
  Result<void> choose(const config::ProfileChoice& choice);
  // On SIGUSR2: the choice file `freezr profile` wrote, read and followed.
  void reread_choice();
  [[nodiscard]] serve::ProfileRow profile_row() const;

  void shutdown(int sig);

  void schedule_report();

  void schedule_housekeeping();

  void schedule_watchdog();

  [[nodiscard]] engine::Totals totals() const;

  RunOptions opts_;
  std::shared_ptr<const config::Config> base_;  // as loaded (and overridden), no profile
  std::unique_ptr<config::Config> cfg_;         // in force: base_ with the profile applied
  bool journal_ = false;  // under systemd: lines to the journal, with their fields
  os::Logging logging_;
  report::LogLines log_;
  asio::io_context io_;
  asio::steady_timer tick_timer_, report_timer_, housekeeping_timer_, watchdog_timer_, exit_timer_;
  asio::signal_set signals_;
  SystemClock clock_;
  proc::FsProcSource source_;
  scan::Scanner scanner_;
  engine::Policy policy_;
  engine::Protection protection_;
  act::SystemdManager services_;
  std::unique_ptr<store::Database> db_;
  store::Ledger ledger_;
  act::Cgroups cgroups_;
  act::LinuxProcessControl control_;
  act::Reversibles reversibles_;
  act::CommandRunner commands_;  // the exec action, before and after hooks
  notify::Notifier notifier_;
  std::set<std::pair<std::string, Pid>> warned_leaks_;
  std::map<ProcessId, std::uint32_t> target_uids_;  // of the targets of actions under way
  act::LinuxActuator linux_;
  act::DryRunActuator dry_;
  std::optional<fs::Directory> data_dir_;     // opened and checked at start-up
  std::optional<fs::Directory> runtime_dir_;  // the lock's and status.json's
  os::InstanceLock lock_;
  std::unique_ptr<store::History> history_;
  report::HistoryWriter writer_{nullptr, {}, {}};
  report::Predictions predictions_{*cfg_, log_, writer_};
  ExecWatch exec_watch_{{source_, log_, [this]() -> const config::Config& { return *cfg_; },
                         [this]() -> proc::InfoSource& { return scanner_.info(); },
                         [this](const ProcessId& id) { scanner_.forget(id); },
                         [this]() -> const engine::Protection& { return protection_; },
                         [this](const engine::Decision& d) { carry_out(d); }}};
  Discovery discovery_{io_, scanner_, exec_watch_};
  std::unique_ptr<serve::HttpServer> http_;
  std::shared_ptr<serve::AccessPolicy> access_;  // read by the server's gate at each request
  std::string token_;
  std::string own_unit_;  // FreezR's own systemd unit: never restarted by a rule
  std::string http_address_;
  std::shared_ptr<const serve::State> state_;
  std::unique_ptr<PressureWatcher> pressure_;
  KernelOomWatch kernel_oom_;
  proc::ThermalSensors sensors_{opts_.sys_root};
  engine::ThermalResponder thermal_{&cfg_->thermal};
  std::vector<std::optional<double>> temperatures_;  // of each [[thermal]] section, last scan
  serve::ActionCounts action_counts_;
  double scan_seconds_total_ = 0;
  serve::Histogram scan_durations_{
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}, {}, 0, 0};
  config::ProfileChoice choice_;  // a user's, from the data directory
  config::ChosenProfile chosen_;  // in force, and why
  double profile_since_ = 0;
  std::uint64_t profile_switches_ = 0;
  std::optional<bool> on_battery_;  // read at most every kBatterySeconds
  Seconds battery_read_ = -1e9;
  bool last_reload_ok_ = true;
  double last_reload_success_ = 0;  // the start, until a reload succeeds
  Seconds started_ = 0;
  double started_wall_ = 0;
  steady_clock::time_point next_tick_;
  std::uint64_t checks_ = 0, restarts_ = 0, kills_ = 0, failed_ = 0;
  std::uint64_t full_scans_ = 0;
  std::atomic<double> table_read_{-1e9};  // monotonic seconds of the last process-table read
  bool watched_ = false;                  // at the last scan
  engine::RuleCounters retired_;          // counts of rules a reload changed or removed
  std::uint64_t freezes_ = 0, throttles_ = 0, renices_ = 0;
  std::optional<proc::LoadAvg> load_;
  std::optional<proc::MemInfo> mem_;
  int preflight_warnings_ = 0;
  unsigned housekeeping_rounds_ = 0;
  bool degraded_ = false;
  bool status_error_reported_ = false;
  bool stopping_ = false;
};

}  // namespace freezr::daemon::detail
