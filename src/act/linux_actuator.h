// LinuxActuator: signals through pidfds opened for an exact (pid, start time), with
// SIGTERM -> grace -> SIGKILL escalation driven by the event loop (or, for an immediate kill,
// SIGKILL and process_mrelease at once), restarts through a ServiceManager, and commands (the
// exec action) through a CommandRunner.
#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>

#include "act/actuator.h"
#include "act/command_runner.h"
#include "act/process_control.h"
#include "act/reversible.h"
#include "core/clock.h"

namespace freezr::act {

class LinuxActuator final : public Actuator {
 public:
  // grace: seconds between SIGTERM and SIGKILL. All references must outlive the actuator.
  LinuxActuator(boost::asio::io_context& io, ProcessControl& control, const Clock& clock,
                ServiceManager& services, Reversibles& reversibles, CommandRunner& commands,
                double grace, OutcomeSink sink);
  ~LinuxActuator() override;

  void apply(const engine::Decision& d) override;
  // Kills waiting for their process to exit, restarts waiting for systemd and commands
  // running. Freezes are not counted: they are undone at once when FreezR stops.
  [[nodiscard]] std::size_t pending() const override;

  // Sends SIGKILL at once to every process still waiting out its grace period.
  void hurry();

 private:
  struct PendingKill;
  // signalled: the first signal already went to t's whole unit (KillUnit).
  void kill(const engine::Decision& d, const engine::TargetInfo& t, bool signalled);
  // d's unit signalled as a whole through systemd, then each target watched as by kill().
  void kill_unit(const engine::Decision& d);
  // Runs the exec action's command once per target (once for the rule without targets).
  void exec(const engine::Decision& d);
  void watch(const std::shared_ptr<PendingKill>& k);
  void give_up_after(const std::shared_ptr<PendingKill>& k, int seconds);
  void finish(const std::shared_ptr<PendingKill>& k, bool ok, const std::string& detail);

  boost::asio::io_context& io_;
  ProcessControl& control_;
  const Clock& clock_;
  ServiceManager& services_;
  Reversibles& reversibles_;
  CommandRunner& commands_;
  double grace_;
  OutcomeSink sink_;
  std::map<ProcessId, std::shared_ptr<PendingKill>> kills_;
};

}  // namespace freezr::act
