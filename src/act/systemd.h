// SystemdManager: systemd's manager over the system bus (sd-bus; DBUS_SYSTEM_BUS_ADDRESS is
// honoured): RestartUnit, FreezeUnit/ThawUnit, a runtime CPUQuota= through SetUnitProperties,
// and KillUnit. Calls are asynchronous: the bus socket is watched by the event loop. No
// daemon-reload is ever issued.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "act/actuator.h"
#include "core/result.h"

namespace freezr::act {

class SystemdManager final : public ServiceManager {
 public:
  explicit SystemdManager(boost::asio::io_context& io);
  ~SystemdManager() override;
  SystemdManager(const SystemdManager&) = delete;
  SystemdManager& operator=(const SystemdManager&) = delete;

  void restart(const std::string& unit, Done done) override;
  void freeze_unit(const std::string& unit, bool freeze, Done done) override;
  void cpu_quota(const std::string& unit, QuotaDone done) override;
  void set_cpu_quota(const std::string& unit, std::uint64_t usec, Done done) override;
  void kill_unit(const std::string& unit, int signal, Done done) override;
  Result<void> thaw_unit_now(const std::string& unit) override;
  Result<void> set_cpu_quota_now(const std::string& unit, std::uint64_t usec) override;
  [[nodiscard]] std::size_t pending() const override;

  struct Request;

 private:
  void send(Request request);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The same calls made at once, waiting at most a few seconds for the answer: for undoing a
// unit's freeze or quota outside the event loop (crash recovery, `freezr thaw`).
Result<void> thaw_unit_now(const std::string& unit);
Result<void> set_cpu_quota_now(const std::string& unit, std::uint64_t usec);
// Whether systemd delegates the unit's cgroup to it (its Delegate= property) and pid is the
// unit's main process, asked at once.
Result<bool> delegated_to(const std::string& unit, Pid pid);

}  // namespace freezr::act
