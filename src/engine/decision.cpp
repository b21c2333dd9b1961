// The vocabulary of decisions (verdicts, origins, reasons) and the one test of a rule's steps
// against a measure, shared by the policy and `freezr check`.
#include <cstdio>
#include <map>

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

const char* to_string(Metric m) {
  switch (m) {
    case Metric::kCpu:
      return "cpu";
    case Metric::kMemory:
      return "memory";
    case Metric::kIoRead:
      return "io_read";
    case Metric::kIoWrite:
      return "io_write";
    case Metric::kPressure:
      return "pressure";
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
    case Origin::kThermal:
      return "thermal";
  }
  return "?";
}

std::string Decision::reason() const {
  if (!note.empty()) return note;
  char buf[192];
  if (verdict == Verdict::kRelease) {
    std::snprintf(buf, sizeof buf, "back under its thresholds for %d scan%s", streak,
                  streak == 1 ? "" : "s");
    return buf;
  }
  const std::string when = gates.empty() ? "" : " while " + gates;
  if (predicted_seconds) {
    std::snprintf(buf, sizeof buf, "memory %.1f MiB rising %.1f MiB/min reaches %.1f MiB in %.0f s",
                  value, predicted_rate, threshold, *predicted_seconds);
    return buf + when + scans();
  }
  if (metric.ends_with("_pressure")) {
    std::snprintf(buf, sizeof buf, "%.*s pressure %.1f%% > %.1f%%",
                  static_cast<int>(metric.size() - 9), metric.c_str(), value, threshold);
    return buf + scans();
  }
  const char* unit = metric == "cpu" ? "%" : metric == "memory" ? " MiB" : " MiB/s";
  const char* what = metric == "io_read"    ? "disk reads"
                     : metric == "io_write" ? "disk writes"
                                            : metric.c_str();
  std::snprintf(buf, sizeof buf, "%s %.1f%s > %.1f%s", what, value, unit, threshold, unit);
  return buf + when + scans();
}

std::string Decision::scans() const {
  char buf[64];
  if (window > 0) {
    std::snprintf(buf, sizeof buf, " in %d of the last %d scans", streak, window);
  } else {
    std::snprintf(buf, sizeof buf, " for %d scan%s", streak, streak == 1 ? "" : "s");
  }
  return buf;
}

RuleCounters& RuleCounters::operator+=(const RuleCounters& o) {
  checks += o.checks;
  violating_checks += o.violating_checks;
  cpu_violations += o.cpu_violations;
  memory_violations += o.memory_violations;
  io_violations += o.io_violations;
  pressure_violations += o.pressure_violations;
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

// Each gate given is over its value (a pressure not measured never is).
bool gates_hold(const Step& s, const Measure& m) {
  const auto gates = s.gates();
  for (std::size_t k = 0; k < gates.size(); ++k) {
    if (gates[k] && !(m.pressure[k] && *m.pressure[k] > *gates[k])) return false;
  }
  return true;
}

bool over(const std::optional<double>& threshold, const std::optional<double>& value) {
  return threshold && value && *value > *threshold;
}
}  // namespace

std::vector<StepViolation> step_violations(const Rule& r, const Measure& m) {
  std::vector<StepViolation> out(r.steps.size());
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    const Step& s = r.steps[i];
    auto& v = out[i];
    const bool open = !s.gated() || gates_hold(s, m);
    v.gates_hold = s.gated() && open;
    if (!open) continue;
    const bool mem_over = s.memory_mb && m.mem > *s.memory_mb;
    v.predicted = !mem_over && predicted(s, m.leak, m.mem);
    v.by[static_cast<std::size_t>(Metric::kCpu)] =
        s.cpu_percent && m.cpu_valid && m.cpu > *s.cpu_percent;
    v.by[static_cast<std::size_t>(Metric::kMemory)] = mem_over || v.predicted;
    v.by[static_cast<std::size_t>(Metric::kIoRead)] = over(s.io_read_mbps, m.io_read);
    v.by[static_cast<std::size_t>(Metric::kIoWrite)] = over(s.io_write_mbps, m.io_write);
    const bool thresholds = s.cpu_percent || s.memory_mb || s.uses_io();
    v.by[static_cast<std::size_t>(Metric::kPressure)] = !thresholds && v.gates_hold;
  }
  return out;
}

namespace {
std::optional<double> mib(const std::optional<double>& bytes) {
  return bytes ? std::optional<double>(*bytes / kMiB) : std::nullopt;
}

std::array<std::optional<double>, 3> system_pressure(const Snapshot& snap) {
  auto some = [](const std::optional<proc::Pressure>& p) {
    return p ? std::optional<double>(p->some.avg10) : std::nullopt;
  };
  return {some(snap.cpu_pressure), some(snap.io_pressure), some(snap.memory_pressure)};
}

void add(std::optional<double>& sum, const std::optional<double>& v) {
  if (v) sum = sum.value_or(0) + *v;
}
}  // namespace

ProcessId part_id(const std::string& name) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (const unsigned char c : name) h = (h ^ c) * 1099511628211ULL;
  return {0, h | 1};
}

std::vector<Part> parts(const Rule& r, std::size_t ri, const std::vector<std::size_t>& members,
                        const Classification& cls) {
  std::vector<Part> out;
  if (r.aggregate == Aggregate::kProcess) {
    for (auto idx : members) out.push_back({{}, "", {idx}});
    return out;
  }
  if (r.aggregate == Aggregate::kGroup) {
    if (!members.empty()) out.push_back({kGroupEntity, "", members});
    return out;
  }
  const auto* places = ri < cls.places.size() ? &cls.places[ri] : nullptr;
  std::map<std::string, std::size_t> at;
  for (std::size_t k = 0; k < members.size(); ++k) {
    const std::string& key = places != nullptr && k < places->size() ? (*places)[k] : "";
    if (key.empty()) continue;
    auto [it, added] = at.try_emplace(key, out.size());
    if (added) out.push_back({part_id(key), key, {}});
    out[it->second].members.push_back(members[k]);
  }
  return out;
}

std::vector<std::pair<ProcessId, Measure>> measures(const Rule& r, std::size_t ri,
                                                    const std::vector<Part>& ps,
                                                    const Snapshot& snap,
                                                    const Forecast* forecast) {
  std::vector<std::pair<ProcessId, Measure>> out;
  const auto system = system_pressure(snap);
  const bool own = r.pressure_of == PressureScope::kCgroup;
  // A process's cgroup pressure: unknown where it was not read (its gates then stay closed).
  auto of = [&](const ProcessSample& p) {
    return own ? p.cgroup_pressure.value_or(std::array<std::optional<double>, 3>{}) : system;
  };
  for (const auto& part : ps) {
    if (!r.sums()) {
      const auto& p = snap.processes[part.members.front()];
      Measure m;
      m.cpu = p.total_cpu();
      m.cpu_valid = p.cpu_valid;
      m.mem = p.memory_mb(r.memory_metric);
      m.io_read = mib(p.io_read_bps);
      m.io_write = mib(p.io_write_bps);
      m.pressure = of(p);
      if (forecast != nullptr) m.leak = forecast->leak(ri, p.id);
      out.emplace_back(p.id, std::move(m));
      continue;
    }
    Measure m;
    if (!own) m.pressure = system;
    for (auto idx : part.members) {
      const auto& p = snap.processes[idx];
      if (own) {  // the highest of the processes' cgroups
        const auto mine = of(p);
        for (std::size_t k = 0; k < 3; ++k) {
          if (mine[k] && (!m.pressure[k] || *mine[k] > *m.pressure[k])) m.pressure[k] = mine[k];
        }
      }
      if (p.cpu_valid) m.cpu += p.total_cpu(), m.cpu_valid = true;
      m.mem += p.memory_mb(r.memory_metric);
      add(m.io_read, mib(p.io_read_bps));
      add(m.io_write, mib(p.io_write_bps));
    }
    if (forecast != nullptr) m.leak = forecast->leak(ri, part.id);
    out.emplace_back(part.id, std::move(m));
  }
  return out;
}

namespace {
// The resources of Step::gates() and Measure::pressure, in their order.
constexpr const char* kGateNames[3] = {"cpu", "io", "memory"};
}  // namespace

Observed observed(const Step& s, Metric k, const Measure& m) {
  switch (k) {
    case Metric::kCpu:
      return {"cpu", m.cpu, s.cpu_percent.value_or(0)};
    case Metric::kMemory:
      return {"memory", m.mem, s.memory_mb.value_or(0)};
    case Metric::kIoRead:
      return {"io_read", m.io_read.value_or(0), s.io_read_mbps.value_or(0)};
    case Metric::kIoWrite:
      return {"io_write", m.io_write.value_or(0), s.io_write_mbps.value_or(0)};
    case Metric::kPressure:
      break;
  }
  const auto gates = s.gates();
  for (std::size_t g = 0; g < gates.size(); ++g) {
    if (gates[g])
      return {std::string(kGateNames[g]) + "_pressure", m.pressure[g].value_or(0), *gates[g]};
  }
  return {};
}

std::string gate_words(const Step& s, const Measure& m) {
  const auto gates = s.gates();
  std::string out;
  char buf[80];
  for (std::size_t g = 0; g < gates.size(); ++g) {
    if (!gates[g]) continue;
    std::snprintf(buf, sizeof buf, "%s%s pressure %.1f%% > %.1f%%", out.empty() ? "" : ", ",
                  kGateNames[g], m.pressure[g].value_or(0), *gates[g]);
    out += buf;
  }
  return out;
}

}  // namespace freezr::engine
