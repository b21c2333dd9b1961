// Where a process lives: its systemd unit and slice, the user whose manager or session holds
// it, and the container it runs in, from /proc/PID/cgroup (cgroup v2, v1 name=systemd, or
// hybrid). Read once per process, like its command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace freezr::proc {

// The container engines FreezR recognises in cgroup paths.
// kMachine: a machine of systemd-machined (systemd-nspawn, or a VM registered with it).
enum class ContainerKind { kNone, kDocker, kPodman, kContainerd, kCrio, kMachine, kLxc };
const char* to_string(ContainerKind k);

struct Placement {
  std::string cgroup;  // the systemd tree's path: "/system.slice/kesl.service"
  // The innermost unit holding the process ("app-firefox-1234.scope" under a user's
  // manager, "kesl.service", "docker-<id>.scope"); within a container, the container's own
  // unit on this host. Empty when none (the root, a process moved out of its unit).
  std::string unit;
  // The slices above it, outermost first: {"user.slice", "user-1000.slice", "app.slice"}.
  std::vector<std::string> slices;
  std::string system_unit;           // the unit of the system manager: "user@1000.service" for apps
  std::optional<std::uint32_t> uid;  // from user-UID.slice or user@UID.service
  ContainerKind container_kind = ContainerKind::kNone;
  std::string container;  // the container's id (docker, podman, containerd, cri-o) or name

  // The innermost slice ("" when none).
  [[nodiscard]] std::string slice() const { return slices.empty() ? "" : slices.back(); }
  // Whether the glob names its unit or its system manager's unit ("user@1000.service").
  [[nodiscard]] bool in_unit(const std::string& glob) const;
  // Whether the glob names any slice above it.
  [[nodiscard]] bool in_slice(const std::string& glob) const;
  // Whether the unit is a user manager's ("app-firefox-1.scope" under user@1000.service).
  [[nodiscard]] bool user_unit() const { return !unit.empty() && unit != system_unit; }
  // The container as shown: "docker:3f2a9c1b7d0e" (ids cut to 12), "machine:web"; "" if none.
  [[nodiscard]] std::string container_label() const;
  // Where it lives in a word, as the process tables show it: its container, else its unit.
  [[nodiscard]] std::string shown() const;
  bool operator==(const Placement&) const = default;
};

// From the text of /proc/PID/cgroup. Unreadable or unparsable text gives an empty placement.
Placement parse_placement(std::string_view cgroup_file);

// systemd's unit-name unescaping of \xNN sequences ("web\x2d1" is "web-1").
std::string unescape_unit(std::string_view s);

// Whether a container given in a rule (a name, or a prefix of an id) designates p's.
bool container_matches(const Placement& p, std::string_view want);

// The unit a restart with no service names restarts: p's system unit when it is a service
// that restarting cannot take a whole session or FreezR down; otherwise why not.
struct RestartTarget {
  std::string unit;  // empty when refused
  std::string refusal;
};
RestartTarget restart_target(const Placement& p, std::string_view own_unit);

}  // namespace freezr::proc
