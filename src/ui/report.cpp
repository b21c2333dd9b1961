#include "ui/report.h"

#include <fmt/format.h>

#include "config/profile_choice.h"

namespace freezr::ui {

std::string format_duration(double seconds) {
  const auto total = static_cast<long long>(seconds < 0 ? 0 : seconds);
  const long long h = total / 3600, m = (total % 3600) / 60, s = total % 60;
  if (h > 0) return fmt::format("{}h {}m {}s", h, m, s);
  if (m > 0) return fmt::format("{}m {}s", m, s);
  return fmt::format("{}s", s);
}

namespace {
const char* kTop = "╔═══════════════════════════════════════════════════════════╗\n";
const char* kBottom = "╚═══════════════════════════════════════════════════════════╝\n";

std::string boxed_title(const std::string& title) {
  constexpr int kWidth = 59;
  const int pad = kWidth - static_cast<int>(title.size());
  const int left = pad / 2;
  return fmt::format("{}║{}{}{}║\n{}", kTop, std::string(static_cast<std::size_t>(left), ' '),
                     title, std::string(static_cast<std::size_t>(pad - left), ' '), kBottom);
}

std::string action_text(const engine::Action& a) {
  switch (a.kind) {
    case engine::ActionKind::kLog:
      return "log";
    case engine::ActionKind::kRenice: {
      std::string s = "renice";
      if (a.nice) s += fmt::format(" to {}", *a.nice);
      if (a.ionice) s += a.ionice->io_class == 3 ? ", ionice idle" : ", ionice lowered";
      return s;
    }
    case engine::ActionKind::kThrottle:
      return fmt::format("throttle to {:g}% of a core", a.cpu_limit);
    case engine::ActionKind::kFreeze:
      return fmt::format("freeze {:g}s", a.duration);
    case engine::ActionKind::kKill:
      return "kill";
    case engine::ActionKind::kRestart:
      return "restart " + a.service;
    case engine::ActionKind::kExec:
      return "exec " + engine::command_line(a.command);
  }
  return "?";
}

std::string step_text(const engine::Step& s, bool short_form) {
  std::string out;
  if (s.cpu_percent) out += fmt::format("CPU {:.1f}%", *s.cpu_percent);
  if (s.memory_mb) out += fmt::format("{}Memory {:.0f}MB", s.cpu_percent ? ", " : "", *s.memory_mb);
  if (s.window > 0) {
    out += short_form ? fmt::format(" ×{}/{}", s.violations, s.window)
                      : fmt::format(" ({} of {} scans", s.violations, s.window);
  } else {
    out += short_form ? fmt::format(" ×{}", s.violations)
                      : fmt::format(" (max {} violations", s.violations);
  }
  return out;
}

std::string rule_line(const engine::Rule& r) {
  std::string s = fmt::format("   └─ {}:", r.name);
  const bool group = r.aggregate == engine::Aggregate::kGroup;
  if (r.on_exec) s += " at exec → " + action_text(*r.on_exec) + (r.steps.empty() ? "" : ";");
  if (r.steps.empty()) {
    // exec-only rule
  } else if (r.steps.size() == 1) {
    const auto& st = r.steps[0];
    s += " " + step_text(st, false);
    if (group) s += ", summed over the group";
    s += ") → " + action_text(st.action);
    if (st.cooldown > 0) s += fmt::format(", cooldown {}", format_duration(st.cooldown));
  } else {
    s += group ? " ladder over the group:" : " ladder:";
    for (std::size_t i = 0; i < r.steps.size(); ++i) {
      s += (i ? "; " : " ") + step_text(r.steps[i], true) + " → " + action_text(r.steps[i].action);
    }
  }
  if (r.max_actions > 0) {
    s += fmt::format(", at most {} actions per {}", r.max_actions, format_duration(r.per_seconds));
  }
  if (!r.enabled) s += " [disabled]";
  return s + "\n";
}
}  // namespace

std::string banner(const config::Config& config, bool dry_run) {
  std::string out = "\n" + boxed_title(fmt::format("FreezR Process Monitor v{}", kVersion));
  out += "\n📊 Monitoring Configuration:\n";
  for (const auto& r : config.rules) out += rule_line(r);
  if (config.rules.empty()) out += "   └─ (no rules: measuring only)\n";
  out += fmt::format("   └─ Check interval: {:g}s\n", config.monitor.interval);
  if (!config.profiles.empty()) {
    out += fmt::format("   └─ Profile: {} (profiles: {}; `freezr profile NAME` switches)\n",
                       config.profile.empty() ? "none" : config.profile,
                       config::profile_names(config));
  }
  if (config.pressure.enabled) {
    const auto& p = config.pressure;
    out += fmt::format("   └─ Memory pressure: warning → {}, critical → {} ({})\n",
                       engine::to_string(p.warning.action.kind),
                       engine::to_string(p.critical.action.kind),
                       p.victims.kill_order.empty() ? "the largest process first"
                                                    : "the kill_order first, then the largest");
  }
  std::string pieces;
  for (const auto& piece : config.pieces) pieces += " + " + piece;
  out += fmt::format("   └─ Config: {}{}\n", config.source, pieces);
  out += dry_run ? "   └─ DRY-RUN: decisions are logged, nothing is signalled or restarted\n"
                 : "   └─ ACTING: the actions above are carried out (--dry-run, or dry_run = true "
                   "in [monitor], only logs them)\n";
  return out;
}

std::string statistics_block(const engine::Totals& t) {
  std::string out = "\n" + boxed_title("PROCESS MONITOR STATISTICS");
  out += fmt::format("📈 Runtime: {}\n", format_duration(t.runtime));
  out += fmt::format("📊 Total checks: {}\n", t.checks);
  out +=
      fmt::format("⚠️  Violations: CPU={}, Memory={} (since last action: CPU={}, Memory={})\n",
                  t.cpu_violations, t.memory_violations, t.cpu_since_action, t.memory_since_action);
  out += fmt::format("🔄 Restarts: {}\n", t.restarts);
  out += fmt::format("🔪 Kills: {}\n", t.kills);
  out += fmt::format("🧊 Freezes: {}, Throttles: {}, Renices: {}\n", t.freezes, t.throttles,
                     t.renices);
  if (t.failed_actions > 0) out += fmt::format("❌ Failed actions: {}\n", t.failed_actions);
  out += fmt::format("📉 Violation rate: {:.2f}% ({} of {} process checks)\n", t.violation_rate(),
                     t.violating_checks, t.process_checks);
  std::string health;
  if (t.load) health += fmt::format("Load: {:.2f}", t.load->one);
  if (t.memory) {
    health +=
        fmt::format("{}Memory: {:.1f}% used", health.empty() ? "" : ", ", t.memory->used_percent());
  }
  out += fmt::format("💚 System health: {}\n", health.empty() ? "unknown" : health);
  return out;
}

}  // namespace freezr::ui
