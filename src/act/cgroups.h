// Cgroups: FreezR-owned groups for throttling (cpu.max on v2, cpu.cfs_quota_us on v1) and
// freezing (cgroup.freeze on v2). The hierarchy roots come from /proc/self/mountinfo, or are
// given by tests.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "fs/files.h"
#include "proc/parse.h"

namespace freezr::act {

struct CgroupRoots {
  std::string v2;      // cgroup2 mount point, empty when absent
  std::string v1_cpu;  // mount point of the v1 hierarchy with the cpu controller, or empty
};

// Finds the roots among mounts (only mounts of a hierarchy's root are usable).
CgroupRoots find_cgroup_roots(const std::vector<proc::Mount>& mounts);

class Cgroups {
 public:
  // group: the name of FreezR's own directory under each root; instance: a tag in the names
  // of the groups this FreezR makes (see instance_tag), so that one FreezR never takes
  // another's groups for its own leftovers. Touches nothing.
  explicit Cgroups(CgroupRoots roots, std::string group = "freezr", std::string instance = "");

  // FreezR runs in a cgroup systemd delegates to it (Delegate= in its unit): dir is that
  // cgroup's directory under the v2 root. setup() then moves FreezR into a leaf of its own
  // there (kSelfLeaf) and FreezR's freeze groups are made next to that leaf rather than at the
  // root; throttle groups, which need the cpu controller, stay under the root's directory.
  // Call before setup().
  void delegate_to(std::string dir);
  // A delegated directory an earlier run made its groups in (kept in the data directory): its
  // groups are FreezR's to release. Ignored unless it is a service's cgroup under the v2 root.
  void also_accept(const std::string& dir);
  static constexpr const char* kSelfLeaf = "daemon";
  // The file of the data directory that names the delegated directory, so that a later run and
  // `freezr thaw` know its groups for FreezR's.
  static constexpr const char* kDelegatedFile = "cgroup-delegated";
  void accept_recorded(const fs::Directory& data);
  [[nodiscard]] Result<void> record(const fs::Directory& data) const;

  // Creates FreezR's directories and enables the cpu controller for them, and so finds out
  // what works here. Call once, after the instance lock is held; never in dry-run (until
  // then nothing can be frozen or throttled through cgroups).
  void setup();

  // What works here (false until setup()).
  [[nodiscard]] bool can_freeze() const { return freeze_; }
  [[nodiscard]] bool can_throttle_v2() const { return throttle_v2_; }
  [[nodiscard]] bool can_throttle_v1() const { return throttle_v1_; }
  [[nodiscard]] const CgroupRoots& roots() const { return roots_; }
  // FreezR's own directory under the v2 root or the v1 cpu root ("" when that root is absent):
  // where new groups are made, freeze groups excepted once setup() moved FreezR into a
  // delegated directory.
  [[nodiscard]] std::string base(bool v2) const;
  // Every directory FreezR's groups of a hierarchy may be in: base(), the root's when
  // delegated, and the ones accepted.
  [[nodiscard]] std::vector<std::string> bases(bool v2) const;
  // The delegated directory FreezR makes its freeze groups in ("" when not delegated).
  [[nodiscard]] const std::string& delegated() const { return delegated_; }
  // One line for the start-up log.
  [[nodiscard]] std::string describe() const;

  // The name of a group of this FreezR: "<kind>-<instance>-<rest>" (kind "frz" or "thr").
  [[nodiscard]] std::string leaf(const char* kind, const std::string& rest) const;
  // Whether leaf names a group of kind made by this FreezR.
  [[nodiscard]] bool ours(const std::string& leaf, const char* kind) const;
  // Creates <root>/<group>/<leaf> (v2 or v1 cpu) and returns its path.
  Result<std::string> make(bool v2, const std::string& leaf);
  // Moves a whole process (all its threads) into dir.
  static Result<void> move(const std::string& dir, Pid pid);
  static Result<void> write(const std::string& dir, const std::string& file,
                            const std::string& value);
  static std::string read(const std::string& dir, const std::string& file);
  // Removes dir if it is empty of processes; errors are ignored.
  static void remove(const std::string& dir);
  // The PIDs listed in dir's cgroup.procs.
  static std::vector<Pid> members(const std::string& dir);
  // The directory of the cgroup pid is in (v2, or the v1 cpu hierarchy), from
  // /proc/PID/cgroup read by the caller.
  [[nodiscard]] std::string origin(std::string_view proc_pid_cgroup, bool v2) const;

 private:
  [[nodiscard]] bool delegated_setup();

  CgroupRoots roots_;
  std::string group_;
  std::string instance_;
  std::string delegated_;
  std::string refused_;  // a delegated directory FreezR could not move into
  std::vector<std::string> accepted_;
  bool set_up_ = false;
  bool freeze_ = false;
  bool throttle_v2_ = false;
  bool throttle_v1_ = false;
};

// A name safe as a directory: letters, digits, '-' and '_'; others become '_'.
std::string safe_name(const std::string& s);

// Eight hex digits that stand for a data directory (its absolute path): FreezRs with different
// data directories name their groups apart.
std::string instance_tag(const std::string& data_dir);

}  // namespace freezr::act
