// SystemdManager: restarts units with org.freedesktop.systemd1.Manager.RestartUnit over the
// system bus (sd-bus; DBUS_SYSTEM_BUS_ADDRESS is honoured). Calls are asynchronous: the bus
// socket is watched by the event loop. No daemon-reload is ever issued.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "act/actuator.h"

namespace freezr::act {

class SystemdManager final : public ServiceManager {
 public:
  explicit SystemdManager(boost::asio::io_context& io);
  ~SystemdManager() override;
  SystemdManager(const SystemdManager&) = delete;
  SystemdManager& operator=(const SystemdManager&) = delete;

  void restart(const std::string& unit, Done done) override;
  [[nodiscard]] std::size_t pending() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freezr::act
