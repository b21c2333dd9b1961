// `freezr service install|uninstall|status`: the systemd unit on this machine.
#pragma once

#include <string>

namespace freezr::cli {

struct ServiceOptions {
  std::string unit_dir = "/etc/systemd/system";
  bool unit_dir_given = false;  // --unit-dir: status looks only there
  std::string config_dir = "/etc/freezr";
  std::string data_dir;  // given to `freezr run` when set; otherwise systemd's StateDirectory
  std::string runtime_dir = "/run/freezr";
  bool dry_run = false;          // install a unit whose FreezR only logs what it would do
  bool systemctl = true;         // run systemctl after writing (daemon-reload, enable --now ...)
  std::string format = "table";  // status: the text, or "json" (unit, installed, snapshot)
};

// The unit text with ExecStart pointing at `binary` and the given directories.
std::string render_unit(const std::string& binary, const ServiceOptions& o);

int service_install(const ServiceOptions& o);
int service_uninstall(const ServiceOptions& o);
int service_status(const ServiceOptions& o);

}  // namespace freezr::cli
