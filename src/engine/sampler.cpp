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
  current_.clear();
  for (const auto& st : raw.processes) {
    snap.processes.push_back(sample_of(st, page_));
    current_.push_back(
        Last{st.start_time, st.utime + st.stime, ticks_of(st.cutime, st.cstime), st.ppid, now});
  }
  // Who exited since the last sample: with a full scan, everyone not in it (or whose PID now
  // belongs to another process); with a partial one, those said to be gone.
  exited_ticks_.clear();
  if (partial) {
    for (const Pid pid : gone) {
      const auto it = prev_.find(pid);
      if (it == prev_.end()) continue;
      note_exit(it->second);
      prev_.erase(it);
    }
  } else {
    next_.clear();
    next_.reserve(raw.processes.size());
    for (std::size_t i = 0; i < raw.processes.size(); ++i) {
      next_.emplace(raw.processes[i].pid, current_[i]);
    }
    for (const auto& [pid, last] : prev_) {
      const auto it = next_.find(pid);
      if (it == next_.end() || it->second.start_time != last.start_time) note_exit(last);
    }
  }
  for (std::size_t i = 0; i < snap.processes.size(); ++i) {
    auto& s = snap.processes[i];
    const Last& cur = current_[i];
    const auto prev = prev_.find(s.id.pid);
    if (prev == prev_.end() || prev->second.start_time != cur.start_time ||
        now <= prev->second.time) {
      continue;
    }
    const Last& before = prev->second;
    const double elapsed = now - before.time;
    const auto delta = cur.ticks >= before.ticks ? cur.ticks - before.ticks : 0;
    s.cpu_percent = 100.0 * static_cast<double>(delta) / ticks_ / elapsed;
    s.cpu_valid = true;
    if (cur.child_ticks > before.child_ticks) {
      std::uint64_t reaped = cur.child_ticks - before.child_ticks;
      const auto seen = exited_ticks_.find(s.id.pid);
      if (seen != exited_ticks_.end()) reaped -= std::min(reaped, seen->second);
      s.child_cpu_percent = 100.0 * static_cast<double>(reaped) / ticks_ / elapsed;
    }
  }
  if (partial) {
    for (std::size_t i = 0; i < raw.processes.size(); ++i) {
      prev_[raw.processes[i].pid] = current_[i];
    }
  } else {
    prev_.swap(next_);
  }
  last_time_ = now;
  return snap;
}

}  // namespace freezr::engine
