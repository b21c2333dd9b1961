// Predictions: runs the forecaster after each scan, reports what it predicts (log lines and
// history events, each with its numbers) and keeps the JSON the API and dashboards show.
#pragma once

#include <deque>
#include <nlohmann/json.hpp>
#include <optional>

#include "config/config.h"
#include "engine/forecast.h"
#include "report/history_writer.h"
#include "report/log_lines.h"
#include "scan/scanner.h"

namespace freezr::report {

// Available memory (MemAvailable plus free swap, MiB) at which the critical pressure level
// begins, or nullopt when the critical level has no MemAvailable threshold.
std::optional<double> critical_available_mb(const config::PressureSettings& p,
                                            const std::optional<proc::MemInfo>& m);

class Predictions {
 public:
  Predictions(const config::Config& cfg, LogLines& log, HistoryWriter& writer);
  void reset(const config::Config& cfg);
  void observe(const scan::ScanResult& result, const config::Config& cfg, double wall);

  [[nodiscard]] const engine::Forecaster& forecaster() const { return forecaster_; }
  // {"leaks": [...], "exhaustion": {...} or null, "anomalies": [...recent], "anomaly_counts":
  // {rule: n}}
  [[nodiscard]] nlohmann::json to_json() const;

 private:
  engine::Forecaster forecaster_;
  LogLines& log_;
  HistoryWriter& writer_;
  std::deque<nlohmann::json> recent_anomalies_;
  std::map<std::string, std::uint64_t> anomaly_counts_;
};

}  // namespace freezr::report
