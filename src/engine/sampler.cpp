#include "engine/sampler.h"

#include <algorithm>

namespace freezr::engine {

Snapshot Sampler::update(const proc::RawScan& raw, Seconds now) {
  Snapshot snap;
  snap.time = now;
  snap.interval = last_time_ ? std::max(0.0, now - *last_time_) : 0.0;
  snap.meminfo = raw.meminfo;
  snap.loadavg = raw.loadavg;
  snap.memory_pressure = raw.memory_pressure;
  snap.cpu_pressure = raw.cpu_pressure;
  snap.io_pressure = raw.io_pressure;
  snap.processes.reserve(raw.processes.size());
  next_ticks_.clear();
  next_ticks_.reserve(raw.processes.size());
  for (const auto& st : raw.processes) {
    ProcessSample s;
    s.id = ProcessId{st.pid, st.start_time};
    s.ppid = st.ppid;
    s.pgrp = st.pgrp;
    s.comm = st.comm;
    s.state = st.state;
    s.kernel_thread = st.kernel_thread() || st.pid == 2 || st.ppid == 2;
    s.nice = static_cast<int>(st.nice);
    s.rss_bytes = st.rss_pages > 0 ? static_cast<std::uint64_t>(st.rss_pages) *
                                         static_cast<std::uint64_t>(page_)
                                   : 0;
    const std::uint64_t ticks = st.utime + st.stime;
    next_ticks_.emplace(s.id, ticks);
    auto prev = prev_ticks_.find(s.id);
    if (prev != prev_ticks_.end() && snap.interval > 0) {
      const auto delta = ticks >= prev->second ? ticks - prev->second : 0;
      s.cpu_percent = 100.0 * static_cast<double>(delta) / ticks_ / snap.interval;
      s.cpu_valid = true;
    }
    snap.processes.push_back(std::move(s));
  }
  prev_ticks_.swap(next_ticks_);
  last_time_ = now;
  return snap;
}

}  // namespace freezr::engine
