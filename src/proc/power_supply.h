// Whether the machine runs on battery, from /sys/class/power_supply: each supply's `type`
// ("Mains", "USB", "Battery", ...), a mains or USB supply's `online` and a battery's `status`.
// The sysfs root is an argument so tests drive it with files.
#pragma once

#include <optional>
#include <string>

namespace freezr::proc {

// True when there is a battery and no external supply is online (or, where no mains or USB
// supply is listed, a battery is discharging); false on mains and on machines without a
// battery; nullopt when the power_supply class cannot be read at all.
std::optional<bool> on_battery(const std::string& sys_root = "/sys");

}  // namespace freezr::proc
