// PressureWatcher: memory pressure on the event loop. It arms a PSI trigger on
// /proc/pressure/memory and wakes on it (no polling while calm), falls back to reading avg10
// each scan when no trigger can be armed, and checks MemAvailable at an adaptive interval.
// What to do is decided by engine::advance_pressure (levels with hysteresis, one kill at a
// time); this class ranks the victims and hands the decisions to the daemon's one decision
// path (`carry_out`), then re-reads the pressure when the kill's outcome comes back.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string>

#include "act/actuator.h"
#include "config/config.h"
#include "core/clock.h"
#include "engine/pressure_response.h"
#include "engine/protection.h"
#include "engine/victims.h"
#include "report/history_writer.h"
#include "report/log_lines.h"
#include "scan/scanner.h"

namespace freezr::daemon {

class PressureWatcher {
 public:
  struct Deps {
    boost::asio::io_context& io;
    const Clock& clock;
    proc::ProcSource& source;
    std::string proc_root;
    report::LogLines& log;
    report::HistoryWriter& writer;
    // The daemon's one path for decisions: recorded, then carried out by the actuator.
    std::function<void(const engine::Decision&)> carry_out;
    std::function<const config::Config&()> config;
    std::function<const engine::Protection&()> protection;
    std::function<bool()> dry_run;
    std::function<double()> wall;
    // Seconds until memory is predicted to reach the critical level, if it is falling.
    std::function<std::optional<double>()> exhaustion_seconds;
  };

  explicit PressureWatcher(Deps deps);
  ~PressureWatcher();

  // Arms the trigger (or not) and returns the line saying which mode is in use.
  std::string start();
  void stop();
  // Called after every scan with its figures (the fallback mode's reading).
  void on_scan(const engine::Snapshot& snap);
  // The outcome of one of the responder's decisions.
  void on_outcome(const act::ActionOutcome& o);

  [[nodiscard]] engine::PressureLevel level() const { return state_.level; }
  [[nodiscard]] const std::string& mode() const { return mode_; }
  [[nodiscard]] std::uint64_t kills() const { return kills_; }

 private:
  struct Impl;
  struct Ranking {
    scan::ScanResult scan;
    engine::VictimOrder order;
  };
  // A fresh scan (its own scanner: ranking must not disturb the main one) and the victims.
  Ranking rank();
  void evaluate(const engine::PressureSample& s, const char* woke_by);
  void log_change(const engine::PressureStep& step, const engine::PressureSample& s,
                  const char* woke_by, std::optional<double> eta);
  // Ranks the candidates and carries out the step's action on the first.
  void act_on_victim(const engine::PressureStep& step, const engine::PressureSample& s,
                     const engine::LevelThresholds& level);
  void release();
  // Looks again at seconds from now.
  void evaluate_later(double seconds, const char* why);
  engine::PressureSample read_sample();
  void schedule_check(const engine::PressureSample& s);
  // Arms one PSI trigger ("some" or "full") at percent of the window; its description, or
  // nullopt with *why set.
  std::optional<std::string> arm(const char* kind, double percent, std::string* why);
  void arm_wait(boost::asio::posix::stream_descriptor& trigger);

  // What the last victim decision's log lines need when its outcome arrives.
  struct Victim {
    ProcessId id;
    std::vector<report::Field> fields;
    std::string what;     // "pid 12 name (300 MiB) at MemAvailable ..."
    std::string because;  // why it was chosen
    std::string others;   // the next candidates
  };

  Deps d_;
  std::unique_ptr<Impl> impl_;
  engine::PressureState state_;
  std::string mode_ = "off";
  std::optional<Victim> victim_;
  std::uint64_t kills_ = 0;
  Seconds woke_at_ = 0;  // monotonic: when the reading that led to a decision was taken
};

}  // namespace freezr::daemon
