#include "os/notify.h"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>

namespace freezr::os {

void notify_ready(const std::string& status) {
  sd_notify(0, fmt::format("READY=1\nSTATUS={}", status).c_str());
}

void notify_reloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
                    static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
  sd_notify(0, fmt::format("RELOADING=1\nMONOTONIC_USEC={}", usec).c_str());
}

void notify_stopping() { sd_notify(0, "STOPPING=1"); }

void notify_status(const std::string& status) {
  sd_notify(0, fmt::format("STATUS={}", status).c_str());
}

void notify_watchdog() { sd_notify(0, "WATCHDOG=1"); }

std::optional<double> watchdog_period() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return static_cast<double>(usec) / 2e6;
}

}  // namespace freezr::os
