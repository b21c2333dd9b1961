// The systemd notification protocol (sd_notify): READY, RELOADING, STOPPING, STATUS and the
// watchdog. Without NOTIFY_SOCKET every call is a no-op.
#pragma once

#include <optional>
#include <string>

namespace freezr::os {

void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();
void notify_status(const std::string& status);
void notify_watchdog();

// Seconds between keep-alives (half of WatchdogSec), or nullopt when no watchdog is asked for.
std::optional<double> watchdog_period();

}  // namespace freezr::os
