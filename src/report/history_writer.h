// HistoryWriter: turns each scan, decision and outcome into history rows and writes them, one
// transaction per scan. A failing database is reported once and then left alone: monitoring
// never depends on it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "act/actuator.h"
#include "config/config.h"
#include "engine/policy.h"
#include "store/history.h"

namespace freezr::report {

class HistoryWriter {
 public:
  // history may be null (history disabled or unavailable): then everything is a no-op.
  // warn receives one line when writing fails for the first time.
  HistoryWriter(store::History* history, config::HistorySettings settings,
                std::function<void(const std::string&)> warn);

  void event(store::Event e);
  // Called with every event as it happens (the notifier's view of lifecycle and pressure).
  void set_listener(std::function<void(const store::Event&)> listener) {
    listener_ = std::move(listener);
  }
  // FreezR's own start, stop and reload.
  void lifecycle(double ts, const std::string& action, bool ok, const std::string& message);
  // Every decision, acted on or not, as "decision" events (one per process, with its reason
  // and figures); the ones not acted on also as an "action" event saying why not.
  void decision(double ts, const engine::Decision& d);
  void outcome(double ts, const act::ActionOutcome& o);
  void transitions(double ts, const std::vector<engine::Transition>& t);

  // Writes the scan's samples (unless degraded) and the buffered events. The top processes
  // are written only `with_top` (full scans: a light scan has only the rules' processes fresh).
  void scan(double ts, const engine::Snapshot& snap, const engine::Classification& cls,
            const std::vector<engine::Rule>& rules, const engine::Policy& policy, bool degraded,
            bool with_top = true);
  // Writes buffered events now (at exit).
  void flush(double ts);
  void prune(double now);
  [[nodiscard]] bool active() const { return history_ != nullptr && !broken_; }
  // Events since the last call, for the live feed (kept even without a history; at most 500).
  std::vector<store::Event> take_feed();

 private:
  void fail(const std::string& what, const Result<void>& done);
  // The top processes by CPU and by memory, appended to top.
  void add_top(const engine::Snapshot& snap, const engine::Classification& cls,
               const std::vector<engine::Rule>& rules, std::vector<store::TopSample>& top) const;

  store::History* history_;
  config::HistorySettings settings_;
  std::function<void(const std::string&)> warn_;
  std::vector<store::Event> pending_;
  std::vector<store::Event> feed_;
  std::function<void(const store::Event&)> listener_;
  bool broken_ = false;
};

}  // namespace freezr::report
