// Static facts about a process (command line, executable, user), read once per process and
// cached by identity. They only change on exec, after which the caller calls forget().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/types.h"
#include "proc/placement.h"
#include "proc/proc_source.h"

namespace freezr::proc {

// Command lines are kept to this many bytes: enough for any rule, and it bounds the cost of
// matching a regular expression against a hostile, megabyte-long argv.
inline constexpr std::size_t kMaxCmdline = 4096;

class InfoSource {
 public:
  virtual ~InfoSource() = default;
  // Space-joined argv, at most kMaxCmdline bytes; empty for kernel threads and vanished
  // processes.
  virtual const std::string& cmdline(const ProcessId& id) = 0;
  // Absolute executable path; empty when unknown or not readable.
  virtual const std::string& exe(const ProcessId& id) = 0;
  // Real uid; nullopt when unknown.
  virtual std::optional<std::uint32_t> uid(const ProcessId& id) = 0;
  // Where it lives (unit, slice, container); never null, empty when unknown.
  virtual std::shared_ptr<const Placement> placement(const ProcessId& id) = 0;
  // Drops what is cached for id (after an exec).
  virtual void forget(const ProcessId& id) = 0;
};

// Reads lazily through a ProcSource. Not thread-safe.
class ProcInfoCache final : public InfoSource {
 public:
  explicit ProcInfoCache(ProcSource& source) : source_(source) {}

  const std::string& cmdline(const ProcessId& id) override;
  const std::string& exe(const ProcessId& id) override;
  std::optional<std::uint32_t> uid(const ProcessId& id) override;
  std::shared_ptr<const Placement> placement(const ProcessId& id) override;
  void forget(const ProcessId& id) override { entries_.erase(id); }

  // Whether the command line read earlier for id is no longer the process's one (it exec'd
  // under the same name): reads it again. False when none was read.
  bool cmdline_changed(const ProcessId& id);

  // Drops every entry whose process is not in `alive`.
  void retain(const std::vector<ProcessId>& alive);
  [[nodiscard]] std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::optional<std::string> cmdline;
    std::optional<std::string> exe;
    std::optional<std::optional<std::uint32_t>> uid;
    std::shared_ptr<const Placement> placement;
  };
  ProcSource& source_;
  std::unordered_map<ProcessId, Entry, ProcessIdHash> entries_;
  // One placement per distinct /proc/PID/cgroup text: the processes of a unit share it.
  std::unordered_map<std::string, std::shared_ptr<const Placement>> placements_;
  std::string buf_;
};

}  // namespace freezr::proc
