#include "proc/info_cache.h"

#include <unordered_set>

namespace freezr::proc {

const std::string& ProcInfoCache::cmdline(const ProcessId& id) {
  auto& e = entries_[id];
  if (!e.cmdline) {
    auto r = source_.read_pid_file(id.pid, "cmdline", buf_);
    if (r && buf_.size() > kMaxCmdline) buf_.resize(kMaxCmdline);
    e.cmdline = r ? join_cmdline(buf_) : std::string();
  }
  return *e.cmdline;
}

const std::string& ProcInfoCache::exe(const ProcessId& id) {
  auto& e = entries_[id];
  if (!e.exe) {
    auto r = source_.read_exe(id.pid);
    e.exe = r ? std::move(r).value() : std::string();
  }
  return *e.exe;
}

std::optional<std::uint32_t> ProcInfoCache::uid(const ProcessId& id) {
  auto& e = entries_[id];
  if (!e.uid) {
    std::optional<std::uint32_t> v;
    if (source_.read_pid_file(id.pid, "status", buf_)) {
      if (auto u = parse_status_uid(buf_)) v = *u;
    }
    e.uid = v;
  }
  return *e.uid;
}

std::shared_ptr<const Placement> ProcInfoCache::placement(const ProcessId& id) {
  auto& e = entries_[id];
  if (!e.placement) {
    const auto r = source_.read_pid_file(id.pid, "cgroup", buf_);
    if (!r || !*r) buf_.clear();
    auto& shared = placements_[buf_];
    if (!shared) shared = std::make_shared<const Placement>(parse_placement(buf_));
    e.placement = shared;
  }
  return e.placement;
}

bool ProcInfoCache::cmdline_changed(const ProcessId& id) {
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.cmdline) return false;
  if (!source_.read_pid_file(id.pid, "cmdline", buf_)) return false;  // gone: not a change
  if (buf_.size() > kMaxCmdline) buf_.resize(kMaxCmdline);
  return join_cmdline(buf_) != *it->second.cmdline;
}

void ProcInfoCache::retain(const std::vector<ProcessId>& alive) {
  if (entries_.empty()) return;
  std::unordered_set<ProcessId, ProcessIdHash> keep(alive.begin(), alive.end());
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = keep.count(it->first) != 0U ? std::next(it) : entries_.erase(it);
  }
  // Placements no process holds any more (the cache's own reference is the last).
  std::erase_if(placements_, [](const auto& kv) { return kv.second.use_count() == 1; });
}

}  // namespace freezr::proc
