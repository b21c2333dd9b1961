// PressureWatcher: memory pressure on the event loop. It arms a PSI trigger on
// /proc/pressure/memory and wakes on it (no polling while calm), falls back to reading avg10
// each scan when no trigger can be armed, checks MemAvailable at an adaptive interval, keeps
// the level (with hysteresis), and at each level does what the configuration says: at the
// critical level it kills one victim at a time, waits for its memory to be released, re-reads
// the pressure, and only then considers the next.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string>

#include "act/reversible.h"
#include "config/config.h"
#include "daemon/eventlog.h"
#include "daemon/recorder.h"
#include "daemon/scanner.h"
#include "engine/pressure.h"
#include "engine/protection.h"
#include "engine/victims.h"

namespace freezr::daemon {

// oom_score and oom_score_adj of a process, read through source.
engine::OomFacts read_oom_facts(proc::ProcSource& source, Pid pid);

class PressureWatcher {
 public:
  struct Deps {
    boost::asio::io_context& io;
    proc::ProcSource& source;
    std::string proc_root;
    EventLog& log;
    Recorder& recorder;
    act::Reversibles& reversibles;
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

  [[nodiscard]] engine::PressureLevel level() const { return level_; }
  [[nodiscard]] const std::string& mode() const { return mode_; }
  [[nodiscard]] std::uint64_t kills() const { return kills_; }

 private:
  struct Impl;
  struct Ranking {
    ScanResult scan;
    engine::VictimOrder order;
  };
  // A fresh scan (its own scanner: ranking must not disturb the main one) and the victims.
  Ranking rank();
  void evaluate(const engine::PressureSample& s, const char* woke_by);
  void act_on_level(const engine::PressureSample& s);
  void kill_next(const engine::PressureSample& s);
  void gentle(const engine::LevelThresholds& level, const engine::PressureSample& s);
  engine::PressureSample read_sample();
  void schedule_check(const engine::PressureSample& s);
  // Arms one PSI trigger ("some" or "full") at percent of the window; its description, or
  // nullopt with *why set.
  std::optional<std::string> arm(const char* kind, double percent, std::string* why);
  void arm_wait(boost::asio::posix::stream_descriptor& trigger);

  Deps d_;
  std::unique_ptr<Impl> impl_;
  engine::PressureLevel level_ = engine::PressureLevel::kNone;
  std::string mode_ = "off";
  bool killing_ = false;       // a kill is in flight (or a dry-run settle period)
  bool gentle_done_ = false;   // the level's renice/freeze was applied since entering it
  bool predicted_ = false;     // the level is held by an exhaustion prediction
  std::uint64_t kills_ = 0;
  std::chrono::steady_clock::time_point woke_at_{};
};

}  // namespace freezr::daemon
