#include "engine/protection.h"

#include <unordered_map>

namespace freezr::engine {

const std::vector<std::string>& default_protected_names() {
  static const std::vector<std::string> kNames = {"systemd",
                                                  "init",
                                                  "systemd-journal",
                                                  "systemd-logind",
                                                  "systemd-udevd",
                                                  "dbus-daemon",
                                                  "dbus-broker",
                                                  "sshd",
                                                  "login",
                                                  "agetty",
                                                  "Xorg",
                                                  "Xwayland",
                                                  "gdm",
                                                  "gdm-session-wor",
                                                  "sddm",
                                                  "lightdm",
                                                  "gnome-shell",
                                                  "kwin_wayland",
                                                  "kwin_x11",
                                                  "plasmashell",
                                                  "sway",
                                                  "Hyprland",
                                                  "pipewire",
                                                  "wireplumber",
                                                  "pulseaudio",
                                                  "polkitd",
                                                  "NetworkManager",
                                                  "freezr",
                                                  "process-monito"};
  return kNames;
}

Protection::Protection(Pid self, std::vector<std::string> names)
    : self_(self), names_(names.begin(), names.end()) {}

void Protection::refresh(const Snapshot& snap) {
  ancestors_.clear();
  std::unordered_map<Pid, Pid> parent;
  parent.reserve(snap.processes.size());
  for (const auto& p : snap.processes) parent.emplace(p.id.pid, p.ppid);
  Pid cur = self_;
  for (int depth = 0; depth < 4096; ++depth) {
    auto it = parent.find(cur);
    if (it == parent.end() || it->second <= 0 || !ancestors_.insert(it->second).second) break;
    cur = it->second;
  }
}

std::optional<std::string> Protection::reason(const ProcessSample& s) const {
  if (s.id.pid == 1) return "PID 1";
  if (s.kernel_thread) return "kernel thread";
  if (s.id.pid == self_) return "FreezR itself";
  if (ancestors_.count(s.id.pid) != 0U) return "an ancestor of FreezR";
  if (names_.count(s.comm) != 0U) return "on the protected list ('" + s.comm + "')";
  return std::nullopt;
}

}  // namespace freezr::engine
