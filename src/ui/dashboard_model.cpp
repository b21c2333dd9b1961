#include "ui/dashboard_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "core/text.h"

namespace freezr::ui {

using nlohmann::json;

const char* to_string(Sort s) {
  switch (s) {
    case Sort::kCpu:
      return "cpu";
    case Sort::kMemory:
      return "mem";
    case Sort::kPid:
      return "pid";
  }
  return "?";
}

Sort next(Sort s) {
  return s == Sort::kCpu ? Sort::kMemory : s == Sort::kMemory ? Sort::kPid : Sort::kCpu;
}

std::string bar(double value, double limit, int width) {
  if (width < 3) return {};
  const int inner = width - 2;
  const double ratio = limit > 0 ? std::clamp(value / limit, 0.0, 1.0) : 0.0;
  const int full = static_cast<int>(std::lround(ratio * inner));
  return "[" + std::string(static_cast<std::size_t>(full), '#') +
         std::string(static_cast<std::size_t>(inner - full), '.') + "]";
}

namespace {

std::string clip(std::string s, int width) {
  if (width > 0 && static_cast<int>(s.size()) > width) s.resize(static_cast<std::size_t>(width));
  return s;
}

// Reads and writes per second in MiB ("-" where nothing reads the process's I/O).
std::string disk(const json& p) {
  const auto rate = [&](const char* key) -> std::optional<double> {
    return p.contains(key) && p[key].is_number() ? std::optional<double>(p[key].get<double>())
                                                 : std::nullopt;
  };
  const auto r = rate("io_read_bps"), w = rate("io_write_bps");
  if (!r && !w) return "-";
  return fmt::format("{:.1f}", (r.value_or(0) + w.value_or(0)) / (1024.0 * 1024.0));
}

void rules(DashboardModel& m, const json& status, int width) {
  m.lines.push_back({"RULES", Line::Style::kTitle});
  for (const auto& r : status.value("rules", json::array())) {
    const double cpu = r.value("cpu_percent", 0.0);
    const auto cpu_max = r.contains("cpu_threshold") && r["cpu_threshold"].is_number()
                             ? r["cpu_threshold"].get<double>()
                             : 0.0;
    const double rss = r.value("rss_mib", 0.0);
    const auto rss_max = r.contains("memory_threshold") && r["memory_threshold"].is_number()
                             ? r["memory_threshold"].get<double>()
                             : 0.0;
    const int streak = r.value("streak", 0);
    std::string line = fmt::format("{:<14} {:>3} proc  cpu {:>6.1f}%",
                                   clip(r.value("name", ""), 14), r.value("processes", 0), cpu);
    if (cpu_max > 0) line += fmt::format(" /{:<5g} {}", cpu_max, bar(cpu, cpu_max, 12));
    line += fmt::format("  rss {:>7.1f} MiB", rss);
    if (rss_max > 0) line += fmt::format(" /{:<6g} {}", rss_max, bar(rss, rss_max, 12));
    if (const auto io = disk(r); io != "-") line += "  disk " + io + " MiB/s";
    line += fmt::format("  {} {}", r.value("action", ""),
                        streak > 0 ? fmt::format("streak {}", streak) : "");
    if (r.contains("next") && r["next"].is_object()) {
      const auto& n = r["next"];
      const int scans = n.value("in_scans", 0);
      line += scans > 0 ? fmt::format("  next: {} in {} scan{} (~{:.0f} s)", n.value("action", ""),
                                      scans, scans == 1 ? "" : "s", n.value("in_seconds", 0.0))
                        : fmt::format("  next: {} now", n.value("action", ""));
    }
    const bool over = (cpu_max > 0 && cpu > cpu_max) || (rss_max > 0 && rss > rss_max);
    m.lines.push_back({clip(line, width), over ? Line::Style::kWarn : Line::Style::kNormal});
  }
}

// One line for the [[thermal]] sections, when there are any.
void thermal(DashboardModel& m, const json& status, int width) {
  const auto& sections = status.value("thermal", json::array());
  if (sections.empty()) return;
  std::string line = "thermal:";
  bool hot = false;
  for (const auto& t : sections) {
    const auto& c = t.value("celsius", json(nullptr));
    line += fmt::format("  {} {}{}", t.value("name", ""),
                        c.is_number() ? fmt::format("{:.1f} °C", c.get<double>()) : "unreadable",
                        t.value("hot", false) ? " HOT" : "");
    hot = hot || t.value("hot", false);
  }
  m.lines.push_back({clip(line, width), hot ? Line::Style::kWarn : Line::Style::kNormal});
}

// A process's unit as the process table shows it: its container when it has one.
std::string unit_of(const json& p) {
  const auto container = p.value("container", "");
  return container.empty() ? p.value("unit", "") : container;
}

void processes(DashboardModel& m, const DashboardInput& in, int width) {
  std::vector<json> rows;
  if (in.processes) {
    for (const auto& p : in.processes->value("processes", json::array())) {
      const auto text = terminal_safe(p.value("name", "")) + " " +
                        std::to_string(p.value("pid", 0)) + " " + p.value("rule", "") + " " +
                        p.value("category", "") + " " + unit_of(p);
      if (in.filter.empty() || text.find(in.filter) != std::string::npos) rows.push_back(p);
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const json& a, const json& b) {
    switch (in.sort) {
      case Sort::kMemory:
        return a.value("rss_mib", 0.0) > b.value("rss_mib", 0.0);
      case Sort::kPid:
        return a.value("pid", 0) < b.value("pid", 0);
      case Sort::kCpu:
        break;
    }
    return a.value("cpu_percent", 0.0) > b.value("cpu_percent", 0.0);
  });
  m.lines.push_back({fmt::format("PROCESSES (sort: {}{})", to_string(in.sort),
                                 in.filter.empty() ? "" : ", filter: " + in.filter),
                     Line::Style::kTitle});
  m.lines.push_back(
      {clip(fmt::format("{:>7} {:<16} {:>7} {:>10} {:>10}  {:<12} {:<10} {:<12} {}", "PID", "NAME",
                        "CPU%", "RSS(MiB)", "DISK MiB/s", "RULE", "VIOLATIONS", "CATEGORY", "UNIT"),
            width)});
  int row = 0;
  for (const auto& p : rows) {
    if (row >= in.process_rows) break;
    const int streak = p.value("streak", 0);
    auto style = row == in.selected ? Line::Style::kSelected
                 : streak > 0       ? Line::Style::kWarn
                                    : Line::Style::kNormal;
    m.lines.push_back(
        {clip(fmt::format("{:>7} {:<16} {:>7.1f} {:>10.1f} {:>10}  {:<12} {:<10} {:<12} {}",
                          p.value("pid", 0), clip(terminal_safe(p.value("name", "")), 16),
                          p.value("cpu_percent", 0.0), p.value("rss_mib", 0.0), disk(p),
                          clip(p.value("rule", ""), 12), streak, clip(p.value("category", ""), 12),
                          terminal_safe(unit_of(p))),
              width),
         style});
    m.pids.push_back(p.value("pid", 0));
    ++row;
  }
}

std::string clock_time(double ts) {
  const auto t = static_cast<std::time_t>(ts);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min);
}

std::string time_left(double seconds) {
  seconds = std::max(0.0, seconds);
  return seconds >= 90 ? fmt::format("{}m {:02}s", static_cast<int>(seconds / 60),
                                     static_cast<int>(std::fmod(seconds, 60)))
                       : fmt::format("{:.0f} s", seconds);
}

// A message with its numbers taken out: the same event again, whatever its figures.
std::string without_figures(const std::string& message) {
  std::string out;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const bool digit = message[i] >= '0' && message[i] <= '9';
    const bool in_number =
        digit || (message[i] == '.' && !out.empty() && out.back() == '#' &&
                  i + 1 < message.size() && message[i + 1] >= '0' && message[i + 1] <= '9');
    if (!in_number) {
      out += message[i];
    } else if (out.empty() || out.back() != '#') {
      out += '#';
    }
  }
  return out;
}

// The events newest first, the same one again (same kind, rule, action, process and message
// but for its figures) collapsed into one line that counts them.
void events(DashboardModel& m, const DashboardInput& in, int width) {
  m.lines.push_back({"LAST EVENTS", Line::Style::kTitle});
  if (!in.events) return;
  struct Group {
    json event;
    int count = 0;
    double first = 0;
  };
  std::vector<Group> groups;
  for (const auto& e : in.events->value("events", json::array())) {
    auto same = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      for (const char* k : {"kind", "rule", "action", "pid"}) {
        if (g.event.value(k, json()) != e.value(k, json())) return false;
      }
      return without_figures(g.event.value("message", "")) ==
             without_figures(e.value("message", ""));
    });
    if (same == groups.end()) {
      groups.push_back({e, 1, e.value("ts", 0.0)});
    } else {
      ++same->count;
      same->first = e.value("ts", 0.0);  // newest first: each one found is older
    }
  }
  for (std::size_t i = 0; i < groups.size() && i < 8; ++i) {
    const auto& [e, count, first] = groups[i];
    const bool failed = e.contains("ok") && e["ok"].is_boolean() && !e["ok"].get<bool>();
    std::string text =
        fmt::format("{} [{}] {} pid {} {}: {}", e.value("kind", ""), e.value("rule", ""),
                    e.value("action", ""), e.value("pid", 0), terminal_safe(e.value("name", "")),
                    terminal_safe(e.value("message", "")));
    if (count > 1) text += fmt::format(" — {} times since {}", count, clock_time(first));
    m.lines.push_back({clip(text, width), failed ? Line::Style::kBad : Line::Style::kNormal});
  }
}

void frozen(DashboardModel& m, const DashboardInput& in, int width) {
  if (!in.frozen) return;
  const auto list = in.frozen->value("frozen", json::array());
  if (list.empty()) return;
  m.lines.push_back({"FROZEN (t: thaw the selected process)", Line::Style::kTitle});
  for (const auto& f : list) {
    const auto until = f.value("until", json());
    m.lines.push_back(
        {clip(fmt::format("{} pid {} by rule {} ({}), {}",
                          terminal_safe(f.value("name", std::string("?"))), f.value("pid", 0),
                          f.value("rule", ""), f.value("how", f.value("kind", "")),
                          until.is_number() ? time_left(until.get<double>() - in.now) + " left"
                                            : std::string("until thawed")),
              width),
         Line::Style::kWarn});
  }
}

// Every decision about the process the why view was opened on, newest first.
void why(DashboardModel& m, const DashboardInput& in, int width) {
  m.lines.push_back({fmt::format("WHY PID {} (w or Esc: close)", in.why_pid), Line::Style::kTitle});
  const auto entries = in.why ? in.why->value("entries", json::array()) : json::array();
  if (!in.why) m.lines.push_back({"no history available", Line::Style::kBad});
  if (in.why && entries.empty()) m.lines.push_back({"FreezR decided nothing about this process"});
  for (const auto& e : entries) {
    const bool failed = e.contains("ok") && e["ok"].is_boolean() && !e["ok"].get<bool>();
    m.lines.push_back(
        {clip(fmt::format("{} {} [{}] {}: {}", clock_time(e.value("ts", 0.0)), e.value("kind", ""),
                          e.value("rule", ""), e.value("action", ""),
                          terminal_safe(e.value("message", ""))),
              width),
         failed ? Line::Style::kBad : Line::Style::kNormal});
  }
}

void predictions(DashboardModel& m, const DashboardInput& in, int width) {
  if (!in.predictions) return;
  const auto& p = *in.predictions;
  std::vector<Line> lines;
  for (const auto& l : p.value("leaks", json::array())) {
    std::string text = fmt::format(
        "leak [{}] pid {} {}: +{:.1f} MiB/min, now {:.1f} MiB ({:.0f}% "
        "of pairs rising)",
        l.value("rule", ""), l.value("pid", 0), terminal_safe(l.value("name", "")),
        l.value("mib_per_minute", 0.0), l.value("rss_mib", 0.0), 100 * l.value("agreement", 0.0));
    if (l.contains("seconds_to_limit") && l["seconds_to_limit"].is_number()) {
      text += fmt::format(", reaches {:.0f} MiB in {:.0f} s", l.value("limit_mib", 0.0),
                          l["seconds_to_limit"].get<double>());
    }
    lines.push_back({clip(text, width), Line::Style::kWarn});
  }
  if (p.contains("exhaustion") && p["exhaustion"].is_object()) {
    const auto& e = p["exhaustion"];
    lines.push_back(
        {clip(fmt::format("memory exhaustion in {:.0f} s: available {:.0f} MiB falling "
                          "{:.1f} MiB/min to the critical {:.0f} MiB",
                          e.value("seconds", 0.0), e.value("available_mib", 0.0),
                          -e.value("mib_per_minute", 0.0), e.value("critical_mib", 0.0)),
              width),
         Line::Style::kBad});
  }
  for (const auto& a : p.value("anomalies", json::array())) {
    if (lines.size() >= 6) break;
    lines.push_back({clip(
        fmt::format("cpu anomaly [{}] pid {} {}: {:.1f}% against {:.1f}% ± {:.1f}",
                    a.value("rule", ""), a.value("pid", 0), terminal_safe(a.value("name", "")),
                    a.value("cpu", 0.0), a.value("baseline", 0.0), a.value("deviation", 0.0)),
        width)});
  }
  if (lines.empty()) return;
  m.lines.push_back({"PREDICTIONS", Line::Style::kTitle});
  m.lines.insert(m.lines.end(), lines.begin(), lines.end());
  m.lines.push_back({""});
}

}  // namespace

DashboardModel build_dashboard(const DashboardInput& in, int width) {
  DashboardModel m;
  if (!in.status) {
    m.lines.push_back(
        {"FreezR is not running (no answer at " + in.address + ")", Line::Style::kBad});
    m.lines.push_back({"Start it with `freezr run`, or check [http] listen in its configuration."});
    m.lines.push_back({"q: quit"});
    return m;
  }
  m.running = true;
  const auto& s = *in.status;
  const double updated = s.value("updated", 0.0);
  const double age = in.now - updated;
  m.stale = age > std::max(3 * s.value("interval", 1.0), 3 * in.interval) + 1;
  const auto pressure = s.contains("pressure") ? s["pressure"].value("level", "none") : "none";
  const auto& t = s.value("totals", json::object());
  m.lines.push_back(
      {clip(fmt::format("FreezR {}  {}  pressure: {}  scans {}  kills {}  {}",
                        s.value("version", ""), s.value("dry_run", false) ? "DRY-RUN" : "acting",
                        pressure, t.value("checks", 0), t.value("kills", 0), in.address),
            width),
       pressure == "critical"  ? Line::Style::kBad
       : pressure == "warning" ? Line::Style::kWarn
                               : Line::Style::kTitle});
  if (m.stale) {
    m.lines.push_back(
        {fmt::format("data is stale: last scan {:.0f} s ago", age), Line::Style::kBad});
  }
  if (const auto& p = s.value("profile", json::object());
      !p.value("profiles", json::array()).empty()) {
    const auto& name = p.value("name", json(nullptr));
    m.lines.push_back({clip(
        fmt::format("profile: {} ({}: {})", name.is_string() ? name.get<std::string>() : "none",
                    p.value("mode", "auto"), p.value("why", "")),
        width)});
  }
  thermal(m, s, width);
  const auto& h = s.value("health", json::object());
  std::string health = "health:";
  if (h.contains("load")) health += fmt::format(" load {:.2f}", h["load"][0].get<double>());
  if (h.contains("memory_used_percent")) {
    health += fmt::format("  memory {:.1f}% used {}", h["memory_used_percent"].get<double>(),
                          bar(h["memory_used_percent"].get<double>(), 100, 22));
  }
  m.lines.push_back({clip(health, width)});
  m.lines.push_back({""});
  rules(m, s, width);
  m.lines.push_back({""});
  processes(m, in, width);
  m.lines.push_back({""});
  if (in.why_pid > 0) {
    why(m, in, width);
  } else {
    predictions(m, in, width);
    events(m, in, width);
  }
  frozen(m, in, width);
  m.lines.push_back({""});
  m.lines.push_back({"q quit  s sort  / filter  up/down select  t thaw  w why"});
  return m;
}

}  // namespace freezr::ui
