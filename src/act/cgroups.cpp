#include "act/cgroups.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace freezr::act {

CgroupRoots find_cgroup_roots(const std::vector<proc::Mount>& mounts) {
  CgroupRoots r;
  for (const auto& m : mounts) {
    if (m.root != "/") continue;
    if (m.fstype == "cgroup2" && r.v2.empty()) r.v2 = m.mount_point;
    if (m.fstype == "cgroup" && r.v1_cpu.empty()) {
      std::stringstream opts(m.super_options);
      for (std::string o; std::getline(opts, o, ',');) {
        if (o == "cpu") r.v1_cpu = m.mount_point;
      }
    }
  }
  return r;
}

std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out.empty() ? "_" : out;
}

Result<void> Cgroups::write(const std::string& dir, const std::string& file,
                            const std::string& value) {
  const std::string path = dir + "/" + file;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error{errno, "open " + path + ": " + std::strerror(errno)};
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return Error{err, "write " + path + ": " + std::strerror(err)};
  }
  return {};
}

std::string Cgroups::read(const std::string& dir, const std::string& file) {
  std::ifstream in(dir + "/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<void> Cgroups::move(const std::string& dir, Pid pid) {
  return write(dir, "cgroup.procs", std::to_string(pid));
}

void Cgroups::remove(const std::string& dir) { ::rmdir(dir.c_str()); }

std::vector<Pid> Cgroups::members(const std::string& dir) {
  std::vector<Pid> out;
  std::istringstream in(read(dir, "cgroup.procs"));
  for (long pid = 0; in >> pid;) {
    if (pid > 0) out.push_back(static_cast<Pid>(pid));
  }
  return out;
}

std::string Cgroups::base(bool v2) const {
  const std::string& root = v2 ? roots_.v2 : roots_.v1_cpu;
  return root.empty() ? std::string() : root + "/" + group_;
}

std::vector<std::string> Cgroups::bases(bool v2) const {
  const std::string& root = v2 ? roots_.v2 : roots_.v1_cpu;
  if (root.empty()) return {};
  std::vector<std::string> out = {root + "/" + group_};
  if (v2 && !delegated_.empty()) out.insert(out.begin(), delegated_);
  if (v2) out.insert(out.end(), accepted_.begin(), accepted_.end());
  return out;
}

Cgroups::Cgroups(CgroupRoots roots, std::string group, std::string instance)
    : roots_(std::move(roots)), group_(std::move(group)), instance_(std::move(instance)) {}

std::string Cgroups::leaf(const char* kind, const std::string& rest) const {
  return std::string(kind) + "-" + (instance_.empty() ? "" : instance_ + "-") + safe_name(rest);
}

bool Cgroups::ours(const std::string& leaf, const char* kind) const {
  const std::string prefix = std::string(kind) + "-" + (instance_.empty() ? "" : instance_ + "-");
  return leaf.rfind(prefix, 0) == 0;
}

std::string instance_tag(const std::string& data_dir) {
  std::error_code ec;
  const std::string path = std::filesystem::absolute(data_dir, ec).lexically_normal().string();
  std::uint32_t h = 2166136261U;  // FNV-1a
  for (const char c : path) h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return buf;
}

void Cgroups::delegate_to(std::string dir) { delegated_ = std::move(dir); }

void Cgroups::also_accept(const std::string& dir) {
  const auto slash = dir.rfind('/');
  const bool service =
      slash != std::string::npos && dir.size() > slash + 9 && dir.ends_with(".service");
  if (!roots_.v2.empty() && service && dir.rfind(roots_.v2 + "/", 0) == 0 &&
      dir.find("/..") == std::string::npos && dir != delegated_) {
    accepted_.push_back(dir);
  }
}

void Cgroups::accept_recorded(const fs::Directory& data) {
  if (auto text = fs::read_regular_file(data.path_of(kDelegatedFile), 4096)) {
    const auto end = text->find('\n');
    also_accept(text->substr(0, end));
  }
}

Result<void> Cgroups::record(const fs::Directory& data) const {
  if (delegated_.empty()) return {};
  return data.write_atomically(kDelegatedFile, delegated_ + "\n", 0640, true);
}

// Moves FreezR into its own leaf of the delegated directory; false (and nothing kept) when it
// cannot. No controller is enabled there: with one in its cgroup.subtree_control, the kernel
// would refuse the next FreezR that systemd starts in the unit's cgroup (EBUSY) while what this
// one froze is still there.
bool Cgroups::delegated_setup() {
  const std::string self = delegated_ + "/" + kSelfLeaf;
  if ((::mkdir(self.c_str(), 0755) != 0 && errno != EEXIST) || !move(self, ::getpid()).ok()) {
    ::rmdir(self.c_str());
    return false;
  }
  return true;
}

void Cgroups::setup() {
  set_up_ = true;
  std::error_code ec;
  if (!delegated_.empty() && !delegated_setup()) {
    refused_ = delegated_;
    delegated_.clear();
  }
  if (!roots_.v2.empty()) {
    const std::string base = roots_.v2 + "/" + group_;
    if (std::filesystem::create_directories(base, ec) || std::filesystem::is_directory(base, ec)) {
      freeze_ =
          std::filesystem::exists((delegated_.empty() ? base : delegated_) + "/cgroup.freeze", ec);
      const bool cpu = read(roots_.v2, "cgroup.controllers").find("cpu") != std::string::npos;
      throttle_v2_ = cpu && write(roots_.v2, "cgroup.subtree_control", "+cpu").ok() &&
                     write(base, "cgroup.subtree_control", "+cpu").ok();
    }
  }
  if (!throttle_v2_ && !roots_.v1_cpu.empty()) {
    const std::string base = roots_.v1_cpu + "/" + group_;
    std::filesystem::create_directories(base, ec);
    throttle_v1_ = std::filesystem::exists(base + "/cpu.cfs_quota_us", ec);
  }
}

std::string Cgroups::describe() const {
  std::string out = "cgroups: ";
  if (!set_up_) return out + "not set up (dry-run: nothing is created or moved)";
  out += roots_.v2.empty() ? "no v2 hierarchy" : "v2 at " + roots_.v2;
  if (!roots_.v1_cpu.empty()) out += ", v1 cpu at " + roots_.v1_cpu;
  if (!delegated_.empty()) {
    out += "; freezes in the delegated " + delegated_ + " (FreezR in " + kSelfLeaf + "/)";
  } else if (!refused_.empty()) {
    out += "; could not move into the delegated " + refused_ + ", freezes at the root";
  }
  out += "; freeze: ";
  out += freeze_ ? "cgroup.freeze" : "SIGSTOP/SIGCONT (no cgroup.freeze)";
  out += "; throttle: ";
  out += throttle_v2_   ? "cpu.max (v2)"
         : throttle_v1_ ? "cpu.cfs_quota_us (v1)"
                        : "not possible, falls back to renice 19";
  return out;
}

Result<std::string> Cgroups::make(bool v2, const std::string& leaf) {
  const bool freeze = v2 && !delegated_.empty() && ours(leaf, "frz");
  const std::string dir = (freeze ? delegated_ : base(v2)) + "/" + leaf;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Error{errno, "mkdir " + dir + ": " + std::strerror(errno)};
  }
  return dir;
}

std::string Cgroups::origin(std::string_view proc_pid_cgroup, bool v2) const {
  auto path = proc::parse_cgroup_path(proc_pid_cgroup, v2 ? "" : "cpu");
  if (!path) return {};
  const std::string& root = v2 ? roots_.v2 : roots_.v1_cpu;
  return *path == "/" ? root : root + *path;
}

}  // namespace freezr::act
