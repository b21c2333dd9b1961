#include "scan/scanner.h"

#include <algorithm>
#include <cstdlib>
#include <unordered_map>

namespace freezr::scan {

engine::OomFacts read_oom_facts(proc::ProcSource& source, Pid pid, engine::MemoryMetric metric) {
  engine::OomFacts f;
  std::string buf;
  if (source.read_pid_file(pid, "oom_score", buf)) f.oom_score = std::atoi(buf.c_str());
  if (source.read_pid_file(pid, "oom_score_adj", buf)) f.oom_score_adj = std::atoi(buf.c_str());
  if (metric != engine::MemoryMetric::kRss) f.memory = read_memory_detail(source, pid, buf);
  return f;
}

Scanner::Scanner(proc::ProcSource& source, const std::vector<engine::Rule>* rules,
                 const std::vector<engine::Category>* categories)
    : source_(source),
      info_(source),
      sampler_(source.clock_ticks(), source.page_size()),
      classifier_(rules, categories) {}

ScanResult Scanner::scan(Seconds now, bool recheck_cmdlines) {
  proc::read_all(source_, raw_, pids_, buf_);
  ScanResult out;
  out.unreadable = raw_.unreadable;
  out.read = raw_.processes.size();
  out.snap = sampler_.update(raw_, now);
  if (recheck_cmdlines) {
    for (const auto& p : out.snap.processes) {
      if (!p.kernel_thread && info_.cmdline_changed(p.id)) forget(p.id);
    }
  }
  finish(out);
  return out;
}

ScanResult Scanner::scan_some(Seconds now, const std::vector<Pid>& pids, std::vector<Pid> gone) {
  if (scans_ == 0) return scan(now);
  proc::read_stats(source_, pids, raw_, buf_, &gone);
  proc::read_system(source_, raw_);
  ScanResult out;
  out.full = false;
  out.unreadable = raw_.unreadable;
  out.read = raw_.processes.size();
  auto fresh = sampler_.update(raw_, now, true, gone);
  std::unordered_map<Pid, std::size_t> by_pid;
  by_pid.reserve(fresh.processes.size());
  for (std::size_t i = 0; i < fresh.processes.size(); ++i)
    by_pid.emplace(fresh.processes[i].id.pid, i);
  std::sort(gone.begin(), gone.end());
  std::vector<bool> used(fresh.processes.size());
  std::vector<engine::ProcessSample> merged;
  merged.reserve(last_.size() + fresh.processes.size());
  for (auto& p : last_) {
    if (std::binary_search(gone.begin(), gone.end(), p.id.pid)) continue;
    const auto it = by_pid.find(p.id.pid);
    if (it == by_pid.end()) {
      merged.push_back(std::move(p));
    } else if (!used[it->second]) {
      used[it->second] = true;
      merged.push_back(std::move(fresh.processes[it->second]));
    }
  }
  for (std::size_t i = 0; i < fresh.processes.size(); ++i) {
    if (!used[i]) merged.push_back(std::move(fresh.processes[i]));
  }
  out.snap = std::move(fresh);
  out.snap.processes = std::move(merged);
  finish(out);
  return out;
}

void Scanner::finish(ScanResult& out) {
  out.cls = classifier_.classify(out.snap, info_);
  details_.fill(out.snap, out.cls, classifier_.rules(), source_, out.full);
  last_ = out.snap.processes;
  // Forget static facts of exited processes now and then; they are cheap to keep a while.
  if (++scans_ % 16 == 0 || info_.size() > 2 * out.snap.processes.size() + 64) {
    alive_.clear();
    for (const auto& p : out.snap.processes) alive_.push_back(p.id);
    info_.retain(alive_);
  }
}

}  // namespace freezr::scan
