// Forecaster: the predictors run over every scan. Per rule entity (each process, or the
// group) it keeps a window of resident memory and a CPU baseline; for the machine, a window
// of available memory. It reports leaks, CPU anomalies and the time to memory exhaustion,
// each with the numbers behind it. Pure: time comes in through the snapshot.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/classifier.h"
#include "engine/predict.h"
#include "engine/rule.h"
#include "engine/snapshot.h"

namespace freezr::engine {

struct PredictSettings {
  bool enabled = true;
  LeakCriteria leak;
  bool anomalies = true;
  AnomalyCriteria anomaly;
  Seconds exhaustion_window = 600;
  Seconds exhaustion_min_span = 120;
  double exhaustion_min_agreement = 0.75;
  double exhaustion_warn_minutes = 30;  // report when the estimate falls under this
};

struct LeakReport {
  std::size_t rule_index = 0;
  std::string rule;
  ProcessId entity;      // kGroupEntity ({0, 0}) for a group rule
  std::string comm;      // empty for a group
  double rss_mb = 0;     // measured, now
  double fitted_mb = 0;  // the trend's value now
  double mb_per_minute = 0;
  double agreement = 0;
  std::size_t points = 0;
  Seconds span = 0;
  std::optional<double> limit_mb;          // the rule's lowest memory threshold, if any
  std::optional<double> seconds_to_limit;  // when the trend reaches it
};

struct AnomalyReport {
  std::string rule;
  ProcessId entity;
  std::string comm;
  Anomaly anomaly;
};

// What the policy asks of the forecaster: the leak trend of a rule's entity, if it leaks.
class Forecast {
 public:
  virtual ~Forecast() = default;
  [[nodiscard]] virtual std::optional<Trend> leak(std::size_t rule,
                                                  const ProcessId& entity) const = 0;
};

class Forecaster final : public Forecast {
 public:
  Forecaster(const std::vector<Rule>* rules, PredictSettings settings);
  // New rules or settings: every window starts afresh.
  void reset(const std::vector<Rule>* rules, PredictSettings settings);

  // Feeds one scan. `critical_available_mb`: the available memory (MemAvailable plus free
  // swap) at which the critical pressure level begins; nullopt when none is configured.
  void observe(const Snapshot& snap, const Classification& cls,
               std::optional<double> critical_available_mb);

  [[nodiscard]] std::optional<Trend> leak(std::size_t rule, const ProcessId& entity) const override;

  // Entities leaking now, and those that started leaking in the last observe().
  [[nodiscard]] const std::vector<LeakReport>& leaks() const { return leaks_; }
  [[nodiscard]] const std::vector<LeakReport>& new_leaks() const { return new_leaks_; }
  [[nodiscard]] const std::vector<AnomalyReport>& anomalies() const { return anomalies_; }
  // The current estimate, when memory is falling steadily.
  [[nodiscard]] const std::optional<Exhaustion>& exhaustion() const { return exhaustion_; }
  // Whether the estimate crossed under exhaustion_warn_minutes (true) or back (false) in the
  // last observe().
  [[nodiscard]] std::optional<bool> exhaustion_changed() const { return exhaustion_changed_; }

 private:
  struct Track {
    Series rss;
    Baseline cpu;
    bool leaking = false;
    std::optional<Trend> trend;
  };
  using Key = std::pair<std::size_t, ProcessId>;
  struct KeyLess {
    bool operator()(const Key& a, const Key& b) const {
      return std::tie(a.first, a.second.pid, a.second.start_time) <
             std::tie(b.first, b.second.pid, b.second.start_time);
    }
  };
  void feed(std::size_t ri, const ProcessId& id, const std::string& comm, double rss_mb,
            std::optional<double> cpu, Seconds now, std::map<Key, Track, KeyLess>& next);

  const std::vector<Rule>* rules_;
  PredictSettings s_;
  std::map<Key, Track, KeyLess> tracks_;
  Series available_;
  std::vector<LeakReport> leaks_, new_leaks_;
  std::vector<AnomalyReport> anomalies_;
  std::optional<Exhaustion> exhaustion_;
  bool exhaustion_warned_ = false;
  std::optional<bool> exhaustion_changed_;
};

}  // namespace freezr::engine
