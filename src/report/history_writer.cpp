#include "report/history_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/top.h"

namespace freezr::report {

HistoryWriter::HistoryWriter(store::History* history, config::HistorySettings settings,
                             std::function<void(const std::string&)> warn)
    : history_(history), settings_(settings), warn_(std::move(warn)) {}

void HistoryWriter::fail(const std::string& what, const Result<void>& done) {
  if (done || broken_) return;
  broken_ = true;
  pending_.clear();
  warn_("history disabled after a database error while " + what + ": " + done.error().message +
        " (monitoring continues; the file is checked again at the next start)");
}

void HistoryWriter::event(store::Event e) {
  if (listener_) listener_(e);
  if (feed_.size() < 500) feed_.push_back(e);
  if (active()) pending_.push_back(std::move(e));
}

void HistoryWriter::lifecycle(double ts, const std::string& action, bool ok,
                              const std::string& message) {
  event({ts, "lifecycle", "", static_cast<Pid>(::getpid()), "freezr", action, ok, message, {}});
}

std::vector<store::Event> HistoryWriter::take_feed() {
  std::vector<store::Event> out;
  out.swap(feed_);
  return out;
}

namespace {
std::string decision_data(const engine::Decision& d, const engine::TargetInfo& t) {
  nlohmann::json j = {{"origin", engine::to_string(d.origin)},
                      {"verdict", engine::to_string(d.verdict)},
                      {"start_time", t.id.start_time},
                      {"cpu_percent", std::round(t.cpu_percent * 10) / 10},
                      {"rss_mib", std::round(t.rss_mb * 10) / 10}};
  if (d.origin == engine::Origin::kRule) {
    j["step"] = d.step + 1;
    j["metric"] = d.metric;
    j["value"] = std::round(d.value * 10) / 10;
    j["threshold"] = d.threshold;
    j["streak"] = d.streak;
  }
  if (d.predicted_seconds) j["predicted_seconds"] = std::round(*d.predicted_seconds);
  return j.dump();
}
}  // namespace

void HistoryWriter::decision(double ts, const engine::Decision& d) {
  const std::string action = engine::to_string(d.action.kind);
  const std::string said = std::string(engine::to_string(d.verdict)) + ": " + d.reason();
  auto row = [&](const engine::TargetInfo& t, const std::string& message) {
    event({ts, "decision", d.rule, t.id.pid, t.comm, action, std::nullopt, message,
           decision_data(d, t)});
  };
  for (const auto& t : d.targets) row(t, said);
  for (const auto& [t, why] : d.skipped) row(t, said + " (" + why + ")");
  if (d.targets.empty() && d.skipped.empty() && d.entity.pid != 0) {
    row({d.entity, "", 0, 0}, said);
  }
  if (d.verdict == engine::Verdict::kAct || d.verdict == engine::Verdict::kRelease) return;
  const auto& t = !d.targets.empty()   ? d.targets.front()
                  : !d.skipped.empty() ? d.skipped.front().first
                                       : engine::TargetInfo{};
  const bool protected_one = d.verdict == engine::Verdict::kProtected && !d.skipped.empty();
  event({ts,
         "action",
         d.rule,
         t.id.pid,
         t.comm,
         action,
         std::nullopt,
         protected_one ? said + " (" + d.skipped.front().second + ")" : said,
         {}});
}

void HistoryWriter::outcome(double ts, const act::ActionOutcome& o) {
  if (!o.final && o.ok) return;  // progress ("SIGTERM sent") is in the log; the end counts
  store::Event e;
  e.ts = ts;
  e.kind = "action";
  e.rule = o.rule;
  e.action = std::string(o.undo ? "undo " : "") + engine::to_string(o.action);
  if (o.target) {
    e.pid = o.target->id.pid;
    e.comm = o.target->comm;
  } else {
    e.comm = o.unit;  // a unit held as a whole
  }
  e.ok = o.ok;
  e.message =
      (o.dry_run ? "dry-run: " : "") + (o.service.empty() ? "" : o.service + ": ") + o.detail;
  if (!o.undo && !o.reason.empty()) e.message += " (because " + o.reason + ")";
  event(std::move(e));
}

void HistoryWriter::transitions(double ts, const std::vector<engine::Transition>& list) {
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

void HistoryWriter::add_top(const engine::Snapshot& snap, const engine::Classification& cls,
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

void HistoryWriter::scan(double ts, const engine::Snapshot& snap, const engine::Classification& cls,
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

void HistoryWriter::flush(double ts) {
  if (!active() || pending_.empty()) return;
  fail("writing events", history_->record(ts, {}, {}, {}, false, pending_));
  pending_.clear();
}

void HistoryWriter::prune(double now) {
  if (!active()) return;
  store::Retention r;
  r.raw_seconds = settings_.raw_hours * 3600;
  r.minutes_seconds = settings_.minutes_days * 86400;
  r.events_seconds = settings_.events_days * 86400;
  fail("pruning", history_->prune(now, r));
}

}  // namespace freezr::report
