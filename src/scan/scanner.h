// Scanner: one pass over /proc turned into a classified snapshot. Shared by the daemon, the
// `check`, `ps` and `oom-order` commands and the benchmarks; it depends on proc and engine only.
#pragma once

#include <unordered_map>
#include <vector>

#include "engine/classifier.h"
#include "engine/sampler.h"
#include "engine/victims.h"
#include "proc/info_cache.h"
#include "proc/proc_source.h"
#include "scan/details.h"

namespace freezr::scan {

struct ScanResult {
  engine::Snapshot snap;
  engine::Classification cls;
  std::size_t unreadable = 0;
  // False for a light scan: only some processes were read; the others carry their last
  // sample (their CPU% is from the last time they were read).
  bool full = true;
  std::size_t read = 0;  // processes whose stat was read
};

// oom_score and oom_score_adj of a process, read through source, and its smaps_rollup when
// metric needs it.
engine::OomFacts read_oom_facts(proc::ProcSource& source, Pid pid,
                                engine::MemoryMetric metric = engine::MemoryMetric::kRss);

class Scanner {
 public:
  // source, rules and categories must outlive the scanner.
  Scanner(proc::ProcSource& source, const std::vector<engine::Rule>* rules,
          const std::vector<engine::Category>* categories = nullptr);

  // The scanner keeps one process table: each scan updates it and returns it; the reference
  // holds until the next scan.
  //
  // Reads every process and classifies it; `now` is the monotonic time of the scan. With
  // recheck_cmdlines, the command lines read before are read again and the processes whose
  // command line changed (an exec under the same name, seen without process events) are
  // matched afresh.
  const ScanResult& scan(Seconds now, bool recheck_cmdlines = false);
  // A light scan: reads the system files and only `pids`, and updates the table in place: the
  // other processes keep their last sample and verdicts, except those in `gone` (exited),
  // which are dropped. Its cost follows the processes read, not the table's size. Needs a
  // full scan before it, and after the rules changed (else it is one).
  const ScanResult& scan_some(Seconds now, const std::vector<Pid>& pids, std::vector<Pid> gone);
  // The table's processes with these PIDs exec'd or were renamed: at the next scan they are
  // read and matched afresh (command line, executable, verdicts).
  void renew(const std::vector<Pid>& pids);
  void reset_rules(const std::vector<engine::Rule>* rules,
                   const std::vector<engine::Category>* categories = nullptr) {
    classifier_.reset(rules, categories);
    rules_changed_ = true;
  }
  [[nodiscard]] const std::vector<engine::Category>* categories() const {
    return classifier_.categories();
  }
  proc::InfoSource& info() { return info_; }
  // The last scan's table.
  [[nodiscard]] const ScanResult& table() const { return table_; }
  // Whether the rules changed since the table was classified (the next scan is full).
  [[nodiscard]] bool rules_changed() const { return rules_changed_; }
  // The processes of the last scan, with their last samples.
  [[nodiscard]] const std::vector<engine::ProcessSample>& processes() const {
    return table_.snap.processes;
  }
  // With on, every process's disk I/O is read, not only that of rules using it (`freezr ps`).
  void read_io_everywhere(bool on) { details_.read_io_everywhere(on); }
  // Where cgroup v2 is mounted, for the rules whose pressure gates read a process's cgroup.
  void set_cgroup_root(std::string root) { details_.set_cgroup_root(std::move(root)); }
  // Forgets what is known of a process (its command line, executable, classification): after
  // an exec it is read and matched afresh.
  void forget(const ProcessId& id) {
    info_.forget(id);
    classifier_.forget(id);
  }

 private:
  proc::ProcSource& source_;
  proc::ProcInfoCache info_;
  engine::Sampler sampler_;
  engine::Classifier classifier_;
  Details details_;
  proc::RawScan raw_;
  std::vector<Pid> pids_;
  std::string buf_;
  std::vector<ProcessId> alive_;
  ScanResult table_;                         // the last scan's processes and verdicts
  std::unordered_map<Pid, std::size_t> at_;  // index in the table by PID
  // Rule hits of the table's processes, one row of (number of rules) per process.
  std::vector<char> hits_;
  std::size_t width_ = 0;  // the number of rules when hits_ was filled
  std::vector<std::size_t> changed_;
  unsigned scans_ = 0;
  bool rules_changed_ = false;

  // Matches table process i afresh (from the classifier's cache) and notes where it lives.
  void judge(std::size_t i);
  // Drops table process i; the last one takes its place.
  void drop(std::size_t i);
  // Rules' members and places from the verdicts, then the rules' details (I/O, smaps).
  void finish();
};

}  // namespace freezr::scan
