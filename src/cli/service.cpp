#include "cli/service.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "config/config.h"
#include "core/text.h"

namespace freezr::cli {
namespace {

namespace fs = std::filesystem;
constexpr const char* kUnitName = "freezr.service";

std::string self_path() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("/usr/local/bin/freezr") : p.string();
}

// Runs systemctl with args; returns its exit status (127 when it cannot be run).
int systemctl(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string prog = "systemctl";
  argv.push_back(prog.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    execvp("systemctl", argv.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

std::string render_unit(const std::string& binary, const ServiceOptions& o) {
  std::istringstream in{std::string(systemd_unit_text())};
  std::string out, line;
  while (std::getline(in, line)) {
    if (line.rfind("ExecStart=", 0) == 0) {
      line = fmt::format("ExecStart={} run --config {}/config.toml", binary, o.config_dir);
      if (!o.data_dir.empty()) line += " --data-dir " + o.data_dir;
      if (o.dry_run) line += " --dry-run";
    }
    out += line + "\n";
  }
  return out;
}

int service_install(const ServiceOptions& o) {
  std::error_code ec;
  fs::create_directories(o.unit_dir, ec);
  fs::create_directories(o.config_dir, ec);
  const std::string unit = o.unit_dir + "/" + kUnitName;
  if (!write_file(unit, render_unit(self_path(), o))) {
    fmt::print(stderr, "freezr: cannot write {}\n", unit);
    return 1;
  }
  fmt::print("wrote {}\n", unit);
  const std::string cfg = o.config_dir + "/config.toml";
  if (fs::exists(cfg, ec)) {
    fmt::print("kept the existing {}\n", cfg);
  } else if (write_file(cfg, std::string(default_config_text()))) {
    fmt::print("wrote {} (the default configuration)\n", cfg);
  } else {
    fmt::print(stderr, "freezr: cannot write {}\n", cfg);
    return 1;
  }
  if (!o.systemctl) return 0;
  if (systemctl({"daemon-reload"}) != 0 || systemctl({"enable", "--now", kUnitName}) != 0) {
    fmt::print(stderr,
               "freezr: systemctl failed (is systemd running here?); the unit is installed, "
               "start it with: systemctl enable --now {}\n",
               kUnitName);
    return 1;
  }
  fmt::print("enabled and started {}\n", kUnitName);
  return 0;
}

int service_uninstall(const ServiceOptions& o) {
  int rc = 0;
  if (o.systemctl && systemctl({"disable", "--now", kUnitName}) != 0) {
    fmt::print(stderr, "freezr: systemctl disable failed (is systemd running here?)\n");
    rc = 1;
  }
  const std::string unit = o.unit_dir + "/" + kUnitName;
  std::error_code ec;
  if (fs::remove(unit, ec)) {
    fmt::print("removed {} (the configuration in {} is kept)\n", unit, o.config_dir);
  } else {
    fmt::print("{} was not installed\n", unit);
  }
  if (o.systemctl && systemctl({"daemon-reload"}) != 0) rc = 1;
  return rc;
}

namespace {
// Where the unit is: the directory given with --unit-dir, else the first of the administrator's
// and the package's unit directories that holds it.
std::string unit_path(const ServiceOptions& o) {
  if (o.unit_dir_given) return o.unit_dir + "/" + kUnitName;
  for (const char* dir :
       {"/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}) {
    const std::string path = std::string(dir) + "/" + kUnitName;
    std::error_code ec;
    if (fs::exists(path, ec)) return path;
  }
  return o.unit_dir + "/" + kUnitName;
}
}  // namespace

int service_status(const ServiceOptions& o) {
  const std::string unit = unit_path(o);
  std::error_code ec;
  const bool installed = fs::exists(unit, ec);
  if (o.format == "json") {
    const std::string status = o.runtime_dir + "/status.json";
    std::ifstream in(status);
    auto snapshot = nlohmann::json::parse(in, nullptr, false);
    const nlohmann::ordered_json out = {
        {"unit", unit},
        {"installed", installed},
        {"status_file", status},
        {"status", snapshot.is_discarded() ? nlohmann::json(nullptr) : snapshot}};
    fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return installed ? 0 : 3;
  }
  fmt::print("unit: {} ({})\n", unit, installed ? "installed" : "not installed");
  const std::string status = o.runtime_dir + "/status.json";
  if (fs::exists(status, ec)) {
    std::ifstream in(status);
    std::stringstream ss;
    ss << in.rdbuf();
    fmt::print("last status snapshot ({}):\n{}", status, terminal_safe(ss.str(), true));
  } else {
    fmt::print("no status snapshot at {}\n", status);
  }
  if (o.systemctl) {
    const int rc = systemctl({"status", "--no-pager", kUnitName});
    if (rc == 127) fmt::print("systemctl is not available here\n");
  }
  return installed ? 0 : 3;
}

}  // namespace freezr::cli
