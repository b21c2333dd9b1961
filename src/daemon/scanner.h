// Scanner: one pass over /proc turned into a classified snapshot. Shared by the daemon, the
// `check` and `ps` commands and the benchmarks.
#pragma once

#include <vector>

#include "engine/classifier.h"
#include "engine/sampler.h"
#include "proc/info_cache.h"
#include "proc/proc_source.h"

namespace freezr::daemon {

struct ScanResult {
  engine::Snapshot snap;
  engine::Classification cls;
  std::size_t unreadable = 0;
};

class Scanner {
 public:
  // source, rules and categories must outlive the scanner.
  Scanner(proc::ProcSource& source, const std::vector<engine::Rule>* rules,
          const std::vector<engine::Category>* categories = nullptr);

  // Reads every process and classifies it; `now` is the monotonic time of the scan.
  ScanResult scan(Seconds now);
  void reset_rules(const std::vector<engine::Rule>* rules,
                   const std::vector<engine::Category>* categories = nullptr) {
    classifier_.reset(rules, categories);
  }
  [[nodiscard]] const std::vector<engine::Category>* categories() const {
    return classifier_.categories();
  }
  proc::InfoSource& info() { return info_; }

 private:
  proc::ProcSource& source_;
  proc::ProcInfoCache info_;
  engine::Sampler sampler_;
  engine::Classifier classifier_;
  proc::RawScan raw_;
  std::vector<Pid> pids_;
  std::string buf_;
  std::vector<ProcessId> alive_;
  unsigned scans_ = 0;
};

}  // namespace freezr::daemon
