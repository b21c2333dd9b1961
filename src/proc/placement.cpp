#include "proc/placement.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "proc/parse.h"

namespace freezr::proc {

const char* to_string(ContainerKind k) {
  switch (k) {
    case ContainerKind::kNone:
      return "";
    case ContainerKind::kDocker:
      return "docker";
    case ContainerKind::kPodman:
      return "podman";
    case ContainerKind::kContainerd:
      return "containerd";
    case ContainerKind::kCrio:
      return "cri-o";
    case ContainerKind::kMachine:
      return "machine";
    case ContainerKind::kLxc:
      return "lxc";
  }
  return "";
}

namespace {
bool is_id_kind(ContainerKind k) {
  return k == ContainerKind::kDocker || k == ContainerKind::kPodman ||
         k == ContainerKind::kContainerd || k == ContainerKind::kCrio;
}

bool hex_id(std::string_view s) {
  return s.size() >= 12 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

bool is_unit(std::string_view c) {
  for (std::string_view suffix : {".service", ".scope", ".socket", ".mount", ".swap"}) {
    if (c.ends_with(suffix) && c.size() > suffix.size()) return true;
  }
  return false;
}

// What c holds between prefix and suffix ("web" in "machine-web.scope"); nullopt unless c
// has both and something between them.
std::optional<std::string_view> between(std::string_view c, std::string_view prefix,
                                        std::string_view suffix) {
  if (c.size() <= prefix.size() + suffix.size() || !c.starts_with(prefix) || !c.ends_with(suffix)) {
    return std::nullopt;
  }
  return c.substr(prefix.size(), c.size() - prefix.size() - suffix.size());
}

// The number in "user-1000.slice" or "user@1000.service".
std::optional<std::uint32_t> uid_in(std::string_view c, std::string_view prefix,
                                    std::string_view suffix) {
  const auto digits = between(c, prefix, suffix);
  if (!digits) return std::nullopt;
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(digits->data(), digits->data() + digits->size(), v);
  if (ec != std::errc() || end != digits->data() + digits->size()) return std::nullopt;
  return v;
}

// "<prefix><id><suffix>" with a hexadecimal id: the id.
std::optional<std::string_view> wrapped_id(std::string_view c, std::string_view prefix,
                                           std::string_view suffix) {
  const auto id = between(c, prefix, suffix);
  return id && hex_id(*id) ? id : std::nullopt;
}

struct Found {
  ContainerKind kind = ContainerKind::kNone;
  std::string name;
};

// A container named by the component c (prev: the component above it).
Found container_of(std::string_view c, std::string_view prev) {
  struct Wrapped {
    std::string_view prefix, suffix;
    ContainerKind kind;
  };
  static constexpr std::array<Wrapped, 5> kWrapped{{
      {"docker-", ".scope", ContainerKind::kDocker},
      {"libpod-", ".scope", ContainerKind::kPodman},
      {"libpod-", "", ContainerKind::kPodman},
      {"cri-containerd-", ".scope", ContainerKind::kContainerd},
      {"crio-", ".scope", ContainerKind::kCrio},
  }};
  for (const auto& w : kWrapped) {
    if (auto id = wrapped_id(c, w.prefix, w.suffix)) return {w.kind, std::string(*id)};
  }
  if (prev == "docker" && hex_id(c)) return {ContainerKind::kDocker, std::string(c)};
  for (const auto& [prefix, suffix] :
       {std::pair<std::string_view, std::string_view>{"machine-", ".scope"},
        {"systemd-nspawn@", ".service"}}) {
    if (auto name = between(c, prefix, suffix)) {
      return {ContainerKind::kMachine, unescape_unit(*name)};
    }
  }
  if (auto name = between(c, "lxc.payload.", "")) return {ContainerKind::kLxc, std::string(*name)};
  if (prev == "lxc" && !c.empty()) return {ContainerKind::kLxc, std::string(c)};
  return {};
}
}  // namespace

std::string unescape_unit(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned v = 0;
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      const auto [end, ec] = std::from_chars(s.data() + i + 2, s.data() + i + 4, v, 16);
      if (ec == std::errc() && end == s.data() + i + 4) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

namespace {
bool glob(const std::string& pattern, const std::string& name) {
  return !name.empty() && ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}
}  // namespace

bool Placement::in_unit(const std::string& g) const {
  return glob(g, unit) || glob(g, system_unit);
}

bool Placement::in_slice(const std::string& g) const {
  return std::any_of(slices.begin(), slices.end(),
                     [&](const std::string& s) { return glob(g, s); });
}

std::string Placement::shown() const {
  return container_kind == ContainerKind::kNone ? unit : container_label();
}

std::string Placement::container_label() const {
  if (container_kind == ContainerKind::kNone) return "";
  const auto shown = is_id_kind(container_kind) ? container.substr(0, 12) : container;
  return std::string(to_string(container_kind)) + ":" + shown;
}

Placement parse_placement(std::string_view cgroup_file) {
  Placement p;
  auto path = parse_cgroup_path(cgroup_file, "");
  if (!path || *path == "/" || path->empty()) {
    if (auto v1 = parse_cgroup_path(cgroup_file, "name=systemd")) path = v1;
  }
  if (!path || !path->starts_with('/')) return p;
  p.cgroup = *path;
  std::string_view rest(p.cgroup);
  std::string_view prev;
  bool in_user_manager = false;  // below user@UID.service: the user manager's units count
  while (!rest.empty()) {
    rest.remove_prefix(1);
    const auto slash = rest.find('/');
    const auto c = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (c.empty()) continue;
    const bool may_set = p.system_unit.empty() || in_user_manager;
    if (auto found = container_of(c, prev); found.kind != ContainerKind::kNone) {
      p.container_kind = found.kind;
      p.container = std::move(found.name);
      if (is_unit(c) && may_set) {
        p.unit = std::string(c);
        if (p.system_unit.empty()) p.system_unit = p.unit;
      }
      break;  // below it is the container's own tree
    }
    if (c.ends_with(".slice") && may_set) {
      p.slices.emplace_back(c);
      if (auto uid = uid_in(c, "user-", ".slice")) p.uid = uid;
    } else if (is_unit(c) && may_set) {
      p.unit = std::string(c);
      if (p.system_unit.empty()) {
        p.system_unit = p.unit;
        if (auto uid = uid_in(c, "user@", ".service")) p.uid = uid, in_user_manager = true;
      }
    }
    prev = c;
  }
  return p;
}

bool container_matches(const Placement& p, std::string_view want) {
  if (p.container_kind == ContainerKind::kNone || want.empty()) return false;
  if (const auto colon = want.find(':'); colon != std::string_view::npos) {
    if (want.substr(0, colon) != to_string(p.container_kind)) return false;
    want.remove_prefix(colon + 1);
    if (want.empty()) return true;  // "docker:": any container of docker
  }
  if (p.container == want) return true;
  return is_id_kind(p.container_kind) && std::string_view(p.container).starts_with(want);
}

RestartTarget restart_target(const Placement& p, std::string_view own_unit) {
  if (p.system_unit.empty()) return {"", "it belongs to no systemd unit"};
  if (p.container_kind != ContainerKind::kNone) {
    return {"", "it runs in the container " + p.container_label() +
                    "; name the service to restart in the rule"};
  }
  if (p.user_unit()) {
    return {"", p.unit + " belongs to the user manager " + p.system_unit +
                    "; FreezR restarts system services only"};
  }
  if (p.unit.starts_with("user@")) {
    return {"", "restarting " + p.unit + " would end that user's session"};
  }
  if (!p.unit.ends_with(".service")) {
    return {"", p.unit +
                    " is not a service (a scope holds a session's or a program's processes "
                    "and cannot be restarted)"};
  }
  if (p.unit == own_unit) return {"", p.unit + " is FreezR's own unit"};
  return {p.unit, ""};
}

}  // namespace freezr::proc
