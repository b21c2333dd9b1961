#include "engine/sampler.h"

#include <algorithm>

namespace freezr::engine {

namespace {
std::uint64_t ticks_of(std::int64_t a, std::int64_t b) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, a) + std::max<std::int64_t>(0, b));
}
}  // namespace

ProcessSample sample_of(const proc::StatFields& st, long page_size) {
  ProcessSample s;
  s.id = ProcessId{st.pid, st.start_time};
  s.ppid = st.ppid;
  s.pgrp = st.pgrp;
  s.comm = st.comm;
  s.state = st.state;
  s.kernel_thread = st.kernel_thread() || st.pid == 2 || st.ppid == 2;
  s.nice = static_cast<int>(st.nice);
  s.rss_bytes = st.rss_pages > 0 ? static_cast<std::uint64_t>(st.rss_pages) *
                                       static_cast<std::uint64_t>(page_size)
                                 : 0;
  return s;
}

void Sampler::collect_exited(bool partial, const std::vector<Pid>& gone) {
  exited_ticks_.clear();
  for (auto& [id, last] : prev_) {
    if (next_.contains(id)) continue;
    if (partial && std::find(gone.begin(), gone.end(), id.pid) == gone.end()) {
      next_.emplace(id, last);  // not read this time: keep its last sample
      continue;
    }
    exited_ticks_[last.ppid] += last.ticks + last.child_ticks;
  }
}

Snapshot Sampler::update(const proc::RawScan& raw, Seconds now, bool partial,
                         const std::vector<Pid>& gone) {
  Snapshot snap;
  snap.time = now;
  snap.interval = last_time_ ? std::max(0.0, now - *last_time_) : 0.0;
  snap.meminfo = raw.meminfo;
  snap.loadavg = raw.loadavg;
  snap.memory_pressure = raw.memory_pressure;
  snap.cpu_pressure = raw.cpu_pressure;
  snap.io_pressure = raw.io_pressure;
  snap.processes.reserve(raw.processes.size());
  next_.clear();
  next_.reserve(raw.processes.size());
  for (const auto& st : raw.processes) {
    ProcessSample s = sample_of(st, page_);
    next_.emplace(s.id, Last{st.utime + st.stime, ticks_of(st.cutime, st.cstime), st.ppid, now});
    snap.processes.push_back(std::move(s));
  }
  collect_exited(partial, gone);
  for (auto& s : snap.processes) {
    const auto prev = prev_.find(s.id);
    if (prev == prev_.end() || now <= prev->second.time) continue;
    const Last& cur = next_.at(s.id);
    const double elapsed = now - prev->second.time;
    const auto delta = cur.ticks >= prev->second.ticks ? cur.ticks - prev->second.ticks : 0;
    s.cpu_percent = 100.0 * static_cast<double>(delta) / ticks_ / elapsed;
    s.cpu_valid = true;
    if (cur.child_ticks > prev->second.child_ticks) {
      std::uint64_t reaped = cur.child_ticks - prev->second.child_ticks;
      const auto seen = exited_ticks_.find(s.id.pid);
      if (seen != exited_ticks_.end()) reaped -= std::min(reaped, seen->second);
      s.child_cpu_percent = 100.0 * static_cast<double>(reaped) / ticks_ / elapsed;
    }
  }
  prev_.swap(next_);
  last_time_ = now;
  return snap;
}

}  // namespace freezr::engine
