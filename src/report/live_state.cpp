#include "report/live_state.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "act/ledger_entries.h"
#include "core/top.h"
#include "serve/status.h"

namespace freezr::report {

namespace {

// A rule as readers see it: its counters, its ladder and where its entities stand on it.
serve::RuleRow rule_row(const engine::Rule& r, std::size_t i, const engine::Policy& policy) {
  const auto& c = policy.counters(i);
  const auto* first = r.steps.empty() ? nullptr : &r.steps[0];
  serve::RuleRow row;
  row.name = r.name;
  row.action = engine::action_summary(r);
  row.cpu_threshold = first ? first->cpu_percent : std::nullopt;
  row.memory_threshold = first ? first->memory_mb : std::nullopt;
  row.enabled = r.enabled;
  row.processes = c.processes;
  row.cpu = c.cpu_percent;
  row.rss_mib = c.rss_mb;
  row.streak = policy.streak(i);
  row.checks = c.checks;
  row.violating_checks = c.violating_checks;
  row.cpu_violations = c.cpu_violations;
  row.memory_violations = c.memory_violations;
  row.io_violations = c.io_violations;
  row.pressure_violations = c.pressure_violations;
  row.memory_metric = engine::to_string(r.memory_metric);
  if (r.uses_io()) {
    row.io_read_bps = c.io_read_bps;
    row.io_write_bps = c.io_write_bps;
  }
  row.actions = c.actions;
  row.cpu_seconds = c.cpu_seconds;
  for (const auto& st : r.steps) row.action_kinds.push_back(engine::to_string(st.action.kind));
  if (r.on_exec) row.action_kinds.push_back(engine::to_string(r.on_exec->kind));
  std::sort(row.action_kinds.begin(), row.action_kinds.end());
  row.action_kinds.erase(std::unique(row.action_kinds.begin(), row.action_kinds.end()),
                         row.action_kinds.end());
  const auto ladder = policy.ladder(i);
  row.highest_tried = ladder.highest_tried;
  for (std::size_t k = 0; k < r.steps.size(); ++k) {
    const auto& st = r.steps[k];
    row.steps.push_back({engine::to_string(st.action.kind), st.cpu_percent, st.memory_mb,
                         st.violations, k < ladder.streaks.size() ? ladder.streaks[k] : 0,
                         st.action.kind == engine::ActionKind::kFreeze ? st.action.duration : 0.0,
                         st.window, st.io_read_mbps, st.io_write_mbps, st.cpu_pressure,
                         st.io_pressure, st.memory_pressure});
  }
  return row;
}

}  // namespace

void list_processes(serve::State& s, const scan::ScanResult& result,
                    const std::vector<engine::Rule>& rules,
                    const std::vector<engine::Category>* categories, const engine::Policy& policy,
                    proc::InfoSource* info) {
  const auto& snap = result.snap;
  const auto& cls = result.cls;
  s.listed = true;
  s.processes.clear();
  s.processes.reserve(s.process_count);
  for (std::size_t i = 0; i < snap.processes.size(); ++i) {
    const auto& p = snap.processes[i];
    if (p.kernel_thread || !p.alive()) continue;
    const int r = cls.first_rule[i];
    const int c = cls.category.empty() ? -1 : cls.category[i];
    serve::ProcessRow row{p.id.pid,
                          p.comm,
                          p.cpu_percent,
                          p.rss_mb(),
                          r >= 0 ? rules[static_cast<std::size_t>(r)].name : std::string(),
                          r >= 0 ? policy.entity_streak(static_cast<std::size_t>(r), p.id) : 0,
                          c >= 0 && categories != nullptr
                              ? (*categories)[static_cast<std::size_t>(c)].name
                              : std::string(),
                          p.io_read_bps,
                          p.io_write_bps,
                          std::nullopt,
                          std::nullopt,
                          p.place           ? p.place
                          : info != nullptr ? info->placement(p.id)
                                            : nullptr};
    if (p.memory) {
      row.pss_mib = p.memory_mb(engine::MemoryMetric::kPss);
      row.swap_mib = static_cast<double>(p.memory->swap) / kMiB;
    }
    s.processes.push_back(std::move(row));
  }
}

std::shared_ptr<const serve::State> build_state(PublishInput in) {
  auto s = std::make_shared<serve::State>(std::move(in.state));
  const auto& snap = in.result->snap;
  const auto& rules = *in.rules;
  s->memory = snap.meminfo;
  s->load = snap.loadavg;
  s->psi_cpu = snap.cpu_pressure;
  s->psi_io = snap.io_pressure;
  s->psi_memory = snap.memory_pressure;
  for (std::size_t i = 0; i < rules.size(); ++i)
    s->rules.push_back(rule_row(rules[i], i, *in.policy));
  s->listed = false;
  for (const auto& p : snap.processes) {
    if (!p.kernel_thread && p.alive()) ++s->process_count;  // zombies are already gone
  }
  if (in.list) list_processes(*s, *in.result, rules, in.categories, *in.policy, in.info);
  std::unordered_map<Pid, const std::string*> names;
  for (const auto& f : in.frozen) names.emplace(f.process.pid, nullptr);
  if (!names.empty()) {
    for (const auto& p : snap.processes) {
      if (auto it = names.find(p.id.pid); it != names.end()) it->second = &p.comm;
    }
  }
  for (const auto& f : in.frozen) {
    const auto* comm = names[f.process.pid];
    auto name = act::unit_of(f);  // a unit frozen as a whole is named by its unit
    if (name.empty() && comm != nullptr) name = *comm;
    s->frozen.push_back({f.process.pid, std::move(name), f.rule, f.kind, act::freeze_method(f),
                         f.applied_at, act::frozen_until(f)});
  }
  return s;
}

namespace {
double round1(double v) { return std::round(v * 10) / 10; }
nlohmann::json optional_round(const std::optional<double>& v) {
  return v ? nlohmann::json(std::round(*v)) : nlohmann::json(nullptr);
}
}  // namespace

std::string live_update(const serve::State& s, const std::vector<store::Event>& feed) {
  using nlohmann::json;
  json health = json::object();
  if (s.load) health["load1"] = s.load->one;
  if (s.memory) health["memory_used_percent"] = round1(s.memory->used_percent());
  if (s.psi_memory) health["psi_some_avg10"] = s.psi_memory->some.avg10;
  // The busiest 150 by CPU and 50 by memory, and every process under a rule.
  std::vector<const serve::ProcessRow*> by_cpu, by_mem;
  for (const auto& p : s.processes) by_cpu.push_back(&p);
  by_mem = by_cpu;
  keep_top(by_cpu, 150, [](auto p) { return p->cpu; });
  keep_top(by_mem, 50, [](auto p) { return p->rss_mib; });
  std::set<Pid> seen;
  json procs = json::array();
  auto add = [&](const serve::ProcessRow* p) {
    if (!seen.insert(p->pid).second) return;
    procs.push_back({{"pid", p->pid},
                     {"name", p->comm},
                     {"cpu", round1(p->cpu)},
                     {"rss", round1(p->rss_mib)},
                     {"rule", p->rule},
                     {"streak", p->streak},
                     {"category", p->category},
                     {"unit", p->place ? p->place->shown() : std::string()},
                     {"io_read", optional_round(p->io_read_bps)},
                     {"io_write", optional_round(p->io_write_bps)}});
  };
  for (auto* p : by_cpu) add(p);
  for (auto* p : by_mem) add(p);
  for (const auto& p : s.processes) {
    if (!p.rule.empty()) add(&p);
  }
  json events = json::array();
  for (const auto& e : feed) {
    json j = {{"ts", e.ts},     {"kind", e.kind},     {"rule", e.rule},      {"pid", e.pid},
              {"name", e.comm}, {"action", e.action}, {"message", e.message}};
    j["ok"] = e.ok ? json(*e.ok) : json(nullptr);
    events.push_back(std::move(j));
  }
  return json{{"type", "tick"},
              {"t", s.updated},
              {"scans", s.scans},
              {"dry_run", s.dry_run},
              {"pressure", s.pressure.level},
              {"profile", s.profile.name.empty() ? json(nullptr) : json(s.profile.name)},
              {"profile_mode", s.profile.manual ? "manual" : "auto"},
              {"thermal", serve::thermal_json(s)},
              {"health", health},
              {"rules", serve::rules_json(s)},
              {"processes", procs},
              {"events", events},
              {"frozen", serve::frozen_json(s)},
              {"predictions", serve::predictions_json(s)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace freezr::report
