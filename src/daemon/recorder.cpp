#include "daemon/recorder.h"

#include "core/top.h"

#include <algorithm>

#include <fmt/format.h>

namespace freezr::daemon {

Recorder::Recorder(store::History* history, config::HistorySettings settings,
                   std::function<void(const std::string&)> warn)
    : history_(history), settings_(settings), warn_(std::move(warn)) {}

void Recorder::fail(const std::string& what, const std::string& err) {
  if (err.empty() || broken_) return;
  broken_ = true;
  pending_.clear();
  warn_("history disabled after a database error while " + what + ": " + err +
        " (monitoring continues; the file is checked again at the next start)");
}

void Recorder::event(store::Event e) {
  if (feed_.size() < 500) feed_.push_back(e);
  if (active()) pending_.push_back(std::move(e));
}

std::vector<store::Event> Recorder::take_feed() {
  std::vector<store::Event> out;
  out.swap(feed_);
  return out;
}

void Recorder::decision(double ts, const engine::Decision& d) {
  if (d.verdict == engine::Verdict::kAct || d.verdict == engine::Verdict::kRelease) return;
  store::Event e;
  e.ts = ts;
  e.kind = "action";
  e.rule = d.rule;
  e.action = engine::to_string(d.action.kind);
  const auto& t = !d.targets.empty() ? d.targets.front()
                  : !d.skipped.empty() ? d.skipped.front().first
                                       : engine::TargetInfo{};
  e.pid = t.id.pid;
  e.comm = t.comm;
  e.message = std::string(engine::to_string(d.verdict)) + ": " + d.reason();
  if (d.verdict == engine::Verdict::kProtected && !d.skipped.empty()) {
    e.message += " (" + d.skipped.front().second + ")";
  }
  event(std::move(e));
}

void Recorder::outcome(double ts, const act::ActionOutcome& o) {
  if (!o.final && o.ok) return;  // progress ("SIGTERM sent") is in the log; the end counts
  store::Event e;
  e.ts = ts;
  e.kind = "action";
  e.rule = o.rule;
  e.action = std::string(o.undo ? "undo " : "") + engine::to_string(o.action);
  if (o.target) {
    e.pid = o.target->id.pid;
    e.comm = o.target->comm;
  }
  e.ok = o.ok;
  e.message = (o.dry_run ? "dry-run: " : "") + (o.service.empty() ? "" : o.service + ": ") +
              o.detail;
  event(std::move(e));
}

void Recorder::transitions(double ts, const std::vector<engine::Transition>& list) {
  for (const auto& t : list) {
    store::Event e;
    e.ts = ts;
    e.kind = "violation";
    e.rule = t.rule;
    e.pid = t.entity.pid;
    e.comm = t.comm;
    e.message = t.started ? fmt::format("started: {} {:.1f}{}", t.metric, t.value,
                                        t.metric == "cpu" ? "%" : " MiB")
                          : "ended";
    event(std::move(e));
  }
}

void Recorder::add_top(const engine::Snapshot& snap, const engine::Classification& cls,
                       const std::vector<engine::Rule>& rules,
                       std::vector<store::TopSample>& top) const {
  std::vector<std::size_t> all;
  for (std::size_t i = 0; i < snap.processes.size(); ++i) {
    if (!snap.processes[i].kernel_thread) all.push_back(i);
  }
  for (const char* by : {"cpu", "memory"}) {
    const bool cpu = by[0] == 'c';
    auto idx = all;
    keep_top(idx, static_cast<std::size_t>(settings_.top), [&](std::size_t i) {
      const auto& p = snap.processes[i];
      return cpu ? p.cpu_percent : static_cast<double>(p.rss_bytes);
    });
    for (std::size_t k = 0; k < idx.size(); ++k) {
      const auto& p = snap.processes[idx[k]];
      const int r = cls.first_rule[idx[k]];
      top.push_back({by, static_cast<int>(k + 1), p.id, p.comm, p.cpu_percent, p.rss_mb(),
                     r >= 0 ? rules[static_cast<std::size_t>(r)].name : std::string()});
    }
  }
}

void Recorder::scan(double ts, const engine::Snapshot& snap, const engine::Classification& cls,
                    const std::vector<engine::Rule>& rules, const engine::Policy& policy,
                    bool degraded, bool with_top) {
  if (!active()) return;
  std::vector<store::RuleSample> rs;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto& c = policy.counters(i);
    rs.push_back({rules[i].name, static_cast<std::int64_t>(c.processes), c.cpu_percent, c.rss_mb,
                  policy.streak(i)});
  }
  std::vector<store::TopSample> top;
  if (with_top) add_top(snap, cls, rules, top);
  store::SystemSample sys;
  sys.processes = static_cast<std::int64_t>(snap.processes.size());
  if (snap.loadavg) sys.load1 = snap.loadavg->one;
  if (snap.meminfo) {
    sys.mem_used_percent = snap.meminfo->used_percent();
    sys.mem_available_mib = static_cast<double>(snap.meminfo->available_kb) / 1024.0;
    sys.swap_free_mib = static_cast<double>(snap.meminfo->swap_free_kb) / 1024.0;
  }
  if (snap.memory_pressure) {
    sys.psi_some_avg10 = snap.memory_pressure->some.avg10;
    if (snap.memory_pressure->full) sys.psi_full_avg10 = snap.memory_pressure->full->avg10;
  }
  fail("writing a scan", history_->record(ts, rs, top, sys, !degraded, pending_));
  pending_.clear();
}

void Recorder::flush(double ts) {
  if (!active() || pending_.empty()) return;
  fail("writing events", history_->record(ts, {}, {}, {}, false, pending_));
  pending_.clear();
}

void Recorder::prune(double now) {
  if (!active()) return;
  store::Retention r;
  r.raw_seconds = settings_.raw_hours * 3600;
  r.minutes_seconds = settings_.minutes_days * 86400;
  r.events_seconds = settings_.events_days * 86400;
  fail("pruning", history_->prune(now, r));
}

}  // namespace freezr::daemon
