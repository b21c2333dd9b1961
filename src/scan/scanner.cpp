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

const ScanResult& Scanner::scan(Seconds now, bool recheck_cmdlines) {
  proc::read_all(source_, raw_, pids_, buf_);
  table_.full = true;
  table_.unreadable = raw_.unreadable;
  table_.read = raw_.processes.size();
  table_.snap = sampler_.update(raw_, now);
  auto& procs = table_.snap.processes;
  if (recheck_cmdlines) {
    for (const auto& p : procs) {
      if (!p.kernel_thread && info_.cmdline_changed(p.id)) forget(p.id);
    }
  }
  rules_changed_ = false;
  width_ = classifier_.rules().size();
  at_.clear();
  at_.reserve(procs.size());
  hits_.assign(procs.size() * width_, 0);
  table_.cls.first_rule.assign(procs.size(), -1);
  table_.cls.category.assign(procs.size(), -1);
  for (std::size_t i = 0; i < procs.size(); ++i) {
    at_.emplace(procs[i].id.pid, i);
    judge(i);
  }
  classifier_.sweep(procs.size());
  // Forget static facts of exited processes now and then; they are cheap to keep a while.
  if (++scans_ % 4 == 0 || info_.size() > 2 * procs.size() + 64) {
    alive_.clear();
    for (const auto& p : procs) alive_.push_back(p.id);
    info_.retain(alive_);
  }
  finish();
  return table_;
}

void Scanner::renew(const std::vector<Pid>& pids) {
  for (const Pid pid : pids) {
    if (const auto it = at_.find(pid); it != at_.end())
      forget(table_.snap.processes[it->second].id);
  }
}

const ScanResult& Scanner::scan_some(Seconds now, const std::vector<Pid>& pids,
                                     std::vector<Pid> gone) {
  if (scans_ == 0 || rules_changed_) return scan(now);
  auto& procs = table_.snap.processes;
  proc::read_stats(source_, pids, raw_, buf_, &gone);
  proc::read_system(source_, raw_);
  auto fresh = sampler_.update(raw_, now, true, gone);
  for (const Pid pid : gone) {
    const auto it = at_.find(pid);
    if (it == at_.end()) continue;
    forget(procs[it->second].id);  // what was cached of it goes with it
    drop(it->second);
  }
  changed_.clear();
  for (auto& p : fresh.processes) {
    const auto [it, added] = at_.try_emplace(p.id.pid, procs.size());
    const std::size_t i = it->second;
    if (added) {
      procs.push_back(std::move(p));
      hits_.resize(hits_.size() + width_, 0);
      table_.cls.first_rule.push_back(-1);
      table_.cls.category.push_back(-1);
    } else {
      auto& slot = procs[i];
      auto place = slot.id == p.id ? std::move(slot.place) : nullptr;  // else the PID was reused
      slot = std::move(p);
      slot.place = std::move(place);
    }
    changed_.push_back(i);
  }
  fresh.processes = std::move(procs);
  table_.snap = std::move(fresh);
  table_.full = false;
  table_.unreadable = raw_.unreadable;
  table_.read = raw_.processes.size();
  for (const auto i : changed_) judge(i);
  ++scans_;
  finish();
  return table_;
}

void Scanner::judge(std::size_t i) {
  auto& p = table_.snap.processes[i];
  auto& cls = table_.cls;
  char* row = hits_.data() + i * width_;
  std::fill(row, row + width_, 0);
  cls.first_rule[i] = -1;
  cls.category[i] = -1;
  if (p.kernel_thread || !p.alive()) return;
  const auto& v = classifier_.lookup(p, info_);
  cls.category[i] = v.category;
  for (std::size_t r = 0; r < width_; ++r) {
    if (!v.hits[r]) continue;
    row[r] = 1;
    if (cls.first_rule[i] < 0) cls.first_rule[i] = static_cast<int>(r);
  }
  if (!p.place) p.place = info_.placement(p.id);
}

void Scanner::drop(std::size_t i) {
  auto& procs = table_.snap.processes;
  auto& cls = table_.cls;
  const std::size_t last = procs.size() - 1;
  at_.erase(procs[i].id.pid);
  if (i != last) {
    procs[i] = std::move(procs[last]);
    at_[procs[i].id.pid] = i;
    std::copy_n(hits_.begin() + static_cast<std::ptrdiff_t>(last * width_), width_,
                hits_.begin() + static_cast<std::ptrdiff_t>(i * width_));
    cls.first_rule[i] = cls.first_rule[last];
    cls.category[i] = cls.category[last];
  }
  procs.pop_back();
  hits_.resize(last * width_);
  cls.first_rule.pop_back();
  cls.category.pop_back();
}

void Scanner::finish() {
  auto& cls = table_.cls;
  const auto& rules = classifier_.rules();
  cls.members.resize(width_);
  for (auto& m : cls.members) m.clear();
  for (std::size_t i = 0; i < table_.snap.processes.size(); ++i) {
    if (cls.first_rule[i] < 0) continue;
    const char* row = hits_.data() + i * width_;
    for (std::size_t r = 0; r < width_; ++r) {
      if (row[r] != 0) cls.members[r].push_back(i);
    }
  }
  engine::add_places(cls, rules, table_.snap, info_);
  details_.fill(table_.snap, cls, rules, source_, table_.full);
}

}  // namespace freezr::scan
