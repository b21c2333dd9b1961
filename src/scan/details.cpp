#include "scan/details.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace freezr::scan {

std::optional<engine::MemoryDetail> read_memory_detail(proc::ProcSource& source, Pid pid,
                                                       std::string& buf) {
  auto ok = source.read_pid_file(pid, "smaps_rollup", buf);
  if (!ok || !*ok) return std::nullopt;
  auto m = proc::parse_smaps_rollup(buf);
  if (!m) return std::nullopt;
  return engine::MemoryDetail{m->pss, m->private_bytes, m->swap};
}

namespace {
constexpr unsigned char kIo = 1;
constexpr unsigned char kSmaps = 2;
constexpr unsigned char kCgroupPressure = 4;

std::optional<double> some_avg10(const std::string& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto p = proc::parse_pressure(text);
  return p ? std::optional<double>(p->some.avg10) : std::nullopt;
}
}  // namespace

std::array<std::optional<double>, 3> Details::cgroup_pressure(const std::string& path) {
  auto [it, fresh] = pressure_of_.try_emplace(path);
  if (fresh) {
    const std::string dir = cgroup_root_ + (path == "/" ? "" : path) + "/";
    it->second = {some_avg10(dir + "cpu.pressure"), some_avg10(dir + "io.pressure"),
                  some_avg10(dir + "memory.pressure")};
  }
  return it->second;
}

void Details::fill(engine::Snapshot& snap, const engine::Classification& cls,
                   const std::vector<engine::Rule>& rules, proc::ProcSource& source, bool full) {
  wanted_.assign(snap.processes.size(), 0);
  bool any = io_everywhere_;
  if (io_everywhere_) {
    for (std::size_t i = 0; i < snap.processes.size(); ++i) {
      if (!snap.processes[i].kernel_thread) wanted_[i] = kIo;
    }
  } else if (full) {  // the busiest, for the top tables
    top_.clear();
    for (std::size_t i = 0; i < snap.processes.size(); ++i) {
      if (!snap.processes[i].kernel_thread) top_.push_back(i);
    }
    const auto n = std::min(kTopIo, top_.size());
    std::partial_sort(top_.begin(), top_.begin() + static_cast<std::ptrdiff_t>(n), top_.end(),
                      [&](std::size_t a, std::size_t b) {
                        return snap.processes[a].total_cpu() > snap.processes[b].total_cpu();
                      });
    for (std::size_t k = 0; k < n; ++k) wanted_[top_[k]] = kIo;
    any = any || n > 0;
  }
  for (std::size_t ri = 0; ri < rules.size() && ri < cls.members.size(); ++ri) {
    const auto& r = rules[ri];
    const unsigned char want = (r.uses_io() ? kIo : 0) | (r.uses_smaps() ? kSmaps : 0) |
                               (r.uses_cgroup_pressure() ? kCgroupPressure : 0);
    if (want == 0 || !r.enabled) continue;
    for (auto idx : cls.members[ri]) wanted_[idx] |= want;
    any = true;
  }
  if (!any && io_.empty()) return;
  ++round_;
  pressure_of_.clear();
  for (std::size_t i = 0; i < snap.processes.size(); ++i) {
    if (wanted_[i] == 0) continue;
    auto& p = snap.processes[i];
    if ((wanted_[i] & kSmaps) != 0) p.memory = read_memory_detail(source, p.id.pid, buf_);
    if ((wanted_[i] & kCgroupPressure) != 0 && !cgroup_root_.empty()) {
      auto ok = source.read_pid_file(p.id.pid, "cgroup", buf_);
      const auto path = ok && *ok ? proc::parse_cgroup_path(buf_, "") : std::nullopt;
      if (path) p.cgroup_pressure = cgroup_pressure(*path);
    }
    if ((wanted_[i] & kIo) == 0) continue;
    auto ok = source.read_pid_file(p.id.pid, "io", buf_);
    if (!ok || !*ok) continue;
    auto c = proc::parse_io(buf_);
    if (!c) continue;
    auto [it, fresh] = io_.try_emplace(p.id, IoLast{*c, snap.time, round_});
    auto& last = it->second;
    const double dt = snap.time - last.time;
    if (!fresh && dt > 0 && c->read_bytes >= last.counters.read_bytes &&
        c->write_bytes >= last.counters.write_bytes) {
      p.io_read_bps = static_cast<double>(c->read_bytes - last.counters.read_bytes) / dt;
      p.io_write_bps = static_cast<double>(c->write_bytes - last.counters.write_bytes) / dt;
    }
    last = IoLast{*c, snap.time, round_};
  }
  // Processes no longer read (exited, out of the rules, or no longer among the busiest at a
  // full scan) are forgotten; the busiest of the last full scan are kept until the next one.
  const unsigned kept = full ? round_ : last_full_;
  std::erase_if(io_,
                [&](const auto& kv) { return kv.second.seen != round_ && kv.second.seen != kept; });
  if (full) last_full_ = round_;
}

}  // namespace freezr::scan
