// Temperature sensors under a sysfs root, the kernel's other text interface beside /proc:
// thermal zones (/sys/class/thermal/thermal_zone*, found by their type) and hwmon sensors
// (/sys/class/hwmon/hwmon*, found by the chip's name, a sensor's label, or "name/label"). The
// root is a constructor argument so tests drive the sensors with files.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace freezr::proc {

class ThermalSensors {
 public:
  explicit ThermalSensors(std::string sys_root = "/sys") : root_(std::move(sys_root)) {}

  // °C now; nullopt when no such sensor exists or its file cannot be read.
  std::optional<double> read(const std::string& sensor);
  // Every sensor found, as a section's `sensor` names it, with its temperature now.
  std::vector<std::pair<std::string, double>> list();

 private:
  // The temperature file of sensor, looked up once (and again when it stops answering).
  std::optional<std::string> find(const std::string& sensor);
  std::string root_;
  std::map<std::string, std::string> paths_;
};

}  // namespace freezr::proc
