#include "serve/metrics.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/text.h"
#include "core/top.h"

namespace freezr::serve {

void Histogram::observe(double v) {
  if (counts.size() != bounds.size() + 1) counts.assign(bounds.size() + 1, 0);
  const auto at = std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin();
  ++counts[static_cast<std::size_t>(at)];
  sum += v;
  ++count;
}

// Label values must be UTF-8: whatever a process calls itself, bytes that are not (overlong
// forms, surrogates, F5-FF) become U+FFFD, and controls '?'.
std::string label_value(const std::string& v) {
  std::string out;
  for (const char c : valid_utf8_or_replaced(v)) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    name_ = name;
  }
  void sample(const std::string& labels, double v, const char* suffix = "") {
    out_ += name_;
    out_ += suffix;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " " + number(v) + "\n";
  }
  std::string take() { return std::move(out_); }

 private:
  static std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);
  }
  std::string out_;
  std::string name_;
};

std::string rule_label(const std::string& rule) { return "rule=\"" + label_value(rule) + "\""; }

void pressure(Writer& w, const State& s) {
  w.family("freezr_pressure_avg10_percent", "gauge",
           "PSI: share of the last 10 s some or all tasks stalled on the resource.");
  const std::pair<const char*, const std::optional<proc::Pressure>*> res[] = {
      {"cpu", &s.psi_cpu}, {"io", &s.psi_io}, {"memory", &s.psi_memory}};
  for (const auto& [name, p] : res) {
    if (!*p) continue;
    w.sample(fmt::format("resource=\"{}\",kind=\"some\"", name), (*p)->some.avg10);
    if ((*p)->full) w.sample(fmt::format("resource=\"{}\",kind=\"full\"", name), (*p)->full->avg10);
  }
}

void predictions(Writer& w, const State& s) {
  const auto& p = s.predictions;
  w.family("freezr_leak_mib_per_minute", "gauge",
           "Growth of a rule entity's resident memory while a steady leak is suspected.");
  auto leak_labels = [](const engine::LeakReport& l) {
    return fmt::format("{},pid=\"{}\",name=\"{}\"", rule_label(l.rule), l.entity.pid,
                       label_value(l.comm));
  };
  for (const auto& l : p.leaks) w.sample(leak_labels(l), l.mb_per_minute);
  w.family("freezr_leak_bytes_per_second", "gauge", "The same growth in bytes per second.");
  for (const auto& l : p.leaks) w.sample(leak_labels(l), l.mb_per_minute * kMiB / 60);
  w.family("freezr_leak_seconds_to_limit", "gauge",
           "When a leaking entity reaches its rule's memory threshold, at its current trend.");
  for (const auto& l : p.leaks) {
    if (l.seconds_to_limit) w.sample(leak_labels(l), *l.seconds_to_limit);
  }
  w.family("freezr_memory_exhaustion_seconds", "gauge",
           "Predicted time until available memory reaches the critical pressure level (absent "
           "when memory is not falling steadily).");
  if (p.exhaustion) w.sample("", p.exhaustion->seconds);
  w.family("freezr_cpu_anomalies_total", "counter",
           "CPU spikes far outside a rule entity's own exponentially weighted normal.");
  for (const auto& r : s.rules) {
    const auto n = p.anomaly_counts.find(r.name);
    w.sample(rule_label(r.name),
             n == p.anomaly_counts.end() ? 0.0 : static_cast<double>(n->second));
  }
}

}  // namespace

namespace {
void rule_families(Writer& w, const State& s) {
  w.family("freezr_rule_processes", "gauge", "Processes matching the rule.");
  for (const auto& r : s.rules) w.sample(rule_label(r.name), static_cast<double>(r.processes));
  w.family("freezr_rule_cpu_percent", "gauge",
           "CPU of the rule's processes, summed, in percent of one core.");
  for (const auto& r : s.rules) w.sample(rule_label(r.name), r.cpu);
  w.family("freezr_rule_memory_bytes", "gauge", "Resident memory of the rule's processes, summed.");
  for (const auto& r : s.rules) w.sample(rule_label(r.name), r.rss_mib * kMiB);
  w.family("freezr_rule_violation_streak", "gauge", "Longest current run of violating scans.");
  for (const auto& r : s.rules) w.sample(rule_label(r.name), r.streak);
  w.family("freezr_rule_checks_total", "counter", "Process checks (group checks) of the rule.");
  for (const auto& r : s.rules) w.sample(rule_label(r.name), static_cast<double>(r.checks));
  w.family("freezr_rule_violations_total", "counter", "Checks over a threshold, by metric.");
  for (const auto& r : s.rules) {
    w.sample(rule_label(r.name) + ",metric=\"cpu\"", static_cast<double>(r.cpu_violations));
    w.sample(rule_label(r.name) + ",metric=\"memory\"", static_cast<double>(r.memory_violations));
    w.sample(rule_label(r.name) + ",metric=\"io\"", static_cast<double>(r.io_violations));
    w.sample(rule_label(r.name) + ",metric=\"pressure\"",
             static_cast<double>(r.pressure_violations));
  }
  // Only rules with I/O thresholds read their processes' I/O.
  w.family("freezr_rule_io_read_bytes_per_second", "gauge",
           "Disk reads of the rule's processes, summed (rules with I/O thresholds).");
  for (const auto& r : s.rules) {
    if (r.io_read_bps) w.sample(rule_label(r.name), *r.io_read_bps);
  }
  w.family("freezr_rule_io_write_bytes_per_second", "gauge",
           "Disk writes of the rule's processes, summed (rules with I/O thresholds).");
  for (const auto& r : s.rules) {
    if (r.io_write_bps) w.sample(rule_label(r.name), *r.io_write_bps);
  }
  w.family("freezr_rule_cpu_seconds_total", "counter",
           "CPU time used by the rule's processes while they were under it.");
  for (const auto& r : s.rules) w.sample(rule_label(r.name), r.cpu_seconds);
  // Every series an action of a rule can take exists from the start, at 0, so that the first
  // action is an increase (an alert on increase() fires on it).
  ActionCounts actions = s.actions;
  const std::vector<std::string> outcomes =
      s.dry_run ? std::vector<std::string>{"dry_run"} : std::vector<std::string>{"ok", "failed"};
  for (const auto& r : s.rules) {
    for (const auto& kind : r.action_kinds) {
      for (const auto& outcome : outcomes) actions.try_emplace({r.name, kind, outcome}, 0);
    }
  }
  if (s.pressure.mode != "off") {
    for (const auto& outcome : outcomes) actions.try_emplace({"pressure", "kill", outcome}, 0);
  }
  w.family("freezr_actions_total", "counter", "Actions carried out, by rule, kind and outcome.");
  for (const auto& [key, n] : actions) {
    const auto& [rule, action, outcome] = key;
    w.sample(fmt::format("{},action=\"{}\",outcome=\"{}\"", rule_label(rule), label_value(action),
                         outcome),
             static_cast<double>(n));
  }
}

void histogram(Writer& w, const char* name, const char* help, const Histogram& h) {
  w.family(name, "histogram", help);
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    below += i < h.counts.size() ? h.counts[i] : 0;
    w.sample(fmt::format("le=\"{}\"", h.bounds[i]), static_cast<double>(below), "_bucket");
  }
  w.sample("le=\"+Inf\"", static_cast<double>(h.count), "_bucket");
  w.sample("", h.sum, "_sum");
  w.sample("", static_cast<double>(h.count), "_count");
}

// FreezR's own process, under the names every Prometheus client library uses.
void process_families(Writer& w, const State& s, const ProcessFds& fds) {
  w.family("process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.");
  w.sample("", s.self_cpu_seconds);
  w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  w.sample("", static_cast<double>(s.self_rss_bytes));
  w.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  w.sample("", static_cast<double>(s.self_virtual_bytes));
  w.family("process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
  w.sample("", s.started);
  if (fds.open) {
    w.family("process_open_fds", "gauge", "Number of open file descriptors.");
    w.sample("", static_cast<double>(*fds.open));
  }
  if (fds.max) {
    w.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    w.sample("", static_cast<double>(*fds.max));
  }
}

void system_families(Writer& w, const State& s) {
  if (s.memory) {
    w.family("freezr_memory_available_bytes", "gauge", "MemAvailable from /proc/meminfo.");
    w.sample("", static_cast<double>(s.memory->available_kb) * 1024);
    w.family("freezr_memory_total_bytes", "gauge", "MemTotal from /proc/meminfo.");
    w.sample("", static_cast<double>(s.memory->total_kb) * 1024);
    w.family("freezr_swap_free_bytes", "gauge", "SwapFree from /proc/meminfo.");
    w.sample("", static_cast<double>(s.memory->swap_free_kb) * 1024);
  }
  if (s.load) {
    w.family("freezr_load1", "gauge", "One-minute load average.");
    w.sample("", s.load->one);
  }
  pressure(w, s);
  w.family("freezr_pressure_level", "gauge",
           "Memory pressure level: 0 none, 1 warning, 2 critical.");
  const auto& level = s.pressure.level;
  w.sample("", level == "critical" ? 2 : level == "warning" ? 1 : 0);
  w.family("freezr_pressure_kills_total", "counter",
           "Processes killed to relieve memory pressure.");
  w.sample("", static_cast<double>(s.pressure.kills));
  w.family("freezr_thermal_celsius", "gauge", "The sensor of each [[thermal]] section, °C.");
  for (const auto& t : s.thermal) {
    if (t.celsius) w.sample("section=\"" + label_value(t.name) + "\"", *t.celsius);
  }
  w.family("freezr_thermal_acting", "gauge",
           "1 while a [[thermal]] section holds processes (hot, not yet cooled).");
  for (const auto& t : s.thermal)
    w.sample("section=\"" + label_value(t.name) + "\"", t.hot ? 1 : 0);
  w.family("freezr_kernel_oom_kills_total", "counter",
           "Processes the kernel's OOM killer killed, seen since FreezR started.");
  w.sample("", static_cast<double>(s.pressure.kernel_kills));
  w.family("freezr_profile_active", "gauge",
           "1 for the [profile.NAME] in force, 0 for the others the configuration offers.");
  for (const auto& p : s.profile.profiles) {
    w.sample("profile=\"" + label_value(p.name) + "\"", p.name == s.profile.name ? 1 : 0);
  }
  w.family("freezr_profile_manual", "gauge",
           "1 while the profile was chosen by hand, 0 while it is chosen automatically.");
  w.sample("", s.profile.manual ? 1 : 0);
  w.family("freezr_profile_switches_total", "counter",
           "Switches from one profile to another since FreezR started.");
  w.sample("", static_cast<double>(s.profile.switches));
}

void top_process_families(Writer& w, const State& s, int per_process_top) {
  std::vector<const ProcessRow*> rows;
  for (const auto& p : s.processes) rows.push_back(&p);
  keep_top(rows, static_cast<std::size_t>(per_process_top), [](auto p) { return p->cpu; });
  auto labels = [](const ProcessRow* p) {
    return fmt::format("pid=\"{}\",name=\"{}\",rule=\"{}\"", p->pid, label_value(p->comm),
                       label_value(p->rule));
  };
  w.family("freezr_process_cpu_percent", "gauge",
           "CPU of the top processes by CPU, in percent of one core (capped series).");
  for (const auto* p : rows) w.sample(labels(p), p->cpu);
  w.family("freezr_process_memory_bytes", "gauge", "Resident memory of the same processes.");
  for (const auto* p : rows) w.sample(labels(p), p->rss_mib * kMiB);
}

// The same cap of series for the busiest systemd units: the sums over their processes.
void top_unit_families(Writer& w, const State& s, int top) {
  struct Sum {
    std::string unit;
    double cpu = 0, rss_mib = 0;
  };
  std::map<std::string, Sum> by_unit;
  for (const auto& p : s.processes) {
    if (!p.place || p.place->unit.empty()) continue;
    auto& u = by_unit[p.place->unit];
    u.unit = p.place->unit;
    u.cpu += p.cpu;
    u.rss_mib += p.rss_mib;
  }
  std::vector<const Sum*> rows;
  for (const auto& [name, sum] : by_unit) rows.push_back(&sum);
  keep_top(rows, static_cast<std::size_t>(top), [](auto u) { return u->cpu; });
  w.family("freezr_unit_cpu_percent", "gauge",
           "CPU of the busiest systemd units (their processes summed), percent of one core "
           "(capped series).");
  for (const auto* u : rows) w.sample("unit=\"" + label_value(u->unit) + "\"", u->cpu);
  w.family("freezr_unit_memory_bytes", "gauge", "Resident memory of the same units' processes.");
  for (const auto* u : rows) w.sample("unit=\"" + label_value(u->unit) + "\"", u->rss_mib * kMiB);
}
}  // namespace

ProcessFds process_fds() {
  ProcessFds out;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    std::uint64_t n = 0;
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    out.open = n - 1;  // less the directory's own descriptor
  }
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    out.max = static_cast<std::uint64_t>(lim.rlim_cur);
  }
  return out;
}

std::string render_metrics(const State& s, int per_process_top, const ProcessFds& fds) {
  Writer w;
  w.family("freezr_build_info", "gauge", "FreezR's version, always 1.");
  w.sample("version=\"" + label_value(s.version) + "\"", 1);
  w.family("freezr_start_time_seconds", "gauge", "When FreezR started, Unix seconds.");
  w.sample("", s.started);
  w.family("freezr_dry_run", "gauge", "1 when FreezR only logs what it would do.");
  w.sample("", s.dry_run ? 1 : 0);
  w.family("freezr_scans_total", "counter", "Scans of /proc since start.");
  w.sample("", static_cast<double>(s.scans));
  w.family("freezr_full_scans_total", "counter",
           "Scans that read every process (the others read the rules' processes and new ones).");
  w.sample("", static_cast<double>(s.full_scans));
  histogram(w, "freezr_scan_duration_seconds", "How long scans take.", s.scan_durations);
  w.family("freezr_last_scan_duration_seconds", "gauge", "Duration of the last scan.");
  w.sample("", s.last_scan_seconds);
  w.family("freezr_config_last_reload_successful", "gauge",
           "1 when the last reload of the configuration succeeded (or there was none).");
  w.sample("", s.last_reload_ok ? 1 : 0);
  w.family("freezr_config_last_reload_success_timestamp_seconds", "gauge",
           "When the configuration was last loaded successfully, Unix seconds.");
  w.sample("", s.last_reload_success);
  w.family("freezr_scan_seconds_total", "counter", "Time spent scanning since start.");
  w.sample("", s.scan_seconds_total);
  w.family("freezr_processes", "gauge",
           "Processes seen in the last scan (kernel threads excluded).");
  w.sample("", static_cast<double>(s.process_count));
  rule_families(w, s);
  w.family("freezr_frozen_processes", "gauge", "Processes FreezR holds frozen now.");
  w.sample("", static_cast<double>(s.frozen.size()));
  system_families(w, s);
  predictions(w, s);
  w.family("freezr_self_cpu_seconds_total", "counter", "CPU time FreezR itself has used.");
  w.sample("", s.self_cpu_seconds);
  w.family("freezr_self_resident_memory_bytes", "gauge", "FreezR's own resident memory.");
  w.sample("", static_cast<double>(s.self_rss_bytes));
  process_families(w, s, fds);
  if (per_process_top > 0) {
    top_process_families(w, s, per_process_top);
    top_unit_families(w, s, per_process_top);
  }
  return w.take();
}

}  // namespace freezr::serve
