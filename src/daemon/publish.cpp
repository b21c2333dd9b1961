#include "daemon/publish.h"

namespace freezr::daemon {

std::shared_ptr<const serve::State> build_state(PublishInput in) {
  auto s = std::make_shared<serve::State>();
  const auto& snap = in.scan->snap;
  const auto& cls = in.scan->cls;
  const auto& rules = *in.rules;
  s->updated = in.now_wall;
  s->started = in.started_wall;
  s->dry_run = in.dry_run;
  s->interval = in.interval;
  s->status = std::move(in.status);
  s->actions = std::move(in.actions);
  s->scans = in.scans;
  s->last_scan_seconds = in.last_scan_seconds;
  s->scan_seconds_total = in.scan_seconds_total;
  s->self_cpu_seconds = in.self_cpu_seconds;
  s->self_rss_bytes = in.self_rss_bytes;
  s->control = in.control;
  s->memory = snap.meminfo;
  s->load = snap.loadavg;
  s->psi_cpu = snap.cpu_pressure;
  s->psi_io = snap.io_pressure;
  s->psi_memory = snap.memory_pressure;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto& c = in.policy->counters(i);
    const auto& r = rules[i];
    s->rules.push_back({r.name,
                        r.steps.size() == 1 ? engine::to_string(r.steps[0].action.kind) : "ladder",
                        r.enabled, c.processes, c.cpu_percent, c.rss_mb, in.policy->streak(i),
                        c.checks, c.violating_checks, c.cpu_violations, c.memory_violations});
  }
  s->processes.reserve(snap.processes.size());
  for (std::size_t i = 0; i < snap.processes.size(); ++i) {
    const auto& p = snap.processes[i];
    if (p.kernel_thread) continue;
    const int r = cls.first_rule[i];
    s->processes.push_back({p.id.pid, p.comm, p.cpu_percent, p.rss_mb(),
                            r >= 0 ? rules[static_cast<std::size_t>(r)].name : std::string(),
                            r >= 0 ? in.policy->entity_streak(static_cast<std::size_t>(r), p.id)
                                   : 0});
  }
  for (const auto& f : in.frozen) {
    s->frozen.push_back({f.process.pid, f.rule, f.kind, f.applied_at});
  }
  return s;
}

}  // namespace freezr::daemon
