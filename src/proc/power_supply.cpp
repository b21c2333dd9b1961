#include "proc/power_supply.h"

#include <filesystem>
#include <fstream>

namespace freezr::proc {

namespace {
std::string first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}
}  // namespace

std::optional<bool> on_battery(const std::string& sys_root) {
  namespace stdfs = std::filesystem;
  std::error_code ec;
  stdfs::directory_iterator it(stdfs::path(sys_root) / "class/power_supply", ec);
  if (ec) return std::nullopt;
  bool battery = false, discharging = false, external = false, external_online = false;
  for (const auto& e : it) {
    const std::string type = first_line(e.path() / "type");
    if (type == "Battery") {
      // A peripheral's battery (a mouse's, scope "Device") says nothing about the machine.
      if (first_line(e.path() / "scope") == "Device") continue;
      battery = true;
      discharging = discharging || first_line(e.path() / "status") == "Discharging";
    } else if (type == "Mains" || type.rfind("USB", 0) == 0) {
      external = true;
      external_online = external_online || first_line(e.path() / "online") == "1";
    }
  }
  if (!battery) return false;
  return external ? !external_online : discharging;
}

}  // namespace freezr::proc
