// Predictions: runs the forecaster after each scan, reports what it predicts (log lines and
// history events, each with its numbers) and keeps what the API and dashboards show.
#pragma once

#include <deque>
#include <optional>

#include "config/config.h"
#include "engine/forecast.h"
#include "report/history_writer.h"
#include "report/log_lines.h"
#include "scan/scanner.h"
#include "serve/state.h"

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
  // The leaks, the exhaustion estimate, the recent anomalies and the counts, for the State.
  [[nodiscard]] serve::PredictionRows rows() const;

 private:
  engine::Forecaster forecaster_;
  LogLines& log_;
  HistoryWriter& writer_;
  std::deque<serve::AnomalyRow> recent_anomalies_;
  std::map<std::string, std::uint64_t> anomaly_counts_;
};

}  // namespace freezr::report
