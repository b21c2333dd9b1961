// LinuxActuator: signals through pidfds opened for an exact (pid, start time), with
// SIGTERM -> grace -> SIGKILL escalation driven by the event loop (or, for an immediate kill,
// SIGKILL and process_mrelease at once), and restarts through a ServiceManager.
#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>

#include "act/actuator.h"
#include "act/reversible.h"
#include "proc/proc_source.h"

namespace freezr::act {

// Opens a pidfd for id.pid and checks that it still refers to the process that started at
// id.start_time. Returns the fd (caller owns it), or an Error (gone() when it has exited or
// the PID was reused).
Result<int> open_verified_pidfd(proc::ProcSource& source, const ProcessId& id);

// Sends sig through a pidfd. Returns false with errno set on failure.
bool pidfd_signal(int pidfd, int sig);
// Asks the kernel to reap a killed process's memory now (process_mrelease), where it can.
void release_memory(int pidfd);

class LinuxActuator final : public Actuator {
 public:
  // grace: seconds between SIGTERM and SIGKILL. All references must outlive the actuator.
  LinuxActuator(boost::asio::io_context& io, proc::ProcSource& source, ServiceManager& services,
                Reversibles& reversibles, double grace, OutcomeSink sink);
  ~LinuxActuator() override;

  void apply(const engine::Decision& d) override;
  // Kills waiting for their process to exit and restarts waiting for systemd. Freezes are not
  // counted: they are undone at once when FreezR stops.
  [[nodiscard]] std::size_t pending() const override;

  // Sends SIGKILL at once to every process still waiting out its grace period.
  void hurry();

 private:
  struct PendingKill;
  void kill(const engine::Decision& d, const engine::TargetInfo& t);
  void watch(const std::shared_ptr<PendingKill>& k);
  void give_up_after(const std::shared_ptr<PendingKill>& k, int seconds);
  void finish(const std::shared_ptr<PendingKill>& k, bool ok, const std::string& detail);

  boost::asio::io_context& io_;
  proc::ProcSource& source_;
  ServiceManager& services_;
  Reversibles& reversibles_;
  double grace_;
  OutcomeSink sink_;
  std::map<ProcessId, std::shared_ptr<PendingKill>> kills_;
};

}  // namespace freezr::act
