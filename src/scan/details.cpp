#include "scan/details.h"

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
}  // namespace

void Details::fill(engine::Snapshot& snap, const engine::Classification& cls,
                   const std::vector<engine::Rule>& rules, proc::ProcSource& source) {
  wanted_.assign(snap.processes.size(), 0);
  bool any = io_everywhere_;
  if (io_everywhere_) {
    for (std::size_t i = 0; i < snap.processes.size(); ++i) {
      if (!snap.processes[i].kernel_thread) wanted_[i] = kIo;
    }
  }
  for (std::size_t ri = 0; ri < rules.size() && ri < cls.members.size(); ++ri) {
    const auto& r = rules[ri];
    const unsigned char want = (r.uses_io() ? kIo : 0) | (r.uses_smaps() ? kSmaps : 0);
    if (want == 0 || !r.enabled) continue;
    for (auto idx : cls.members[ri]) wanted_[idx] |= want;
    any = true;
  }
  if (!any && io_.empty()) return;
  ++round_;
  for (std::size_t i = 0; i < snap.processes.size(); ++i) {
    if (wanted_[i] == 0) continue;
    auto& p = snap.processes[i];
    if ((wanted_[i] & kSmaps) != 0) p.memory = read_memory_detail(source, p.id.pid, buf_);
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
  // Processes no longer read (exited, or out of the rules) are forgotten.
  std::erase_if(io_, [&](const auto& kv) { return kv.second.seen != round_; });
}

}  // namespace freezr::scan
