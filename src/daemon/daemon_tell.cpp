// What the Daemon tells and runs around its actions: the step hooks, the notices (webhooks,
// the desktop), and the predictions' warnings.
#include "core/text.h"
#include "daemon/daemon_loop.h"

namespace freezr::daemon::detail {

void Daemon::start_notify(Preflight& pf) {
  writer_.set_listener([this](const store::Event& e) {
    if (e.kind == "pressure") notifier_.notify(notify::pressure_notice(e.ts, e.action, e.message));
    if (e.kind == "kernel_oom")
      notifier_.notify(notify::kernel_oom_notice(e.ts, e.comm, e.pid, e.message));
    if (e.kind == "lifecycle") {
      notifier_.notify(notify::lifecycle_notice(e.ts, e.action, e.ok.value_or(true), e.message));
    }
  });
  for (const auto& problem : notifier_.configure(cfg_->notify)) pf.check(false, "notify", problem);
  if (notifier_.webhooks() > 0) {
    pf.check(true, "notify",
             fmt::format("{} webhook(s): notices are queued and sent off the loop",
                         notifier_.webhooks()));
  }
}

void Daemon::run_hook(const char* when, const engine::Command& c, const act::ActionOutcome& o,
                      act::Environment env, std::function<void()> next) {
  const auto line = engine::command_line(c);
  std::vector<report::Field> fields = {{"rule", o.rule},
                                       {"when", std::string(when)},
                                       {"action", std::string(engine::to_string(o.action))},
                                       {"command", line}};
  if (o.target) fields.push_back({"pid", static_cast<long long>(o.target->id.pid)});
  auto record = [this, when, o, fields, line](bool ok, const std::string& result) {
    auto f = fields;
    f.push_back({"ok", ok});
    const auto msg =
        fmt::format("{} hook of {} {}: {}", when, engine::to_string(o.action), line, result);
    log_.line(ok ? level_enum::info : level_enum::warn, "hook", f, msg);
    writer_.event({clock_.wall(),
                   "action",
                   o.rule,
                   o.target ? o.target->id.pid : 0,
                   o.target ? o.target->comm : std::string(),
                   std::string("hook ") + when,
                   ok,
                   msg,
                   {}});
  };
  if (dry_run()) {
    record(true, "dry-run: would run it");
    if (next) next();
    return;
  }
  commands_.run(c, env, [this, record, next](const act::CommandResult& r) {
    record(r.ok(), r.describe());
    if (next) next();
    if (stopping_ && linux_.pending() == 0) io_.stop();
  });
}

void Daemon::notify_predictions() {
  std::set<std::pair<std::string, Pid>> now;
  for (const auto& l : predictions_.forecaster().leaks()) {
    if (!l.seconds_to_limit || !l.limit_mb || l.rule_index >= cfg_->rules.size()) continue;
    const auto& rule = cfg_->rules[l.rule_index];
    const auto step = std::find_if(rule.steps.begin(), rule.steps.end(), [&](const auto& s) {
      return s.memory_mb && *s.memory_mb == *l.limit_mb;
    });
    if (step == rule.steps.end()) continue;
    const std::pair<std::string, Pid> key{l.rule, l.entity.pid};
    now.insert(key);
    if (warned_leaks_.count(key) != 0U) continue;
    auto n = notify::prediction_notice(
        clock_.wall(), l.rule, l.entity.pid, l.comm, engine::to_string(step->action.kind),
        *l.seconds_to_limit,
        fmt::format("{:.0f} MiB now, growing {:.1f} MiB/min towards {:g} MiB", l.rss_mb,
                    l.mb_per_minute, *l.limit_mb));
    n.uid = owner_of(opts_.proc_root, l.entity.pid);
    notifier_.notify(n);
  }
  warned_leaks_ = std::move(now);
}

notify::Notice Daemon::notice_of(const act::ActionOutcome& o) {
  auto n = notify::action_notice(clock_.wall(), o);
  if (o.target) {
    if (const auto it = target_uids_.find(o.target->id); it != target_uids_.end()) {
      n.uid = it->second;
      if (o.final) target_uids_.erase(it);
    }
  }
  return n;
}

void Daemon::show_on_desktop(const notify::DesktopLaunch& l) {
  commands_.run(
      l.command, l.env,
      [this, l](const act::CommandResult& r) {
        const auto& user = l.command.user;
        if (!r.ok()) {
          log_.line(level_enum::warn, "notify", {{"user", user}},
                    "desktop notification for " + user + " failed: " + r.describe());
        } else if (l.thaw_pid != 0 && r.output.rfind("invoked thaw", 0) == 0) {
          const auto thawed = dry_run() ? dry_.thaw(l.thaw_pid) : reversibles_.thaw(l.thaw_pid);
          log_.line(level_enum::info, "notify",
                    {{"user", user}, {"pid", static_cast<long long>(l.thaw_pid)}},
                    fmt::format("{} chose \"Thaw now\" for pid {}: {}", user, l.thaw_pid,
                                thawed.empty() ? "it was no longer frozen" : "thawed"));
        }
        if (stopping_ && linux_.pending() == 0) io_.stop();
      },
      /*background=*/true);
}

void Daemon::on_kernel_kill(const KernelKill& k, const scan::ScanResult& r) {
  const auto& kill = k.kill;
  std::string what;
  if (kill.pid == 0) {
    what =
        "the kernel's OOM killer killed a process (which one: none vanished since the last scan)";
  } else {
    what = fmt::format("the kernel's OOM killer killed {}{} (PID {}, {:.0f} MiB{}){}",
                       k.guessed ? "probably " : "", terminal_safe(kill.comm), kill.pid,
                       static_cast<double>(kill.anon_rss_kb) / 1024.0,
                       k.guessed ? ", the largest process gone since the last scan" : " anonymous",
                       kill.cgroup_limit ? " at its memory cgroup's limit" : "");
  }
  const auto order = engine::rank_victims(r.snap, r.cls, cfg_->rules, cfg_->pressure.victims,
                                          protection_, scanner_.info(), [this](Pid pid) {
                                            return scan::read_oom_facts(
                                                source_, pid, cfg_->pressure.victims.memory_metric);
                                          });
  std::string chosen = "FreezR has no candidate";
  if (!order.ranked.empty()) {
    const auto& v = order.ranked.front();
    const auto& p = r.snap.processes[v.index];
    chosen = fmt::format("FreezR would have chosen {} (PID {}: {})", terminal_safe(p.comm),
                         p.id.pid, v.reason);
  }
  const auto message = what + "; " + chosen;
  log_.line(
      level_enum::warn, "kernel-oom",
      {{"pid", static_cast<long long>(kill.pid)}, {"name", kill.comm}, {"guessed", k.guessed}},
      message);
  writer_.event({clock_.wall(), "kernel_oom", "", kill.pid, kill.comm, "kill", true, message, {}});
}

void Daemon::start_thermal(Preflight& pf) {
  for (const auto& t : cfg_->thermal) {
    if (const auto c = sensors_.read(t.sensor)) {
      pf.check(
          true, "thermal",
          fmt::format("{}: {} at {:.1f} °C (acts above {:g} °C)", t.name, t.sensor, *c, t.above));
      continue;
    }
    std::string known;
    for (const auto& [name, c] : sensors_.list()) known += (known.empty() ? "" : ", ") + name;
    pf.check(false, "thermal",
             fmt::format("{}: no sensor '{}' under {} (found: {})", t.name, t.sensor,
                         opts_.sys_root, known.empty() ? "none" : known));
  }
}

void Daemon::cool_down(const scan::ScanResult& r) {
  if (cfg_->thermal.empty()) return;
  temperatures_.clear();
  for (const auto& t : cfg_->thermal) temperatures_.push_back(sensors_.read(t.sensor));
  for (const auto& d :
       thermal_.evaluate(r.snap, r.cls, temperatures_, protection_, clock_.monotonic())) {
    carry_out(d);
  }
}

std::vector<serve::ThermalRow> Daemon::thermal_rows() const {
  std::vector<serve::ThermalRow> out;
  for (std::size_t i = 0; i < cfg_->thermal.size(); ++i) {
    const auto& t = cfg_->thermal[i];
    out.push_back({t.name, t.sensor, i < temperatures_.size() ? temperatures_[i] : std::nullopt,
                   thermal_.hot(i)});
  }
  return out;
}

}  // namespace freezr::daemon::detail
