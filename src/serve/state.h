// State: what readers (HTTP, WebSocket, dashboards) see, published once per scan as an
// immutable shared_ptr<const State>.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/types.h"
#include "engine/forecast.h"
#include "engine/totals.h"
#include "proc/parse.h"
#include "proc/placement.h"

namespace freezr::serve {

struct ProcessRow {
  Pid pid = 0;
  std::string comm;
  double cpu = 0;  // percent of one core
  double rss_mib = 0;
  std::string rule;  // first rule the process falls under, or empty
  int streak = 0;
  std::string category;  // from the category library, or empty
  // Read only for the processes of rules that use them: disk I/O in bytes per second, and
  // the proportional set and swap from smaps_rollup.
  std::optional<double> io_read_bps, io_write_bps;
  std::optional<double> pss_mib, swap_mib;
  std::shared_ptr<const proc::Placement> place;  // where it lives; null when not known
};

// One step of a rule's ladder, and the longest streak towards it now.
struct StepRow {
  std::string action;
  std::optional<double> cpu_threshold, memory_threshold;
  int violations = 0;   // needed
  int streak = 0;       // reached
  double duration = 0;  // of a freeze, seconds
  int window = 0;       // "violations of the last window scans"; 0: in a row
  std::optional<double> io_read_threshold, io_write_threshold;       // MiB per second
  std::optional<double> cpu_pressure, io_pressure, memory_pressure;  // gates, percent
};

struct RuleRow {
  std::string name;
  std::string action;                   // "kill", ..., or "ladder"
  std::optional<double> cpu_threshold;  // of the first step
  std::optional<double> memory_threshold;
  bool enabled = true;
  std::size_t processes = 0;
  double cpu = 0;
  double rss_mib = 0;
  int streak = 0;
  std::uint64_t checks = 0, violating_checks = 0, cpu_violations = 0, memory_violations = 0;
  std::uint64_t io_violations = 0, pressure_violations = 0;
  std::string memory_metric = "rss";
  // Disk I/O of its processes, summed, bytes per second: for rules with I/O thresholds only.
  std::optional<double> io_read_bps, io_write_bps;
  std::uint64_t actions = 0;
  std::vector<StepRow> steps;
  int highest_tried = -1;                 // the highest step that has acted for an entity now
  double cpu_seconds = 0;                 // CPU time of its processes, summed scan by scan
  std::vector<std::string> action_kinds;  // what it can do: its steps' and on_exec's actions
};

// A Prometheus histogram: counts[i] observations at or below bounds[i] (not cumulative here),
// the last one above every bound.
struct Histogram {
  std::vector<double> bounds;
  std::vector<std::uint64_t> counts;  // bounds.size() + 1
  double sum = 0;
  std::uint64_t count = 0;
  void observe(double v);
};

struct FrozenRow {
  Pid pid = 0;
  std::string comm;  // empty when the process was not in the scan
  std::string rule;
  std::string kind;
  std::string how;              // "SIGSTOP", "cgroup.freeze" or "dry-run"
  double since = 0;             // Unix seconds
  std::optional<double> until;  // when it thaws by itself
};

// Keyed by (rule, action, outcome) where outcome is "ok", "failed" or "dry_run".
using ActionCounts = std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t>;

struct PressureRow {
  std::string level = "none";
  std::string mode = "off";
  std::uint64_t kills = 0;
  std::uint64_t kernel_kills = 0;  // the kernel's own OOM kills seen since the start
};

// A [[thermal]] section: its sensor now, and whether it is acting (hot, not yet cooled).
struct ThermalRow {
  std::string name, sensor;
  std::optional<double> celsius;
  bool hot = false;
};

struct AnomalyRow {
  double ts = 0;  // Unix seconds
  engine::AnomalyReport report;
};

// What the forecaster predicts, as of the scan.
struct PredictionRows {
  std::vector<engine::LeakReport> leaks;
  std::optional<engine::Exhaustion> exhaustion;
  std::vector<AnomalyRow> anomalies;                    // the recent ones, newest first
  std::map<std::string, std::uint64_t> anomaly_counts;  // by rule, since start
};

// The profile in force and the ones the configuration offers.
struct ProfileRow {
  struct Offer {
    std::string name, description;
    bool automatic = false;  // has [profile.NAME.when]
    int priority = 0;
  };
  std::string name;     // "" for none
  bool manual = false;  // chosen by hand (else automatic)
  std::string why;
  double since = 0;  // Unix seconds: the last switch, or the start
  std::uint64_t switches = 0;
  std::optional<bool> on_battery;  // read when a profile's condition needs it
  std::vector<Offer> profiles;
};

struct State {
  std::string version;
  long pid = 0;
  double updated = 0;  // Unix seconds of the scan
  double started = 0;
  bool dry_run = false;
  double interval = 0;
  std::string config_source;
  std::string http;  // the address the HTTP server listens on, or empty
  bool degraded_logging = false;
  engine::Totals totals;
  PressureRow pressure;
  std::vector<ThermalRow> thermal;
  std::vector<RuleRow> rules;
  // Every non-kernel process: listed while something reads them (see ApiContext), else empty
  // with listed false. process_count counts them either way.
  std::vector<ProcessRow> processes;
  bool listed = true;
  std::size_t process_count = 0;
  std::vector<FrozenRow> frozen;
  ActionCounts actions;
  std::uint64_t scans = 0;
  std::uint64_t full_scans = 0;  // of them, the sweeps that read every process
  double last_scan_seconds = 0;
  double scan_seconds_total = 0;
  Histogram scan_durations;
  bool last_reload_ok = true;
  double last_reload_success = 0;  // Unix seconds (the start, before any reload)
  std::optional<proc::MemInfo> memory;
  std::optional<proc::LoadAvg> load;
  std::optional<proc::Pressure> psi_cpu, psi_io, psi_memory;
  double self_cpu_seconds = 0;
  std::uint64_t self_rss_bytes = 0;
  std::uint64_t self_virtual_bytes = 0;
  std::uint64_t self_open_fds = 0, self_max_fds = 0;
  bool control = false;  // control endpoints enabled (a token is configured)
  PredictionRows predictions;
  ProfileRow profile;
};

}  // namespace freezr::serve
