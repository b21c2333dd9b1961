// Actuator: carries out decisions and reports what happened. Implementations: LinuxActuator
// (pidfd signals, systemd over D-Bus) and DryRunActuator (logs only).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "engine/policy.h"
#include "proc/info_cache.h"
#include "store/ledger.h"

namespace freezr::act {

struct ActionOutcome {
  std::string rule;
  engine::ActionKind action = engine::ActionKind::kLog;
  std::optional<engine::TargetInfo> target;  // the process, for kill and log
  std::string service;                       // the unit, for restart
  std::string unit;                          // the unit acted on as a whole (whole_unit)
  bool ok = false;
  bool dry_run = false;
  bool final = true;  // false for progress reports (e.g. "SIGTERM sent")
  std::string detail;
  bool undo = false;  // the outcome of undoing a renice, throttle or freeze
  engine::Origin origin = engine::Origin::kRule;
  std::string reason;   // the decision's reason, e.g. "cpu 96.0% > 80.0% for 3 scans"
  double duration = 0;  // of a freeze, seconds
  // The figures behind the decision.
  std::string metric;  // "cpu" or "memory", or empty
  double value = 0, threshold = 0;
  int streak = 0;
  // The step's after hook: run once the final outcome is known.
  std::optional<engine::Command> after;
};

// An outcome of d, not yet ok, with its rule, action, origin and reason filled in.
ActionOutcome outcome_of(const engine::Decision& d);

using OutcomeSink = std::function<void(const ActionOutcome&)>;

class Actuator {
 public:
  virtual ~Actuator() = default;
  // Carries out a decision whose verdict is kAct. Never blocks: outcomes that take time
  // (a process exiting, a D-Bus reply) are reported through the sink later.
  virtual void apply(const engine::Decision& d) = 0;
  // Operations started and not yet finished.
  [[nodiscard]] virtual std::size_t pending() const = 0;
};

// systemd's manager: restarts units, and freezes, throttles and kills them as a whole.
class ServiceManager {
 public:
  using Done = std::function<void(bool ok, const std::string& detail)>;
  // CPUQuotaPerSecUSec when a unit has no CPU quota.
  static constexpr std::uint64_t kNoQuota = UINT64_MAX;
  using QuotaDone = std::function<void(bool ok, const std::string& detail, std::uint64_t usec)>;
  virtual ~ServiceManager() = default;
  // Each call's done is called exactly once, later, from the event loop.
  // Asks for a restart of unit.
  virtual void restart(const std::string& unit, Done done) = 0;
  // FreezeUnit (freeze) or ThawUnit.
  virtual void freeze_unit(const std::string& unit, bool freeze, Done done) = 0;
  // The unit's CPU quota now: microseconds of CPU time per second, or kNoQuota.
  virtual void cpu_quota(const std::string& unit, QuotaDone done) = 0;
  // A runtime CPUQuota= (SetUnitProperties, lost at reboot), or none with kNoQuota.
  virtual void set_cpu_quota(const std::string& unit, std::uint64_t usec, Done done) = 0;
  // KillUnit: signal to every process of the unit.
  virtual void kill_unit(const std::string& unit, int signal, Done done) = 0;
  // ThawUnit and a CPU quota put back, done at once (waiting a few seconds at most): undoing
  // never waits on the event loop.
  virtual Result<void> thaw_unit_now(const std::string& unit) = 0;
  virtual Result<void> set_cpu_quota_now(const std::string& unit, std::uint64_t usec) = 0;
  [[nodiscard]] virtual std::size_t pending() const = 0;
};

// A restart that names no service: one decision per unit its targets belong to (each unit
// once), with the service filled in. A target whose unit may not be restarted
// (proc::restart_target) gets a failed outcome through refused instead.
std::vector<engine::Decision> restarts_by_unit(const engine::Decision& d, proc::InfoSource& info,
                                               std::string_view own_unit,
                                               const OutcomeSink& refused);

// The unit d acts on as a whole through systemd, or "" to act process by process: d freezes,
// throttles or kills a unit entity (aggregate = "unit") of a rule that picks processes by
// where they live alone (match.unit, slice, container), every process of the unit is a
// target (none protected, target = "all"), and the unit is the system manager's own, not a
// slice, init.scope or FreezR's.
std::string whole_unit(const engine::Decision& d, const engine::Rule& rule, proc::InfoSource& info,
                       std::string_view own_unit);

// Logs what it would do; touches nothing. Every kind of decision comes here in dry-run. The
// freezes it would have made are kept for their duration, so that the API and dashboards show
// what a real run would hold (kind "freeze-dry-run").
class DryRunActuator final : public Actuator {
 public:
  // wall: Unix seconds now.
  DryRunActuator(OutcomeSink sink, std::function<double()> wall)
      : sink_(std::move(sink)), wall_(std::move(wall)) {}
  void apply(const engine::Decision& d) override;
  [[nodiscard]] std::size_t pending() const override { return 0; }

  // The simulated freezes still in force.
  std::vector<store::LedgerEntry> frozen();
  // Ends the simulated freeze of pid, or all of them; returns the PIDs.
  std::vector<Pid> thaw(std::optional<Pid> pid);

 private:
  struct Hold {
    store::LedgerEntry entry;
    double until = 0;
  };
  OutcomeSink sink_;
  std::function<double()> wall_;
  std::vector<Hold> holds_;
};

}  // namespace freezr::act
