#include "report/predictions.h"

#include <cmath>

namespace freezr::report {

using spdlog::level::level_enum;

namespace {
constexpr std::size_t kRecentAnomalies = 20;

double round2(double v) { return std::round(v * 100) / 100; }

std::string who(const std::string& rule, const ProcessId& id, const std::string& comm) {
  if (id == engine::kGroupEntity) return fmt::format("rule '{}' (group)", rule);
  if (id.pid == 0) return fmt::format("{} (rule '{}')", comm, rule);  // a unit's or a user's
  return fmt::format("{} (pid {}, rule '{}')", comm, id.pid, rule);
}
}  // namespace

std::optional<double> critical_available_mb(const config::PressureSettings& p,
                                            const std::optional<proc::MemInfo>& m) {
  if (!m || !p.critical.mem_available_percent) return std::nullopt;
  double kb = static_cast<double>(m->total_kb) * *p.critical.mem_available_percent / 100;
  if (p.critical.swap_free_percent && m->swap_total_kb > 0) {
    kb += static_cast<double>(m->swap_total_kb) * *p.critical.swap_free_percent / 100;
  }
  return kb / 1024;
}

Predictions::Predictions(const config::Config& cfg, LogLines& log, HistoryWriter& writer)
    : forecaster_(&cfg.rules, cfg.predict), log_(log), writer_(writer) {}

void Predictions::reset(const config::Config& cfg) { forecaster_.reset(&cfg.rules, cfg.predict); }

void Predictions::observe(const scan::ScanResult& result, const config::Config& cfg, double wall) {
  const auto& snap = result.snap;
  forecaster_.observe(snap, result.cls, critical_available_mb(cfg.pressure, snap.meminfo));
  for (const auto& l : forecaster_.new_leaks()) {
    std::string msg = fmt::format(
        "memory leak suspected: {} grows {:.1f} MiB/min (now {:.1f} MiB; {:.0f}% of {} pairs "
        "rising over {:.0f} s)",
        who(l.rule, l.entity, l.comm), l.mb_per_minute, l.rss_mb, l.agreement * 100,
        l.points * (l.points - 1) / 2, l.span);
    if (l.limit_mb && l.seconds_to_limit) {
      msg += fmt::format("; reaches {:.0f} MiB in {:.0f} s", *l.limit_mb, *l.seconds_to_limit);
    }
    std::vector<Field> f = {{"rule", l.rule},
                            {"pid", static_cast<long long>(l.entity.pid)},
                            {"name", l.comm},
                            {"mib_per_minute", round2(l.mb_per_minute)},
                            {"rss_mib", round2(l.rss_mb)},
                            {"agreement", round2(l.agreement)}};
    if (l.seconds_to_limit) f.push_back({"seconds_to_limit", round2(*l.seconds_to_limit)});
    log_.line(level_enum::warn, "PREDICT", f, msg);
    writer_.event(
        {wall, "prediction", l.rule, l.entity.pid, l.comm, "leak", std::nullopt, msg, {}});
  }
  for (const auto& a : forecaster_.anomalies()) {
    const auto msg = fmt::format(
        "CPU anomaly: {} at {:.1f}% against its normal {:.1f}% ± {:.1f} ({:.1f} deviations)",
        who(a.rule, a.entity, a.comm), a.anomaly.value, a.anomaly.baseline, a.anomaly.deviation,
        a.anomaly.sigmas);
    log_.line(level_enum::warn, "PREDICT",
              {{"rule", a.rule},
               {"pid", static_cast<long long>(a.entity.pid)},
               {"name", a.comm},
               {"cpu", round2(a.anomaly.value)},
               {"baseline", round2(a.anomaly.baseline)},
               {"deviation", round2(a.anomaly.deviation)}},
              msg);
    writer_.event(
        {wall, "prediction", a.rule, a.entity.pid, a.comm, "anomaly", std::nullopt, msg, {}});
    ++anomaly_counts_[a.rule];
    recent_anomalies_.push_front({wall, a});
    if (recent_anomalies_.size() > kRecentAnomalies) recent_anomalies_.pop_back();
  }
  if (const auto changed = forecaster_.exhaustion_changed()) {
    const auto& e = forecaster_.exhaustion();
    const std::string msg = *changed && e
                                ? fmt::format(
                                      "memory exhaustion predicted in {:.0f} s ({:.0f}–{:.0f} s): "
                                      "available {:.0f} MiB falling {:.1f} MiB/min towards the "
                                      "critical {:.0f} MiB ({:.0f}% of pairs falling)",
                                      e->seconds, e->seconds_low, e->seconds_high, e->available_mb,
                                      -e->mb_per_minute, e->critical_mb, e->agreement * 100)
                                : std::string("memory exhaustion no longer predicted soon");
    log_.line(*changed ? level_enum::warn : level_enum::info, "PREDICT",
              {{"kind", std::string("exhaustion")}, {"predicted", *changed}}, msg);
    writer_.event({wall, "prediction", "", 0, "", "exhaustion", std::nullopt, msg, {}});
  }
}

serve::PredictionRows Predictions::rows() const {
  return {forecaster_.leaks(),
          forecaster_.exhaustion(),
          {recent_anomalies_.begin(), recent_anomalies_.end()},
          anomaly_counts_};
}

}  // namespace freezr::report
