// The vocabulary of decisions (verdicts, origins, reasons) and the one test of a rule's steps
// against a measure, shared by the policy and `freezr check`.
#include <cstdio>

#include "engine/policy.h"

namespace freezr::engine {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::kAct:
      return "act";
    case Verdict::kProtected:
      return "protected";
    case Verdict::kCooldown:
      return "cooldown";
    case Verdict::kRateLimited:
      return "rate-limited";
    case Verdict::kRelease:
      return "release";
  }
  return "?";
}

const char* to_string(Origin o) {
  switch (o) {
    case Origin::kRule:
      return "rule";
    case Origin::kExec:
      return "exec";
    case Origin::kPressure:
      return "pressure";
  }
  return "?";
}

std::string Decision::reason() const {
  if (!note.empty()) return note;
  char buf[160];
  if (verdict == Verdict::kRelease) {
    std::snprintf(buf, sizeof buf, "back under its thresholds for %d scan%s", streak,
                  streak == 1 ? "" : "s");
    return buf;
  }
  const bool cpu = metric == "cpu";
  if (predicted_seconds) {
    std::snprintf(buf, sizeof buf,
                  "memory %.1f MiB rising %.1f MiB/min reaches %.1f MiB in %.0f s for %d scan%s",
                  value, predicted_rate, threshold, *predicted_seconds, streak,
                  streak == 1 ? "" : "s");
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%s %.1f%s > %.1f%s for %d scan%s", metric.c_str(), value,
                cpu ? "%" : " MiB", threshold, cpu ? "%" : " MiB", streak, streak == 1 ? "" : "s");
  return buf;
}

RuleCounters& RuleCounters::operator+=(const RuleCounters& o) {
  checks += o.checks;
  violating_checks += o.violating_checks;
  cpu_violations += o.cpu_violations;
  memory_violations += o.memory_violations;
  cpu_since_action += o.cpu_since_action;
  memory_since_action += o.memory_since_action;
  actions += o.actions;
  cpu_seconds += o.cpu_seconds;
  return *this;
}

namespace {
// A step's memory threshold predicted to be reached within its predict_minutes.
bool predicted(const Step& s, const std::optional<Trend>& leak, double mem) {
  if (!s.predict_minutes || !s.memory_mb || !leak) return false;
  const auto eta = seconds_to_reach(*leak, mem, *s.memory_mb);
  return eta && mem <= *s.memory_mb && *eta <= *s.predict_minutes * 60;
}
}  // namespace

std::vector<StepViolation> step_violations(const Rule& r, const Measure& m) {
  std::vector<StepViolation> out(r.steps.size());
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    const Step& s = r.steps[i];
    out[i].cpu = s.cpu_percent && m.cpu_valid && m.cpu > *s.cpu_percent;
    const bool over = s.memory_mb && m.mem > *s.memory_mb;
    out[i].predicted = !over && predicted(s, m.leak, m.mem);
    out[i].memory = over || out[i].predicted;
  }
  return out;
}

std::vector<std::pair<ProcessId, Measure>> measures(const Rule& r, std::size_t ri,
                                                    const std::vector<std::size_t>& members,
                                                    const Snapshot& snap,
                                                    const Forecast* forecast) {
  std::vector<std::pair<ProcessId, Measure>> out;
  if (r.aggregate == Aggregate::kGroup) {
    if (members.empty()) return out;
    Measure m;
    for (auto idx : members) {
      const auto& p = snap.processes[idx];
      if (p.cpu_valid) m.cpu += p.total_cpu(), m.cpu_valid = true;
      m.mem += p.rss_mb();
    }
    if (forecast != nullptr) m.leak = forecast->leak(ri, kGroupEntity);
    out.emplace_back(kGroupEntity, std::move(m));
    return out;
  }
  for (auto idx : members) {
    const auto& p = snap.processes[idx];
    Measure m{p.total_cpu(), p.cpu_valid, p.rss_mb(), std::nullopt};
    if (forecast != nullptr) m.leak = forecast->leak(ri, p.id);
    out.emplace_back(p.id, std::move(m));
  }
  return out;
}

}  // namespace freezr::engine
