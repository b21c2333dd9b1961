#include "cli/commands.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "act/ledger_entries.h"
#include "cli/table.h"
#include "core/clock.h"
#include "core/text.h"
#include "engine/policy.h"
#include "engine/victims.h"
#include "proc/thermal_sensors.h"
#include "scan/scanner.h"
#include "store/ledger.h"

namespace freezr::cli {

LoadedConfig resolve_config(const std::optional<std::string>& path) {
  if (path) return {config::load_config(*path), path};
  for (const char* candidate : {"./freezr.toml", "/etc/freezr/config.toml"}) {
    std::error_code ec;
    if (std::filesystem::exists(candidate, ec)) {
      return {config::load_config(candidate), std::string(candidate)};
    }
  }
  return {config::default_config(), std::nullopt};
}

namespace {

// The freezes the ledger in data_dir holds, by process; none when there is no ledger.
std::map<ProcessId, store::LedgerEntry> frozen_in(const std::string& data_dir) {
  std::map<ProcessId, store::LedgerEntry> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) return out;
  auto dir = fs::Directory::open(data_dir);
  if (!dir) return out;
  store::Ledger ledger(&*dir);
  for (const auto& e : ledger.all()) {
    if (act::is_freeze(e)) out.emplace(e.process, e);
  }
  return out;
}

// What ps says of a process's state: frozen by FreezR (with the time left), stopped by
// someone else, or "-".
std::string state_of(const engine::ProcessSample& p,
                     const std::map<ProcessId, store::LedgerEntry>& frozen, double now) {
  if (auto it = frozen.find(p.id); it != frozen.end()) {
    const auto until = act::frozen_until(it->second);
    return until ? fmt::format("frozen {:.0f}s", std::max(0.0, *until - now)) : "frozen";
  }
  return p.state == 'T' || p.state == 't' ? "stopped" : "-";
}

// Two scans `interval` seconds apart, so CPU% is measured over that interval.
scan::ScanResult sample(scan::Scanner& scanner, double interval) {
  SystemClock clock;
  scanner.scan(clock.monotonic());
  std::this_thread::sleep_for(std::chrono::duration<double>(interval));
  return scanner.scan(clock.monotonic());
}

}  // namespace

namespace {
// The verdict of each step of a ladder for one entity, as the daemon's policy judges a scan:
// "ok", or "VIOLATES cpu" for a single step; "step 2 (kill): VIOLATES memory" for a ladder.
std::string verdicts(const engine::Rule& rule, const engine::Measure& m) {
  const auto v = engine::step_violations(rule, m);
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string one = v[i].any() ? "VIOLATES" : "ok";
    for (std::size_t k = 0; k < engine::kMetrics; ++k) {
      if (v[i].by[k]) one += std::string(" ") + engine::to_string(static_cast<engine::Metric>(k));
    }
    if (rule.steps[i].gated())
      one += v[i].gates_hold ? " (pressure gates hold)" : " (pressure gates closed)";
    if (rule.steps[i].predict_minutes && !v[i].of(engine::Metric::kMemory)) {
      one += " (no leak trend in one sample)";
    }
    if (v.size() > 1) {
      one =
          fmt::format("step {} ({}): {}", i + 1, engine::to_string(rule.steps[i].action.kind), one);
    }
    out += (out.empty() ? "" : "; ") + one;
  }
  return out;
}

// What else the rule judges by: its memory metric when not the resident set, disk I/O rates.
std::string extras(const engine::Rule& rule, const engine::Measure& m) {
  std::string out;
  if (rule.uses_smaps()) {
    out += fmt::format("  {} {:.1f} MiB", engine::to_string(rule.memory_metric), m.mem);
  }
  if (rule.uses_io()) {
    out += fmt::format("  io read {:.2f} write {:.2f} MiB/s", m.io_read.value_or(0),
                       m.io_write.value_or(0));
  }
  return out;
}

void check_rule(const engine::Rule& rule, std::size_t ri, const scan::ScanResult& r) {
  const auto& members = r.cls.members[ri];
  fmt::print("\nrule '{}'{}: {} process{}\n", rule.name, rule.enabled ? "" : " (disabled)",
             members.size(), members.size() == 1 ? "" : "es");
  if (members.empty()) {
    fmt::print("  (matches no running process)\n");
    return;
  }
  if (rule.steps.empty()) {
    for (auto idx : members) {
      const auto& p = r.snap.processes[idx];
      fmt::print("  pid {:>7}  {:<16} (acted on at exec: {})\n", p.id.pid, terminal_safe(p.comm),
                 engine::action_summary(rule));
    }
    return;
  }
  const auto parts = engine::parts(rule, ri, members, r.cls);
  const auto entities = engine::measures(rule, ri, parts, r.snap, nullptr);
  const bool sums = rule.sums();
  for (std::size_t k = 0; k < parts.size(); ++k) {
    for (auto idx : parts[k].members) {
      const auto& p = r.snap.processes[idx];
      const auto& m = entities[k].second;
      fmt::print("  pid {:>7}  {:<16} cpu {:6.1f}%  rss {:8.1f} MiB{}  {}\n", p.id.pid,
                 terminal_safe(p.comm), p.total_cpu(), p.rss_mb(), sums ? "" : extras(rule, m),
                 sums ? "(summed below)" : verdicts(rule, m));
    }
    if (sums) {
      const auto& m = entities[k].second;
      const auto who = parts[k].name.empty() ? std::string("group") : terminal_safe(parts[k].name);
      fmt::print("  {} total: cpu {:.1f}%  {} {:.1f} MiB{}  {}\n", who, m.cpu,
                 engine::to_string(rule.memory_metric), m.mem, extras(rule, m), verdicts(rule, m));
    }
  }
  const auto& first = rule.steps.front();
  if (first.window > 0) {
    fmt::print("  acts after {} violating scans of the last {} scans of {:g}s\n", first.violations,
               first.window, 0.0 + r.snap.interval);
  } else {
    fmt::print("  acts after {} consecutive violating scan{} of {:g}s\n", first.violations,
               first.violations == 1 ? "" : "s", 0.0 + r.snap.interval);
  }
}
}  // namespace

namespace {
// Every rule's members with their verdicts, one row a process (and one for a group's total).
Table check_table(const config::Config& cfg, const scan::ScanResult& r) {
  Table t;
  t.headers = {"rule", "enabled", "pid", "name", "cpu_percent", "rss_bytes", "verdict"};
  t.when_empty = "(no rules)";
  for (std::size_t ri = 0; ri < cfg.rules.size(); ++ri) {
    const auto& rule = cfg.rules[ri];
    const auto& members = r.cls.members[ri];
    if (rule.steps.empty()) {
      for (auto idx : members) {
        const auto& p = r.snap.processes[idx];
        t.rows.push_back({rule.name, rule.enabled, p.id.pid, p.comm, p.total_cpu(), p.rss_bytes,
                          "acted on at exec"});
      }
      continue;
    }
    const auto parts = engine::parts(rule, ri, members, r.cls);
    const auto entities = engine::measures(rule, ri, parts, r.snap, nullptr);
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const auto& m = entities[k].second;
      for (auto idx : parts[k].members) {
        const auto& p = r.snap.processes[idx];
        t.rows.push_back(
            {rule.name, rule.enabled, p.id.pid, p.comm, p.total_cpu(), p.rss_bytes,
             rule.sums()
                 ? "summed in the " + (parts[k].name.empty() ? std::string("group") : parts[k].name)
                 : verdicts(rule, m)});
      }
      if (rule.sums()) {
        t.rows.push_back({rule.name, rule.enabled, nullptr,
                          "(" + (parts[k].name.empty() ? "group" : parts[k].name) + " total)",
                          m.cpu, static_cast<std::uint64_t>(m.mem * 1024 * 1024),
                          verdicts(rule, m)});
      }
    }
  }
  return t;
}
}  // namespace

int cmd_check(const config::Config& cfg, const std::string& proc_root, const std::string& format) {
  proc::FsProcSource source(proc_root);
  scan::Scanner scanner(source, &cfg.rules, &cfg.categories);
  if (format == "table") {
    fmt::print("Sampling for {:g}s ({} rules, config: {})...\n", cfg.monitor.interval,
               cfg.rules.size(), cfg.source);
  }
  const auto r = sample(scanner, cfg.monitor.interval);
  if (format != "table") {
    fmt::print("{}", render(check_table(cfg, r), format));
    return 0;
  }
  for (std::size_t i = 0; i < cfg.rules.size(); ++i) check_rule(cfg.rules[i], i, r);
  return 0;
}

namespace {
// The rows `freezr ps` shows, in its order: every process (or the rule's), of the category
// and unit asked for, sorted and cut to the limit.
std::vector<std::size_t> ps_rows(const scan::ScanResult& r, const PsOptions& o,
                                 std::optional<std::size_t> rule_index, int category_index,
                                 proc::InfoSource& info) {
  std::vector<std::size_t> rows;
  if (rule_index) {
    rows = r.cls.members[*rule_index];
  } else {
    for (std::size_t i = 0; i < r.snap.processes.size(); ++i) {
      if (!r.snap.processes[i].kernel_thread) rows.push_back(i);
    }
  }
  if (o.category) {
    std::erase_if(rows, [&](std::size_t i) { return r.cls.category[i] != category_index; });
  }
  if (o.unit) {
    engine::Match by_unit;
    by_unit.unit = {*o.unit};
    std::erase_if(
        rows, [&](std::size_t i) { return !engine::matches(by_unit, r.snap.processes[i], info); });
  }
  const auto io_of = [](const engine::ProcessSample& p) {
    return p.io_read_bps.value_or(0) + p.io_write_bps.value_or(0);
  };
  std::sort(rows.begin(), rows.end(), [&](auto a, auto b) {
    const auto& pa = r.snap.processes[a];
    const auto& pb = r.snap.processes[b];
    if (o.sort == "io") return io_of(pa) > io_of(pb);
    return o.sort == "mem" ? pa.rss_bytes > pb.rss_bytes : pa.cpu_percent > pb.cpu_percent;
  });
  if (o.limit > 0 && rows.size() > static_cast<std::size_t>(o.limit)) {
    rows.resize(static_cast<std::size_t>(o.limit));
  }
  return rows;
}

std::optional<std::size_t> rule_named(const config::Config& cfg, const std::string& name) {
  for (std::size_t i = 0; i < cfg.rules.size(); ++i) {
    if (cfg.rules[i].name == name) return i;
  }
  return std::nullopt;
}
}  // namespace

int cmd_ps(const config::Config& cfg, const std::string& proc_root, const PsOptions& o) {
  int category_index = -1;
  if (o.category) {
    for (std::size_t i = 0; i < cfg.categories.size(); ++i) {
      if (cfg.categories[i].name == *o.category) category_index = static_cast<int>(i);
    }
    if (category_index < 0) {
      fmt::print(stderr, "freezr: no category named '{}' (see `freezr categories`)\n", *o.category);
      return 2;
    }
  }
  const auto rule_index = o.rule ? rule_named(cfg, *o.rule) : std::nullopt;
  if (o.rule && !rule_index) {
    fmt::print(stderr, "freezr: no rule named '{}' in {}\n", *o.rule, cfg.source);
    return 2;
  }
  proc::FsProcSource source(proc_root);
  scan::Scanner scanner(source, &cfg.rules, &cfg.categories);
  const bool io = o.io || o.sort == "io";
  scanner.read_io_everywhere(io);
  const auto r = sample(scanner, o.interval);
  const auto rows = ps_rows(r, o, rule_index, category_index, scanner.info());
  const bool table = o.format == "table";
  Table t;
  t.headers = {"pid",       "name",     "cpu_percent", "child_cpu_percent",
               "rss_bytes", "category", "rules",       "state",
               "unit",      "slice",    "container"};
  if (io) t.headers.insert(t.headers.end(), {"io_read_bps", "io_write_bps"});
  t.when_empty = "(no process)";
  const auto frozen = frozen_in(cfg.storage.dir);
  const double now = SystemClock().wall();
  if (table) {
    fmt::print("{:>7} {:<16} {:>7} {:>7} {:>10}  {}{:<12} {:<16} {:<16} {}\n", "PID", "NAME",
               "CPU%", "CHILD%", "RSS(MiB)",
               io ? fmt::format("{:>9} {:>9}  ", "READ/s", "WRITE/s") : "", "STATE", "CATEGORY",
               "RULE", "UNIT");
  }
  const auto mib_s = [](const std::optional<double>& v) {
    return v ? fmt::format("{:>9.2f}", *v / kMiB) : fmt::format("{:>9}", "-");
  };
  for (auto idx : rows) {
    const auto& p = r.snap.processes[idx];
    std::string rules;
    for (std::size_t ri = 0; ri < cfg.rules.size(); ++ri) {
      const auto& m = r.cls.members[ri];
      if (std::find(m.begin(), m.end(), idx) != m.end()) {
        rules += (rules.empty() ? "" : ",") + cfg.rules[ri].name;
      }
    }
    const int cat = r.cls.category[idx];
    const std::string category_name =
        cat < 0 ? "" : cfg.categories[static_cast<std::size_t>(cat)].name;
    const auto state = state_of(p, frozen, now);
    const auto where = scanner.info().placement(p.id);
    if (!table) {
      t.rows.push_back({p.id.pid, p.comm, p.cpu_percent, p.child_cpu_percent, p.rss_bytes,
                        category_name, rules, state, where->unit, where->slice(),
                        where->container_label()});
      if (io) {
        for (const auto& v : {p.io_read_bps, p.io_write_bps}) {
          t.rows.back().push_back(v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr));
        }
      }
      continue;
    }
    const auto unit = where->shown();
    fmt::print("{:>7} {:<16} {:>7.1f} {:>7.1f} {:>10.1f}  {}{:<12} {:<16} {:<16} {}\n", p.id.pid,
               terminal_safe(p.comm), p.cpu_percent, p.child_cpu_percent, p.rss_mb(),
               io ? mib_s(p.io_read_bps) + " " + mib_s(p.io_write_bps) + "  " : "", state,
               category_name.empty() ? "-" : category_name, rules.empty() ? "-" : rules,
               unit.empty() ? "-" : terminal_safe(unit));
  }
  if (!table) fmt::print("{}", render(t, o.format));
  return 0;
}

int cmd_sensors(const std::string& sys_root, const std::string& format) {
  Table t;
  t.headers = {"sensor", "celsius"};
  t.when_empty = "(no temperature sensor under " + sys_root + ")";
  for (const auto& [name, c] : proc::ThermalSensors(sys_root).list()) t.rows.push_back({name, c});
  fmt::print("{}", render(t, format));
  return 0;
}

int cmd_categories(const config::Config& cfg, const std::string& format) {
  if (format != "table") {
    Table t;
    t.headers = {"name", "description", "comm", "exe", "cmdline"};
    for (const auto& c : cfg.categories) {
      for (const auto& alt : c.any) {
        t.rows.push_back({c.name, c.description, fmt::format("{}", fmt::join(alt.comm, ",")),
                          fmt::format("{}", fmt::join(alt.exe, ",")),
                          alt.cmdline ? alt.cmdline->pattern() : std::string()});
      }
    }
    fmt::print("{}", render(t, format));
    return 0;
  }
  fmt::print("Category library version {} ({} categories; the first that matches wins):\n",
             cfg.categories_version, cfg.categories.size());
  for (const auto& c : cfg.categories) {
    fmt::print("\n{:<16} {}\n", c.name, c.description);
    for (const auto& alt : c.any) {
      if (!alt.comm.empty()) fmt::print("  comm:    {}\n", fmt::join(alt.comm, ", "));
      if (!alt.exe.empty()) fmt::print("  exe:     {}\n", fmt::join(alt.exe, ", "));
      if (alt.cmdline) fmt::print("  cmdline: {}\n", alt.cmdline->pattern());
    }
  }
  return 0;
}

int cmd_oom_order(const config::Config& cfg, const std::string& proc_root, int limit,
                  const std::string& format) {
  proc::FsProcSource source(proc_root);
  scan::Scanner scanner(source, &cfg.rules, &cfg.categories);
  const auto r = sample(scanner, 0.2);
  engine::Protection protection(::getpid(), cfg.protected_names());
  protection.refresh(r.snap);
  const auto order = engine::rank_victims(
      r.snap, r.cls, cfg.rules, cfg.pressure.victims, protection, scanner.info(), [&](Pid pid) {
        return scan::read_oom_facts(source, pid, cfg.pressure.victims.memory_metric);
      });
  if (format != "table") {
    Table t;
    t.headers = {"rank", "pid", "name", "rss_bytes", "chosen", "reason"};
    int rank = 0;
    for (const auto& v : order.ranked) {
      if (limit > 0 && rank >= limit) break;
      const auto& p = r.snap.processes[v.index];
      t.rows.push_back({++rank, p.id.pid, p.comm, p.rss_bytes, true, v.reason});
    }
    for (const auto& [idx, why] : order.excluded) {
      const auto& p = r.snap.processes[idx];
      t.rows.push_back({nullptr, p.id.pid, p.comm, p.rss_bytes, false, why});
    }
    fmt::print("{}", render(t, format));
    return 0;
  }
  fmt::print("Victim order under critical memory pressure ({}; first killed first):\n",
             cfg.pressure.critical.action.kind == engine::ActionKind::kKill
                 ? "the critical level kills"
                 : "the critical level does not kill");
  fmt::print("{:>4} {:>7} {:<16} {:>10}  {}\n", "RANK", "PID", "NAME", "RSS(MiB)", "WHY HERE");
  std::size_t shown = 0;
  for (const auto& v : order.ranked) {
    if (limit > 0 && shown >= static_cast<std::size_t>(limit)) break;
    const auto& p = r.snap.processes[v.index];
    fmt::print("{:>4} {:>7} {:<16} {:>10.1f}  {}\n", ++shown, p.id.pid, terminal_safe(p.comm),
               p.rss_mb(), v.reason);
  }
  if (order.ranked.empty()) fmt::print("(no candidate)\n");
  if (!order.excluded.empty()) {
    fmt::print("\nNever chosen:\n");
    for (const auto& [idx, why] : order.excluded) {
      const auto& p = r.snap.processes[idx];
      fmt::print("     {:>7} {:<16} {:>10.1f}  {}\n", p.id.pid, terminal_safe(p.comm), p.rss_mb(),
                 why);
    }
  }
  return 0;
}

}  // namespace freezr::cli
