// Scanner: one pass over /proc turned into a classified snapshot. Shared by the daemon, the
// `check`, `ps` and `oom-order` commands and the benchmarks; it depends on proc and engine only.
#pragma once

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

  // Reads every process and classifies it; `now` is the monotonic time of the scan. With
  // recheck_cmdlines, the command lines read before are read again and the processes whose
  // command line changed (an exec under the same name, seen without process events) are
  // matched afresh.
  ScanResult scan(Seconds now, bool recheck_cmdlines = false);
  // A light scan: reads the system files and only `pids`; the other processes of the last
  // scan keep their last sample, except those in `gone` (exited), which are dropped. Needs a
  // full scan before it (else it is one).
  ScanResult scan_some(Seconds now, const std::vector<Pid>& pids, std::vector<Pid> gone);
  void reset_rules(const std::vector<engine::Rule>* rules,
                   const std::vector<engine::Category>* categories = nullptr) {
    classifier_.reset(rules, categories);
  }
  [[nodiscard]] const std::vector<engine::Category>* categories() const {
    return classifier_.categories();
  }
  proc::InfoSource& info() { return info_; }
  // The processes of the last scan, with their last samples.
  [[nodiscard]] const std::vector<engine::ProcessSample>& processes() const { return last_; }
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
  std::vector<engine::ProcessSample> last_;  // the processes of the last scan
  unsigned scans_ = 0;

  void finish(ScanResult& out);
};

}  // namespace freezr::scan
