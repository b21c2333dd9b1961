// Foresight: runs the forecaster after each scan, reports what it predicts (log lines and
// history events, each with its numbers) and keeps the JSON the API and dashboards show.
#pragma once

#include <deque>
#include <optional>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "daemon/eventlog.h"
#include "daemon/recorder.h"
#include "daemon/scanner.h"
#include "engine/forecast.h"

namespace freezr::daemon {

// Available memory (MemAvailable plus free swap, MiB) at which the critical pressure level
// begins, or nullopt when the critical level has no MemAvailable threshold.
std::optional<double> critical_available_mb(const config::PressureSettings& p,
                                            const std::optional<proc::MemInfo>& m);

class Foresight {
 public:
  Foresight(const config::Config& cfg, EventLog& log, Recorder& recorder);
  void reset(const config::Config& cfg);
  void observe(const ScanResult& scan, const config::Config& cfg, double wall);

  [[nodiscard]] const engine::Forecaster& forecaster() const { return forecaster_; }
  // {"leaks": [...], "exhaustion": {...} or null, "anomalies": [...recent], "anomaly_counts":
  // {rule: n}}
  [[nodiscard]] nlohmann::json to_json() const;

 private:
  engine::Forecaster forecaster_;
  EventLog& log_;
  Recorder& recorder_;
  std::deque<nlohmann::json> recent_anomalies_;
  std::map<std::string, std::uint64_t> anomaly_counts_;
};

}  // namespace freezr::daemon
