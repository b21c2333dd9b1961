#include "report/status_file.h"

#include <cmath>

namespace freezr::report {
namespace {
double round1(double v) { return std::round(v * 10) / 10; }
}  // namespace

nlohmann::json status_json(const StatusInput& in) {
  using nlohmann::json;
  const auto& t = in.totals;
  json rules = json::array();
  for (const auto& r : in.rules) {
    const auto& c = r.counters;
    auto threshold = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    rules.push_back({{"name", r.name},
                     {"cpu_threshold", threshold(r.cpu_threshold)},
                     {"memory_threshold", threshold(r.memory_threshold)},
                     {"action", r.action},
                     {"enabled", r.enabled},
                     {"processes", c.processes},
                     {"cpu_percent", round1(c.cpu_percent)},
                     {"rss_mib", round1(c.rss_mb)},
                     {"rss_bytes", static_cast<std::uint64_t>(c.rss_mb * 1048576.0)},
                     {"streak", r.streak},
                     {"checks", c.checks},
                     {"violating_checks", c.violating_checks},
                     {"cpu_violations", c.cpu_violations},
                     {"memory_violations", c.memory_violations},
                     {"actions", c.actions}});
  }
  json health = json::object();
  if (t.load) health["load"] = {t.load->one, t.load->five, t.load->fifteen};
  if (t.memory) {
    health["memory_used_percent"] = round1(t.memory->used_percent());
    health["mem_available_kib"] = t.memory->available_kb;
    health["swap_free_kib"] = t.memory->swap_free_kb;
  }
  return {
      {"version", ui::kVersion},
      {"pid", in.pid},
      {"dry_run", in.dry_run},
      {"config", in.config_source},
      {"http", in.http},
      {"started", in.started_wall},
      {"updated", in.now_wall},
      {"interval", in.interval},
      {"degraded_logging", in.degraded_logging},
      {"totals",
       {{"runtime_seconds", round1(t.runtime)},
        {"checks", t.checks},
        {"process_checks", t.process_checks},
        {"violating_checks", t.violating_checks},
        {"violation_rate_percent", std::round(ui::violation_rate(t) * 100) / 100},
        {"cpu_violations", t.cpu_violations},
        {"memory_violations", t.memory_violations},
        {"cpu_violations_since_action", t.cpu_since_action},
        {"memory_violations_since_action", t.memory_since_action},
        {"restarts", t.restarts},
        {"kills", t.kills},
        {"freezes", t.freezes},
        {"throttles", t.throttles},
        {"renices", t.renices},
        {"failed_actions", t.failed_actions}}},
      {"health", health},
      {"pressure",
       {{"level", in.pressure_level}, {"mode", in.pressure_mode}, {"kills", in.pressure_kills}}},
      {"rules", rules}};
}

}  // namespace freezr::report
