#include "proc/thermal_sensors.h"

#include <filesystem>
#include <fstream>

namespace freezr::proc {
namespace {

std::optional<std::string> first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

// A temperature file: millidegrees Celsius.
std::optional<double> millidegrees(const std::string& path) {
  const auto v = first_line(path);
  if (!v || v->empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const long m = std::stol(*v, &used);
    if (used != v->size() || m < -100000 || m > 300000) return std::nullopt;
    return static_cast<double>(m) / 1000.0;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Each sensor: its names (as a section may give it) and its temperature file.
template <typename F>
void each_sensor(const std::string& root, F&& f) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& z : fs::directory_iterator(root + "/class/thermal", ec)) {
    if (z.path().filename().string().rfind("thermal_zone", 0) != 0) continue;
    if (const auto type = first_line(z.path() / "type")) f(*type, (z.path() / "temp").string());
  }
  for (const auto& h : fs::directory_iterator(root + "/class/hwmon", ec)) {
    const auto chip = first_line(h.path() / "name").value_or(h.path().filename().string());
    std::error_code ec2;
    for (const auto& e : fs::directory_iterator(h.path(), ec2)) {
      const auto file = e.path().filename().string();
      if (file.rfind("temp", 0) != 0 || !file.ends_with("_input")) continue;
      const auto input = e.path().string();
      const auto base = file.substr(0, file.size() - 6);  // "temp1"
      if (const auto label = first_line(h.path() / (base + "_label"))) {
        f(chip + "/" + *label, input);
        f(*label, input);
      }
      if (base == "temp1") f(chip, input);
    }
  }
}

}  // namespace

std::optional<std::string> ThermalSensors::find(const std::string& sensor) {
  if (auto it = paths_.find(sensor); it != paths_.end()) return it->second;
  std::optional<std::string> found;
  each_sensor(root_, [&](const std::string& name, const std::string& path) {
    if (!found && name == sensor) found = path;
  });
  if (found) paths_[sensor] = *found;
  return found;
}

std::optional<double> ThermalSensors::read(const std::string& sensor) {
  auto path = find(sensor);
  if (!path) return std::nullopt;
  if (auto t = millidegrees(*path)) return t;
  paths_.erase(sensor);  // the device went away or was renumbered: look it up again
  path = find(sensor);
  return path ? millidegrees(*path) : std::nullopt;
}

std::vector<std::pair<std::string, double>> ThermalSensors::list() {
  std::vector<std::pair<std::string, double>> out;
  each_sensor(root_, [&](const std::string& name, const std::string& path) {
    if (auto t = millidegrees(path)) out.emplace_back(name, *t);
  });
  return out;
}

}  // namespace freezr::proc
