#include "ui/dashboard_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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
    line += fmt::format("  {} {}", r.value("action", ""),
                        streak > 0 ? fmt::format("streak {}", streak) : "");
    const bool over = (cpu_max > 0 && cpu > cpu_max) || (rss_max > 0 && rss > rss_max);
    m.lines.push_back({clip(line, width), over ? Line::Style::kWarn : Line::Style::kNormal});
  }
}

void processes(DashboardModel& m, const DashboardInput& in, int width) {
  std::vector<json> rows;
  if (in.processes) {
    for (const auto& p : in.processes->value("processes", json::array())) {
      const auto text = terminal_safe(p.value("name", "")) + " " +
                        std::to_string(p.value("pid", 0)) + " " + p.value("rule", "") + " " +
                        p.value("category", "");
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
  m.lines.push_back({clip(fmt::format("{:>7} {:<16} {:>7} {:>10}  {:<12} {:<10} {}", "PID", "NAME",
                                      "CPU%", "RSS(MiB)", "RULE", "VIOLATIONS", "CATEGORY"),
                          width)});
  int row = 0;
  for (const auto& p : rows) {
    if (row >= in.process_rows) break;
    const int streak = p.value("streak", 0);
    auto style = row == in.selected ? Line::Style::kSelected
                 : streak > 0       ? Line::Style::kWarn
                                    : Line::Style::kNormal;
    m.lines.push_back(
        {clip(fmt::format("{:>7} {:<16} {:>7.1f} {:>10.1f}  {:<12} {:<10} {}", p.value("pid", 0),
                          clip(terminal_safe(p.value("name", "")), 16), p.value("cpu_percent", 0.0),
                          p.value("rss_mib", 0.0), clip(p.value("rule", ""), 12), streak,
                          p.value("category", "")),
              width),
         style});
    m.pids.push_back(p.value("pid", 0));
    ++row;
  }
}

void events_and_frozen(DashboardModel& m, const DashboardInput& in, int width) {
  m.lines.push_back({"LAST EVENTS", Line::Style::kTitle});
  if (in.events) {
    for (const auto& e : in.events->value("events", json::array())) {
      const bool failed = e.contains("ok") && e["ok"].is_boolean() && !e["ok"].get<bool>();
      m.lines.push_back({clip(fmt::format("{} [{}] {} pid {} {}: {}", e.value("kind", ""),
                                          e.value("rule", ""), e.value("action", ""),
                                          e.value("pid", 0), terminal_safe(e.value("name", "")),
                                          terminal_safe(e.value("message", ""))),
                              width),
                         failed ? Line::Style::kBad : Line::Style::kNormal});
    }
  }
  if (in.frozen) {
    const auto list = in.frozen->value("frozen", json::array());
    if (!list.empty()) {
      m.lines.push_back({"FROZEN (t: thaw the selected process)", Line::Style::kTitle});
      for (const auto& f : list) {
        m.lines.push_back({fmt::format("pid {} by rule {} ({})", f.value("pid", 0),
                                       f.value("rule", ""), f.value("kind", ""))});
      }
    }
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
  predictions(m, in, width);
  events_and_frozen(m, in, width);
  m.lines.push_back({""});
  m.lines.push_back({"q quit  s sort  / filter  up/down select  t thaw"});
  return m;
}

}  // namespace freezr::ui
