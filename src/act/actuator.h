// Actuator: carries out decisions and reports what happened. Implementations: LinuxActuator
// (pidfd signals, systemd over D-Bus) and DryRunActuator (logs only).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "engine/policy.h"

namespace freezr::act {

struct ActionOutcome {
  std::string rule;
  engine::ActionKind action = engine::ActionKind::kLog;
  std::optional<engine::TargetInfo> target;  // the process, for kill and log
  std::string service;                       // the unit, for restart
  bool ok = false;
  bool dry_run = false;
  bool final = true;  // false for progress reports (e.g. "SIGTERM sent")
  std::string detail;
  bool undo = false;  // the outcome of undoing a renice, throttle or freeze
  engine::Origin origin = engine::Origin::kRule;
  std::string reason;  // the decision's reason, e.g. "cpu 96.0% > 80.0% for 3 scans"
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

// Restarts systemd units.
class ServiceManager {
 public:
  using Done = std::function<void(bool ok, const std::string& detail)>;
  virtual ~ServiceManager() = default;
  // Asks for a restart of unit; done is called exactly once, later, from the event loop.
  virtual void restart(const std::string& unit, Done done) = 0;
  [[nodiscard]] virtual std::size_t pending() const = 0;
};

// Logs what it would do; touches nothing. Every kind of decision comes here in dry-run.
class DryRunActuator final : public Actuator {
 public:
  explicit DryRunActuator(OutcomeSink sink) : sink_(std::move(sink)) {}
  void apply(const engine::Decision& d) override;
  [[nodiscard]] std::size_t pending() const override { return 0; }

 private:
  OutcomeSink sink_;
};

}  // namespace freezr::act
