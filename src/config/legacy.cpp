#include "config/legacy.h"

#include <algorithm>

namespace freezr::config {
namespace {

constexpr const char* kKeslExe = "/opt/kaspersky/kesl/libexec/kesl";

void read_logging(TableReader t, Config& c) {
  if (auto v = t.string("dir")) c.logging.dir = *v;
  if (auto v = t.choice("format", {"text", "json"})) c.logging.json = *v == "json";
  if (auto v = t.integer("keep_days", 0, 36500)) c.logging.keep_days = static_cast<int>(*v);
  if (auto v = t.integer("compress_after_days", 0, 36500)) {
    c.logging.compress_after_days = static_cast<int>(*v);
  }
  if (auto v = t.string("log_dir")) {
    c.logging.dir = *v;
    c.legacy = true;
  }
  for (const char* key : {"kesl_log", "node_log", "actions_log"}) {
    if (t.string(key)) {
      c.legacy = true;
      c.notes.push_back(std::string("[logging] ") + key +
                        " dropped: FreezR writes one daily file, process_monitor.log.YYYY-MM-DD");
    }
  }
  for (const char* key : {"max_file_size_mb", "rotate_count"}) {
    if (t.integer(key, 1, 1000000)) {
      c.legacy = true;
      c.notes.push_back(std::string("[logging] ") + key +
                        " dropped: files rotate daily instead of by size");
    }
  }
  t.finish();
}

struct LegacyMonitoring {
  std::optional<double> min_restart_interval;
};

LegacyMonitoring read_monitoring(TableReader t, Config& c) {
  LegacyMonitoring m;
  if (auto v = t.integer("check_interval_secs", 1, 86400)) {
    c.monitor.interval = static_cast<double>(*v);
  }
  if (auto v = t.integer("min_restart_interval_secs", 0, 7 * 86400)) {
    m.min_restart_interval = static_cast<double>(*v);
  }
  t.finish();
  return m;
}

engine::Rule read_kesl(TableReader t, const LegacyMonitoring& mon, Config& c) {
  engine::Rule r;
  r.name = "kesl";
  r.match.exe = {kKeslExe};
  engine::Step s;
  s.cpu_percent = t.number("cpu_threshold", 0, 100).value_or(30.0);
  s.memory_mb = static_cast<double>(t.integer("memory_threshold_mb", 1, 1000000).value_or(600));
  s.violations = static_cast<int>(t.integer("max_violations", 1, 100000).value_or(3));
  s.action.kind = engine::ActionKind::kRestart;
  auto service = t.string("service_name").value_or("kesl");
  s.action.service = service.find('.') == std::string::npos ? service + ".service" : service;
  s.cooldown = mon.min_restart_interval.value_or(100.0);
  r.steps = {s};
  r.aggregate = engine::Aggregate::kGroup;
  r.enabled = t.boolean("enabled").value_or(true);
  c.notes.push_back(
      "[kesl]: every KESL process counts, summed (the Rust FreezR measured only the first one "
      "it found), and the restart is not preceded by a systemd daemon-reload as it was there");
  t.finish();
  return r;
}

engine::Rule read_node(TableReader t, Config& c) {
  engine::Rule r;
  r.name = "node";
  r.match.exe = {"node", "nodejs"};
  engine::Step s;
  s.cpu_percent = t.number("cpu_threshold", 0, 100).value_or(80.0);
  s.violations = 3;
  s.action.kind =
      t.boolean("auto_kill").value_or(true) ? engine::ActionKind::kKill : engine::ActionKind::kLog;
  r.steps = {s};
  r.enabled = t.boolean("enabled").value_or(true);
  if (t.boolean("confirm_kill").value_or(false)) {
    c.notes.push_back(
        "[node] confirm_kill = true: FreezR never asks; it kills only after "
        "`violations` consecutive scans");
  }
  c.notes.push_back(
      "[node]: the Rust FreezR killed on a single sample; this rule waits for 3 "
      "consecutive violating scans (change `violations` to taste)");
  t.finish();
  return r;
}

// [snap]: one action (nice, freeze or kill) on snap processes above a per-process threshold.
engine::Rule read_snap(TableReader t, Config& c) {
  engine::Rule r;
  r.name = "snap";
  r.match.comm = {"snapd", "snap", "snap-store"};
  engine::Step s;
  s.cpu_percent = t.number("cpu_threshold", 0, 1000).value_or(300.0);
  s.violations = static_cast<int>(t.integer("max_violations", 1, 100000).value_or(3));
  const auto action = t.choice("action", {"nice", "freeze", "kill"}).value_or("nice");
  const auto nice = t.integer("nice_level", 0, 19).value_or(15);
  const auto duration = t.integer("freeze_duration_secs", 1, 86400).value_or(5);
  if (action == "nice") {
    s.action.kind = engine::ActionKind::kRenice;
    s.action.nice = static_cast<int>(nice);
  } else if (action == "freeze") {
    s.action.kind = engine::ActionKind::kFreeze;
    s.action.duration = static_cast<double>(duration);
  } else {
    s.action.kind = engine::ActionKind::kKill;
  }
  r.steps = {s};
  r.enabled = t.boolean("enabled").value_or(true);
  c.notes.push_back(
      "[snap]: each snap process is judged on its own and acted on after " +
      std::to_string(s.violations) +
      " violating scans in a row of its own (the Rust FreezR counted scans in which any snap "
      "process was over the threshold); a renice is undone once the process calms down (there "
      "it stayed)");
  t.finish();
  return r;
}

// [firefox], [brave], [telegram]: freeze above one threshold, kill above a higher one.
engine::Rule read_two_tier(TableReader t, const std::string& name, std::vector<std::string> exe,
                           Config& c) {
  engine::Rule r;
  r.name = name;
  r.match.exe = std::move(exe);
  engine::Step freeze, kill;
  freeze.cpu_percent = t.number("cpu_threshold_freeze", 0, 100).value_or(80.0);
  kill.cpu_percent = t.number("cpu_threshold_kill", 0, 100).value_or(95.0);
  if (*kill.cpu_percent <= *freeze.cpu_percent) {
    t.fail(t.raw().source(),
           "[" + name + "]: cpu_threshold_kill must be above cpu_threshold_freeze");
  }
  freeze.violations = static_cast<int>(t.integer("max_violations_freeze", 1, 100000).value_or(2));
  kill.violations = static_cast<int>(t.integer("max_violations_kill", 1, 100000).value_or(3));
  freeze.action.kind = engine::ActionKind::kFreeze;
  freeze.action.duration =
      static_cast<double>(t.integer("freeze_duration_secs", 1, 86400).value_or(5));
  kill.action.kind = engine::ActionKind::kKill;
  r.steps = {freeze, kill};
  r.enabled = t.boolean("enabled").value_or(true);
  c.notes.push_back(
      "[" + name +
      "]: a ladder, each process judged on its own: the kill may come only after "
      "the freeze has acted, and counts its own scans from then (the Rust FreezR counted scans "
      "in which any " +
      name + " process was hot, and could kill without freezing first)");
  t.finish();
  return r;
}

// [memory_pressure]: PSI thresholds per level and what to do; the Rust FreezR's hard-coded kill
// order (Brave, Telegram, nvim over 1 GiB, Firefox) becomes kill_order.
void read_memory_pressure(TableReader t, Config& c) {
  auto& p = c.pressure;
  p.enabled = t.boolean("enabled").value_or(true);
  p.warning = engine::LevelThresholds{};
  p.critical = engine::LevelThresholds{};
  p.warning.some_avg10 = t.number("some_threshold_warning", 0, 100).value_or(10.0);
  p.critical.some_avg10 = t.number("some_threshold_critical", 0, 100).value_or(30.0);
  p.warning.full_avg10 = t.number("full_threshold_warning", 0, 100).value_or(5.0);
  p.critical.full_avg10 = t.number("full_threshold_critical", 0, 100).value_or(15.0);
  auto action = [&](const char* key, const char* fallback) {
    engine::Action a;
    const auto v = t.choice(key, {"log", "nice", "freeze", "kill"}).value_or(fallback);
    if (v == "nice") {
      a.kind = engine::ActionKind::kRenice;
      a.nice = 15;
      c.notes.push_back(
          std::string("[memory_pressure] ") + key +
          " = \"nice\": the first process of the order (kill_order, then the largest) gets "
          "nice 15 once the level is entered, put back when it ends (the Rust FreezR reniced "
          "every Firefox, Brave and Telegram process, for good)");
    } else if (v == "freeze") {
      a.kind = engine::ActionKind::kFreeze;
      a.duration = 5;
      c.notes.push_back(
          std::string("[memory_pressure] ") + key +
          " = \"freeze\": the first process of the order (kill_order, then the largest) is "
          "frozen for 5 s once the level is entered (the Rust FreezR stopped every Firefox, "
          "Brave and Telegram process, again at every check while it lasted)");
    } else {
      a.kind = v == "kill" ? engine::ActionKind::kKill : engine::ActionKind::kLog;
    }
    return a;
  };
  p.warning.action = action("action_warning", "log");
  p.critical.action = action("action_critical", "freeze");
  if (t.integer("check_interval_secs", 1, 86400)) {
    c.notes.push_back(
        "[memory_pressure] check_interval_secs dropped: FreezR waits on PSI "
        "triggers and checks memory at an adaptive interval");
  }
  p.victims.kill_order = {
      *engine::parse_name_pattern("brave"), *engine::parse_name_pattern("telegram-deskto"),
      *engine::parse_name_pattern("nvim>1024"), *engine::parse_name_pattern("firefox")};
  c.notes.push_back(
      "[memory_pressure]: the victims are no longer only Brave, Telegram, nvim and "
      "Firefox: those come first (kill_order), then every other process by memory; "
      "one at a time, re-reading the pressure after each");
  t.finish();
}

// [cgroups]: the Rust FreezR's cgroup library, which none of its programs ever called; read so
// that its generated configuration loads, and said to do nothing (as it did).
void read_cgroups(TableReader t, Config& c) {
  const bool enabled = t.boolean("enabled").value_or(false);
  t.string("root_path");
  t.choice("strategy", {"static", "dynamic", "hybrid"});
  t.boolean("auto_cleanup_on_stop");
  t.boolean("restore_processes_on_stop");
  if (const auto* groups = t.node("static_groups")) {
    const auto* arr = groups->as_array();
    if (arr == nullptr) t.fail_key("static_groups", "write [[cgroups.static_groups]] tables");
    int index = 0;
    for (const auto& el : *arr) {
      ++index;
      const auto* g = el.as_table();
      if (g == nullptr) t.fail(el.source(), "each [[cgroups.static_groups]] entry must be a table");
      TableReader gr(*g, t.file(), "[[cgroups.static_groups]] #" + std::to_string(index));
      gr.string("name");
      gr.string_list("process_patterns");
      gr.number("cpu_limit_percent", 0, 1000);
      gr.integer("memory_max_mb", 1, 1 << 30);
      gr.integer("memory_high_mb", 1, 1 << 30);
      gr.finish();
    }
  }
  if (auto d = t.table("dynamic_settings")) {
    d->integer("max_dynamic_cgroups", 0, 100000);
    d->integer("cleanup_timeout_secs", 0, 7 * 86400);
    d->number("default_cpu_limit", 0, 1000);
    d->integer("default_memory_limit_mb", 1, 1 << 30);
    d->finish();
  }
  t.finish();
  c.notes.push_back(std::string("[cgroups]") + (enabled ? " enabled = true" : "") +
                    " does nothing, as in the Rust FreezR (which never applied it): to cap a "
                    "program's CPU, give its [[rule]] action = \"throttle\" and cpu_limit");
}

// [nvim]: documented by the Rust FreezR but never read (it killed nvim over a hard-coded
// 1024 MiB under memory pressure); here its threshold is the kill order's nvim entry.
void read_nvim(TableReader t, Config& c) {
  const bool enabled = t.boolean("enabled").value_or(true);
  const auto mb = t.integer("memory_threshold_mb", 1, 1 << 30).value_or(1024);
  t.finish();
  auto& order = c.pressure.victims.kill_order;
  const auto at = std::find_if(order.begin(), order.end(),
                               [](const engine::NamePattern& p) { return p.name == "nvim"; });
  if (!enabled) {
    if (at != order.end()) order.erase(at);
    c.notes.push_back("[nvim] enabled = false: nvim is not killed first under memory pressure");
    return;
  }
  auto pattern = *engine::parse_name_pattern("nvim>" + std::to_string(mb));
  if (at != order.end()) {
    *at = pattern;
  } else {
    order.push_back(pattern);
  }
  c.notes.push_back("[nvim] memory_threshold_mb = " + std::to_string(mb) +
                    ": nvim over it is killed first under memory pressure (the Rust FreezR did "
                    "not read [nvim] and used 1024 MiB)");
}

}  // namespace

void read_logging_and_legacy(TableReader& top, Config& c) {
  if (auto t = top.table("logging")) read_logging(*t, c);
  LegacyMonitoring mon;
  if (auto t = top.table("monitoring")) {
    mon = read_monitoring(*t, c);
    c.legacy = true;
  }
  if (auto t = top.table("kesl")) {
    c.rules.push_back(read_kesl(*t, mon, c));
    c.legacy = true;
  } else if (mon.min_restart_interval) {
    c.notes.push_back("[monitoring] min_restart_interval_secs has no [kesl] section to apply to");
  }
  if (auto t = top.table("node")) {
    c.rules.push_back(read_node(*t, c));
    c.legacy = true;
  }
  if (auto t = top.table("snap")) {
    c.rules.push_back(read_snap(*t, c));
    c.legacy = true;
  }
  // A file of the Rust FreezR format (its required sections) gets the Rust FreezR's defaults
  // for the optional sections it leaves out, as the Rust FreezR did, each with a note.
  const bool rust = top.has("kesl") || top.has("node") || top.has("monitoring");
  // A [[rule]] of the same name stands in for the section's default.
  auto defaulted = [&](const std::string& section) {
    return rust && !top.has(section) &&
           std::none_of(c.rules.begin(), c.rules.end(),
                        [&](const engine::Rule& r) { return r.name == section; });
  };
  static const toml::table kAbsent;
  auto absent = [&](const std::string& section, const std::string& what) {
    c.notes.push_back("[" + section + "] absent: the Rust FreezR's default applies — " + what +
                      "; write [" + section + "] enabled = false to turn it off");
    return TableReader(kAbsent, top.file(), "[" + section + "]");
  };
  if (defaulted("snap")) {
    c.rules.push_back(read_snap(
        absent("snap", "snap processes over 300% of a core for 3 scans are reniced to nice 15"),
        c));
  }
  const std::vector<std::pair<std::string, std::vector<std::string>>> two_tier = {
      {"firefox", {"firefox", "firefox-esr", "firefox-bin"}},
      {"brave", {"brave", "brave-browser"}},
      {"telegram", {"telegram-desktop", "Telegram"}}};
  for (const auto& [section, exe] : two_tier) {
    if (auto t = top.table(section)) {
      c.rules.push_back(read_two_tier(*t, section, exe, c));
      c.legacy = true;
    } else if (defaulted(section)) {
      c.rules.push_back(read_two_tier(absent(section,
                                             "a process over 80% of a core for 2 scans is frozen "
                                             "for 5 s, one over 95% for 3 scans is killed"),
                                      section, exe, c));
    }
  }
  if (auto t = top.table("memory_pressure")) {
    read_memory_pressure(*t, c);
    c.legacy = true;
  } else if (rust) {
    read_memory_pressure(absent("memory_pressure",
                                "under critical memory pressure (PSI some 30% or full 15%) "
                                "processes are frozen for 5 s (FreezR's own default kills)"),
                         c);
  }
  if (auto t = top.table("cgroups")) {
    read_cgroups(*t, c);
    c.legacy = true;
  }
  if (auto t = top.table("nvim")) {  // after [memory_pressure], whose kill order it adjusts
    read_nvim(*t, c);
    c.legacy = true;
  }
}

}  // namespace freezr::config
