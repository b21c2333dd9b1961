// Hand-built snapshots and a fake InfoSource for engine tests.
#pragma once

#include <map>

#include "engine/snapshot.h"
#include "proc/info_cache.h"

namespace freezr::testing {

inline engine::ProcessSample proc(Pid pid, const std::string& comm, double cpu, double rss_mb,
                                  Pid ppid = 1, std::uint64_t start = 100) {
  engine::ProcessSample p;
  p.id = ProcessId{pid, start};
  p.ppid = ppid;
  p.pgrp = pid;
  p.comm = comm;
  p.state = 'R';
  p.cpu_percent = cpu;
  p.cpu_valid = true;
  p.rss_bytes = static_cast<std::uint64_t>(rss_mb * kMiB);
  return p;
}

inline engine::Snapshot snap(Seconds t, std::vector<engine::ProcessSample> ps) {
  engine::Snapshot s;
  s.time = t;
  s.interval = 1;
  s.processes = std::move(ps);
  return s;
}

class FakeInfo final : public proc::InfoSource {
 public:
  struct Facts {
    std::string cmdline, exe;
    std::optional<std::uint32_t> uid;
    proc::Placement placement;
  };
  std::map<Pid, Facts> facts;
  int reads = 0;
  int forgets = 0;

  const std::string& cmdline(const ProcessId& id) override { return get(id).cmdline; }
  const std::string& exe(const ProcessId& id) override { return get(id).exe; }
  std::optional<std::uint32_t> uid(const ProcessId& id) override { return get(id).uid; }
  std::shared_ptr<const proc::Placement> placement(const ProcessId& id) override {
    return std::make_shared<const proc::Placement>(get(id).placement);
  }
  void forget(const ProcessId&) override { ++forgets; }

 private:
  Facts& get(const ProcessId& id) {
    ++reads;
    return facts[id.pid];
  }
};

}  // namespace freezr::testing
