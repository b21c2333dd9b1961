#include "serve/status.h"

#include <algorithm>
#include <cmath>

namespace freezr::serve {
namespace {

using nlohmann::json;

double round1(double v) { return std::round(v * 10) / 10; }
double round2(double v) { return std::round(v * 100) / 100; }
json finite_or_null(double v) { return std::isfinite(v) ? json(round2(v)) : json(nullptr); }

json threshold(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json totals_json(const engine::Totals& t) {
  return {{"runtime_seconds", round1(t.runtime)},
          {"checks", t.checks},
          {"process_checks", t.process_checks},
          {"violating_checks", t.violating_checks},
          {"violation_rate_percent", std::round(t.violation_rate() * 100) / 100},
          {"cpu_violations", t.cpu_violations},
          {"memory_violations", t.memory_violations},
          {"cpu_violations_since_action", t.cpu_since_action},
          {"memory_violations_since_action", t.memory_since_action},
          {"restarts", t.restarts},
          {"kills", t.kills},
          {"freezes", t.freezes},
          {"throttles", t.throttles},
          {"renices", t.renices},
          {"failed_actions", t.failed_actions}};
}

json health_json(const State& s) {
  json health = json::object();
  if (s.load) health["load"] = {s.load->one, s.load->five, s.load->fifteen};
  if (s.memory) {
    health["memory_used_percent"] = round1(s.memory->used_percent());
    health["mem_available_kib"] = s.memory->available_kb;
    health["swap_free_kib"] = s.memory->swap_free_kb;
  }
  return health;
}

json leak_json(const engine::LeakReport& l) {
  return {{"rule", l.rule},
          {"pid", l.entity.pid},
          {"name", l.comm},
          {"rss_mib", round2(l.rss_mb)},
          {"fitted_mib", round2(l.fitted_mb)},
          {"mib_per_minute", round2(l.mb_per_minute)},
          {"agreement", round2(l.agreement)},
          {"points", l.points},
          {"window_seconds", round2(l.span)},
          {"limit_mib", threshold(l.limit_mb)},
          {"seconds_to_limit", l.seconds_to_limit ? json(round2(*l.seconds_to_limit)) : json()}};
}

json exhaustion_json(const std::optional<engine::Exhaustion>& e) {
  if (!e) return nullptr;
  return {{"seconds", round2(e->seconds)},
          {"seconds_low", round2(e->seconds_low)},
          {"seconds_high", finite_or_null(e->seconds_high)},
          {"available_mib", round2(e->available_mb)},
          {"critical_mib", round2(e->critical_mb)},
          {"mib_per_minute", round2(e->mb_per_minute)},
          {"agreement", round2(e->agreement)}};
}

json anomaly_json(const AnomalyRow& a) {
  const auto& r = a.report;
  return {{"ts", a.ts},
          {"rule", r.rule},
          {"pid", r.entity.pid},
          {"name", r.comm},
          {"cpu", round2(r.anomaly.value)},
          {"baseline", round2(r.anomaly.baseline)},
          {"deviation", round2(r.anomaly.deviation)},
          {"sigmas", finite_or_null(r.anomaly.sigmas)}};
}

}  // namespace

json predictions_json(const State& s) {
  const auto& p = s.predictions;
  json leaks = json::array();
  for (const auto& l : p.leaks) leaks.push_back(leak_json(l));
  json anomalies = json::array();
  for (const auto& a : p.anomalies) anomalies.push_back(anomaly_json(a));
  return {{"leaks", leaks},
          {"exhaustion", exhaustion_json(p.exhaustion)},
          {"anomalies", anomalies},
          {"anomaly_counts", p.anomaly_counts}};
}

namespace {

json steps_json(const RuleRow& r) {
  json steps = json::array();
  for (const auto& st : r.steps) {
    json j = {{"action", st.action},
              {"cpu_threshold", threshold(st.cpu_threshold)},
              {"memory_threshold", threshold(st.memory_threshold)},
              {"violations", st.violations},
              {"streak", st.streak}};
    if (st.duration > 0) j["duration"] = st.duration;
    if (st.window > 0) j["window"] = st.window;
    const std::pair<const char*, const std::optional<double>*> more[] = {
        {"io_read_threshold", &st.io_read_threshold},
        {"io_write_threshold", &st.io_write_threshold},
        {"cpu_pressure", &st.cpu_pressure},
        {"io_pressure", &st.io_pressure},
        {"memory_pressure", &st.memory_pressure}};
    for (const auto& [key, v] : more) {
      if (*v) j[key] = **v;
    }
    steps.push_back(std::move(j));
  }
  return steps;
}

// The step that acts next on the ladder and in how many more violating scans, or null when
// nothing is violating it.
json next_json(const RuleRow& r, double interval) {
  if (r.steps.empty()) return nullptr;
  const auto i = static_cast<std::size_t>(
      std::min<int>(r.highest_tried + 1, static_cast<int>(r.steps.size()) - 1));
  const auto& st = r.steps[i];
  if (st.streak == 0) return nullptr;
  const int scans = std::max(0, st.violations - st.streak);
  return {{"step", i},
          {"action", st.action},
          {"in_scans", scans},
          {"in_seconds", round1(scans * interval)}};
}

}  // namespace

json frozen_json(const State& s) {
  json out = json::array();
  for (const auto& f : s.frozen) {
    out.push_back({{"pid", f.pid},
                   {"name", f.comm},
                   {"rule", f.rule},
                   {"kind", f.kind},
                   {"how", f.how},
                   {"since", f.since},
                   {"until", f.until ? json(*f.until) : json(nullptr)},
                   {"seconds_left",
                    f.until ? json(round1(std::max(0.0, *f.until - s.updated))) : json(nullptr)}});
  }
  return out;
}

json rules_json(const State& s) {
  json rules = json::array();
  for (const auto& r : s.rules) {
    rules.push_back(
        {{"name", r.name},
         {"cpu_threshold", threshold(r.cpu_threshold)},
         {"memory_threshold", threshold(r.memory_threshold)},
         {"action", r.action},
         {"enabled", r.enabled},
         {"processes", r.processes},
         {"cpu_percent", round1(r.cpu)},
         {"rss_mib", round1(r.rss_mib)},
         {"rss_bytes", static_cast<std::uint64_t>(r.rss_mib * 1048576.0)},
         {"streak", r.streak},
         {"checks", r.checks},
         {"violating_checks", r.violating_checks},
         {"cpu_violations", r.cpu_violations},
         {"memory_violations", r.memory_violations},
         {"io_violations", r.io_violations},
         {"pressure_violations", r.pressure_violations},
         {"memory_metric", r.memory_metric},
         {"io_read_bps", r.io_read_bps ? json(std::round(*r.io_read_bps)) : json(nullptr)},
         {"io_write_bps", r.io_write_bps ? json(std::round(*r.io_write_bps)) : json(nullptr)},
         {"actions", r.actions},
         {"steps", steps_json(r)},
         {"highest_step_taken", r.highest_tried >= 0 ? json(r.highest_tried) : json(nullptr)},
         {"next", next_json(r, s.interval)}});
  }
  return rules;
}

json profile_json(const ProfileRow& p) {
  json offers = json::array();
  for (const auto& o : p.profiles) {
    offers.push_back({{"name", o.name},
                      {"description", o.description},
                      {"automatic", o.automatic},
                      {"priority", o.priority},
                      {"active", o.name == p.name}});
  }
  return {{"name", p.name.empty() ? json(nullptr) : json(p.name)},
          {"mode", p.manual ? "manual" : "auto"},
          {"why", p.why},
          {"since", p.since},
          {"switches", p.switches},
          {"on_battery", p.on_battery ? json(*p.on_battery) : json(nullptr)},
          {"profiles", offers}};
}

json thermal_json(const State& s) {
  json out = json::array();
  for (const auto& t : s.thermal) {
    out.push_back({{"name", t.name},
                   {"sensor", t.sensor},
                   {"celsius", t.celsius ? json(std::round(*t.celsius * 10) / 10) : json(nullptr)},
                   {"hot", t.hot}});
  }
  return out;
}

json status_json(const State& s) {
  return {{"version", s.version},
          {"pid", s.pid},
          {"dry_run", s.dry_run},
          {"config", s.config_source},
          {"http", s.http},
          {"started", s.started},
          {"updated", s.updated},
          {"interval", s.interval},
          {"scans", s.scans},
          {"full_scans", s.full_scans},
          {"degraded_logging", s.degraded_logging},
          {"totals", totals_json(s.totals)},
          {"health", health_json(s)},
          {"pressure",
           {{"level", s.pressure.level}, {"mode", s.pressure.mode}, {"kills", s.pressure.kills}}},
          {"profile", profile_json(s.profile)},
          {"thermal", thermal_json(s)},
          {"rules", rules_json(s)}};
}

}  // namespace freezr::serve
