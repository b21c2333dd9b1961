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
        fresh_.insert(e.tgid);
        break;
      case proc::ProcEvent::Kind::kExec:
      case proc::ProcEvent::Kind::kComm:
        fresh_.insert(e.tgid);
        renewed_.push_back(e.tgid);
        break;
      case proc::ProcEvent::Kind::kExit:
        fresh_.erase(e.tgid);  // a later fork reusing the PID adds it again
        gone_.push_back(e.tgid);
        break;
    }
    guard_.on_event(e);
  }
}

const scan::ScanResult& Discovery::scan(Seconds now, int sweep_every, int recheck_every) {
  const bool lost = events_.overruns() != overruns_seen_;
  overruns_seen_ = events_.overruns();
  const bool light = events_.active() && !lost && !full_next_ && ++since_full_ < sweep_every;
  std::vector<Pid> gone;
  gone.swap(gone_);
  scanner_.renew(renewed_);
  renewed_.clear();
  const scan::ScanResult* result = nullptr;
  if (light) {
    std::vector<Pid> watch(fresh_.begin(), fresh_.end());
    fresh_.clear();
    for (const auto& members : last_members_)
      watch.insert(watch.end(), members.begin(), members.end());
    std::sort(watch.begin(), watch.end());
    watch.erase(std::unique(watch.begin(), watch.end()), watch.end());
    result = &scanner_.scan_some(now, watch, std::move(gone));
  } else {
    since_full_ = 0;
    full_next_ = false;
    fresh_.clear();
    // Without events an exec under the same name shows only in the command line: re-read the
    // command lines every recheck_every-th scan (with events, the exec event says it).
    const bool recheck = !events_.active() && ++since_recheck_ >= recheck_every;
    if (recheck) since_recheck_ = 0;
    result = &scanner_.scan(now, recheck);
  }
  last_members_.resize(result->cls.members.size());
  for (std::size_t i = 0; i < result->cls.members.size(); ++i) {
    last_members_[i].clear();
    for (auto idx : result->cls.members[i]) {
      last_members_[i].push_back(result->snap.processes[idx].id.pid);
    }
  }
  return *result;
}

}  // namespace freezr::daemon
