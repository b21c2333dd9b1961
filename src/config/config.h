// Configuration: the TOML model, its loader and validator. Loading throws ConfigError; nothing
// else in FreezR throws for bad input.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/forecast.h"
#include "engine/pressure.h"
#include "engine/rule.h"
#include "engine/thermal.h"
#include "engine/victims.h"

namespace freezr::config {

// A configuration problem with its place: file, 1-based line and column (0 when unknown).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, unsigned line, unsigned column, const std::string& message);
  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] unsigned line() const { return line_; }
  [[nodiscard]] unsigned column() const { return column_; }

 private:
  std::string file_;
  unsigned line_;
  unsigned column_;
};

struct MonitorSettings {
  double interval = 3.0;           // seconds between scans, >= 0.1
  std::string profile;             // the [profile.NAME] used when no other is chosen ("" none)
  bool dry_run = false;            // decide as usual, only log what would be done
  double kill_grace = 5.0;         // seconds between SIGTERM and SIGKILL
  bool freeze_with_cgroup = true;  // freeze_method: "cgroup" (where possible) or "signal"
  bool process_events = true;      // listen to the kernel's process connector
  // With process events, scans between full sweeps read only the processes under rules;
  // every full_scan_every-th scan reads them all (1: every scan is full).
  int full_scan_every = 10;
  // The same while nothing reads the process table (no dashboard, no /api/v1/processes
  // request, no per-process metrics scrape in the last minute): full sweeps only feed it and
  // the history's top consumers, so they are rarer then.
  int unwatched_full_scan_every = 60;
};

// Where FreezR keeps its files when neither the configuration nor a flag says: the directories
// systemd hands a service ($STATE_DIRECTORY, $LOGS_DIRECTORY, $RUNTIME_DIRECTORY), else, for
// root, /var/lib/freezr, /var/log/freezr and /run/freezr; for another user
// $XDG_STATE_HOME/freezr (~/.local/state/freezr), its logs/ and $XDG_RUNTIME_DIR/freezr.
struct Locations {
  std::string state, logs, runtime;
};
Locations default_locations();

struct LoggingSettings {
  std::string dir = default_locations().logs;  // daily files process_monitor.log.YYYY-MM-DD
  bool json = false;                           // format = "json": one JSON object per line
  int keep_days = 14;           // daily files older than this are deleted (0 = keep all)
  int compress_after_days = 2;  // and older than this are gzipped (0 = never)
};

struct StorageSettings {
  std::string dir = default_locations().state;            // the history and the ledger
  std::string runtime_dir = default_locations().runtime;  // the lock and status.json
};

struct HistorySettings {
  bool enabled = true;
  int top = 5;               // top processes by CPU and by memory stored per scan
  double raw_hours = 48;     // per-scan samples kept this long
  double minutes_days = 30;  // per-minute aggregates (min/avg/max) kept this long
  double events_days = 90;   // events kept this long
};

struct HttpSettings {
  bool enabled = true;
  std::string listen = "127.0.0.1:9813";  // host:port; port 0 picks a free one
  std::string token_file;                 // bearer token for control endpoints; "" = off
  int max_connections = 64;
  int per_process_metrics = 0;             // per-process series for the top N processes (0 = none)
  std::vector<std::string> allowed_hosts;  // names a request's Host may give besides
                                           // IP literals, localhost and the listen host
  std::vector<std::string> allowed_origins;  // origins allowed for /ws and control requests
                                             // besides the page's own
  std::string web_config;  // TLS and basic auth users, in Prometheus' web.yml format; "" none
};

struct PressureSettings {
  bool enabled = true;
  double window = 2.0;  // PSI trigger window, seconds
  engine::LevelThresholds warning;
  engine::LevelThresholds critical;
  engine::VictimPolicy victims;
  // Enter the warning level (and do its action, once) when memory is predicted to reach the
  // critical level within this many minutes.
  std::optional<double> predict_minutes;
  // Where the kernel's own OOM kills are read ("" for /proc/vmstat's counter alone).
  std::string kernel_log = "/dev/kmsg";
  PressureSettings();
};

struct PreflightSettings {
  double disk_warn_percent = 90;      // warn above this usage of the log/data filesystems
  double disk_critical_percent = 95;  // above this, file logging keeps only warnings
};

// [[notify.webhook]]: where notices are POSTed.
struct WebhookSettings {
  std::string url;              // http:// or https://
  std::string format = "json";  // "json" (FreezR's document), "ntfy" or "gotify"
  // Which notices: "action", "pressure", "prediction", "lifecycle".
  std::vector<std::string> events = {"action", "pressure", "prediction"};
  std::string headers_file;  // "Name: value" lines sent with every request (secrets)
  std::string ca_file;       // certificates to trust instead of the system's
  double timeout = 5;        // seconds per attempt
  int queue = 1000;          // notices kept while the endpoint is down; the oldest go first
  bool operator==(const WebhookSettings&) const = default;
};

struct NotifySettings {
  std::vector<WebhookSettings> webhooks;
  // Desktop notifications to the graphical sessions logind lists, over each user's session
  // bus (<desktop_runtime_dir>/<uid>/bus).
  bool desktop = false;
  std::string desktop_runtime_dir = "/run/user";
  int desktop_per_minute = 6;  // at most this many notifications a minute for one user
  // Identical notices (same kind, rule, action, process) within this many seconds are sent
  // once: a dry-run decision repeated every scan is not a flood.
  double repeat_after = 60;
  bool operator==(const NotifySettings&) const = default;
};

struct ProtectSettings {
  std::vector<std::string> comm;  // names added to the protected list
  bool defaults = true;           // keep the built-in protected names
};

// [profile.NAME]: a named set of changes to the configuration (rules turned off or on, keys of
// [monitor], [[rule]], [pressure]... overridden), switched while FreezR runs.
struct ProfileSpec {
  std::string name;
  std::string description;
  int priority = 0;  // of several automatic profiles whose condition holds, the highest wins
  std::vector<std::string> disable, enable;  // rules turned off, and on
  // [profile.NAME.when]: chosen automatically while a process matching `running` runs and/or
  // (both must hold when both are given) while the machine runs on battery.
  std::optional<engine::Match> running;
  std::optional<bool> on_battery;
  [[nodiscard]] bool automatic() const { return running.has_value() || on_battery.has_value(); }
};

// The configuration's TOML as read (main file and conf.d merged), kept so that a profile can be
// applied to it while FreezR runs.
struct Document;

struct Config {
  std::string source;               // file path, or "(embedded default)"
  std::vector<std::string> pieces;  // the conf.d files merged after it, in order
  MonitorSettings monitor;
  LoggingSettings logging;
  StorageSettings storage;
  HistorySettings history;
  HttpSettings http;
  PressureSettings pressure;
  engine::PredictSettings predict;
  PreflightSettings preflight;
  ProtectSettings protect;
  NotifySettings notify;
  std::vector<engine::Rule> rules;
  std::vector<engine::ThermalSpec> thermal;
  // The shipped category library with the configuration's own [[category]] tables first.
  std::vector<engine::Category> categories;
  int categories_version = 0;                // version of the shipped library
  std::vector<ProfileSpec> profiles;         // by name
  std::string profile;                       // the one applied to this configuration ("" none)
  std::shared_ptr<const Document> document;  // set when there are profiles
  // Set when sections of the Rust FreezR format were translated; notes say how.
  bool legacy = false;
  std::vector<std::string> notes;

  // The effective protected names: built-ins (unless disabled) plus [protect] comm.
  [[nodiscard]] std::vector<std::string> protected_names() const;
};

inline constexpr const char* kEmbeddedSource = "(embedded default)";

}  // namespace freezr::config

namespace freezr {
// The commented default configuration compiled into the binary.
std::string_view default_config_text();
// packaging/freezr.service, compiled into the binary for `freezr service install`.
std::string_view systemd_unit_text();
// src/config/categories.toml: the shipped category library.
std::string_view categories_text();
}  // namespace freezr

namespace freezr::config {

// Parses and validates TOML text; source names it in errors. Throws ConfigError.
Config parse_config(std::string_view text, const std::string& source);

// Whether the host part of a listen address is a loopback one (127.0.0.0/8, ::1, localhost).
bool loopback_host(const std::string& host);

// Configuration files larger than this are refused.
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;

// Reads and parses a regular file of at most kMaxConfigBytes, merged with the *.toml files of
// the conf.d directory beside it (see conf_d.h). Throws ConfigError (line 0 when
// the file cannot be read: missing, a directory, a FIFO, a device or too large).
Config load_config(const std::string& path);

// The embedded default, parsed.
Config default_config();

// base (as loaded, with no profile applied) with the profile named name applied: its rules
// turned off and on, its sections merged over the configuration's. "" gives base. Throws
// ConfigError for an unknown name (every profile was checked when base was loaded).
Config with_profile(const Config& base, const std::string& name);
// The profile of that name, or null.
const ProfileSpec* find_profile(const Config& c, const std::string& name);

// Renders a configuration as TOML in FreezR's own format (used by `config convert`).
std::string render_config(const Config& config);
// One [[rule]] table, as render_config writes it (starts with a blank line).
std::string render_rule(const engine::Rule& rule);

}  // namespace freezr::config
