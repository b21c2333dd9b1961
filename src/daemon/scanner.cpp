#include "daemon/scanner.h"

namespace freezr::daemon {

Scanner::Scanner(proc::ProcSource& source, const std::vector<engine::Rule>* rules,
                 const std::vector<engine::Category>* categories)
    : source_(source),
      info_(source),
      sampler_(source.clock_ticks(), source.page_size()),
      classifier_(rules, categories) {}

ScanResult Scanner::scan(Seconds now) {
  proc::read_all(source_, raw_, pids_, buf_);
  ScanResult out;
  out.unreadable = raw_.unreadable;
  out.snap = sampler_.update(raw_, now);
  out.cls = classifier_.classify(out.snap, info_);
  // Forget static facts of exited processes now and then; they are cheap to keep a while.
  if (++scans_ % 16 == 0 || info_.size() > 2 * out.snap.processes.size() + 64) {
    alive_.clear();
    for (const auto& p : out.snap.processes) alive_.push_back(p.id);
    info_.retain(alive_);
  }
  return out;
}

}  // namespace freezr::daemon
