#include "daemon/discovery.h"

#include <algorithm>

namespace freezr::daemon {

Discovery::Discovery(boost::asio::io_context& io, scan::Scanner& scanner, ExecWatch& guard)
    : scanner_(scanner),
      guard_(guard),
      events_(io, [this](const std::vector<proc::ProcEvent>& e) { on_events(e); }) {}

void Discovery::on_events(const std::vector<proc::ProcEvent>& events) {
  for (const auto& e : events) {
    if (!e.process_level()) continue;  // threads come and go inside their process
    switch (e.kind) {
      case proc::ProcEvent::Kind::kFork:
      case proc::ProcEvent::Kind::kExec:
      case proc::ProcEvent::Kind::kComm:
        fresh_.push_back(e.tgid);
        break;
      case proc::ProcEvent::Kind::kExit:
        gone_.push_back(e.tgid);
        break;
    }
    guard_.on_event(e);
  }
}

scan::ScanResult Discovery::scan(Seconds now, int sweep_every, int recheck_every) {
  const bool lost = events_.overruns() != overruns_seen_;
  overruns_seen_ = events_.overruns();
  const bool light = events_.active() && !lost && !full_next_ && ++since_full_ < sweep_every;
  std::vector<Pid> gone;
  gone.swap(gone_);
  scan::ScanResult result;
  if (light) {
    std::vector<Pid> watch;
    watch.swap(fresh_);
    for (const auto& members : last_members_)
      watch.insert(watch.end(), members.begin(), members.end());
    std::sort(watch.begin(), watch.end());
    watch.erase(std::unique(watch.begin(), watch.end()), watch.end());
    result = scanner_.scan_some(now, watch, std::move(gone));
  } else {
    since_full_ = 0;
    full_next_ = false;
    fresh_.clear();
    // Without events an exec under the same name shows only in the command line: re-read the
    // command lines every recheck_every-th scan (with events, the exec event says it).
    const bool recheck = !events_.active() && ++since_recheck_ >= recheck_every;
    if (recheck) since_recheck_ = 0;
    result = scanner_.scan(now, recheck);
  }
  last_members_.assign(result.cls.members.size(), {});
  for (std::size_t i = 0; i < result.cls.members.size(); ++i) {
    for (auto idx : result.cls.members[i]) {
      last_members_[i].push_back(result.snap.processes[idx].id.pid);
    }
  }
  return result;
}

}  // namespace freezr::daemon
