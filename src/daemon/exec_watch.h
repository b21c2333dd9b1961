// ExecWatch: the rules' on_exec actions. A process is acted on once per rule, as soon as it
// matches: at its exec or rename when process events arrive, otherwise at the first scan
// that finds it (which is also how processes already running at start are handled).
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <utility>

#include "config/config.h"
#include "engine/protection.h"
#include "proc/proc_events.h"
#include "report/log_lines.h"
#include "scan/scanner.h"

namespace freezr::daemon {

class ExecWatch {
 public:
  struct Deps {
    proc::ProcSource& source;
    report::LogLines& log;
    std::function<const config::Config&()> config;
    std::function<proc::InfoSource&()> info;
    // Forgets the process's command line, executable and classification (after an exec).
    std::function<void(const ProcessId&)> forget;
    std::function<const engine::Protection&()> protection;
    // The daemon's one path for decisions: recorded, then carried out by the actuator.
    std::function<void(const engine::Decision&)> carry_out;
  };
  explicit ExecWatch(Deps deps) : d_(std::move(deps)) {}

  // An exec or a rename of a process (not of a thread): forgets what was cached about it and
  // acts on it at once when it now matches a rule with on_exec.
  void on_event(const proc::ProcEvent& e);
  // After each scan: acts on members of on_exec rules not acted on yet, and forgets the ones
  // that are gone.
  void on_scan(const scan::ScanResult& r);
  // The rules changed: everything is judged afresh.
  void reset() { done_.clear(); }
  [[nodiscard]] std::uint64_t by_event() const { return by_event_; }

 private:
  // Decides for s and carries the decisions out; returns how many acted.
  int act(const engine::ProcessSample& s, const char* via, std::optional<double> delay_ms);

  Deps d_;
  std::set<std::pair<std::size_t, ProcessId>> done_;
  std::string buf_;
  std::uint64_t by_event_ = 0;
};

}  // namespace freezr::daemon
