// Discovery: how each scan finds its processes. With the kernel's process events it runs light
// scans — only the processes under rules and those that forked, exec'd or were renamed since
// the last scan — between full sweeps; without them, or after events were lost or the rules
// changed, every scan is full. Exec and rename events also go to the ExecWatch at once.
#pragma once

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "daemon/exec_watch.h"
#include "os/process_events.h"
#include "scan/scanner.h"

namespace freezr::daemon {

class Discovery {
 public:
  Discovery(boost::asio::io_context& io, scan::Scanner& scanner, ExecWatch& guard);

  // Subscribes to process events; the reason when they are unavailable.
  Result<void> start() { return events_.start(); }
  void stop() { events_.stop(); }
  // Events are read in batches this far apart (0: as they come; on_exec rules need that).
  void set_batch_seconds(double s) { events_.set_batch_seconds(s); }
  // With events, every sweep_every-th scan is full (1: all of them); without, every scan is,
  // and every recheck_every-th re-reads the command lines.
  // The result is the scanner's table: it holds until the next scan.
  const scan::ScanResult& scan(Seconds now, int sweep_every, int recheck_every);
  // The next scan is full (after a reload).
  void force_full() { full_next_ = true; }

 private:
  void on_events(const std::vector<proc::ProcEvent>& events);

  scan::Scanner& scanner_;
  ExecWatch& guard_;
  // From events, for the next light scan: the processes to read (forked, exec'd, renamed;
  // those that exited again before it are not read), those exec'd or renamed, those gone.
  std::unordered_set<Pid> fresh_;
  std::vector<Pid> renewed_, gone_;
  std::vector<std::vector<Pid>> last_members_;  // each rule's processes at the last scan
  std::uint64_t overruns_seen_ = 0;
  int since_full_ = 0;
  int since_recheck_ = 0;  // full scans since command lines were last re-read (no events)
  bool full_next_ = false;
  os::ProcessEvents events_;
};

}  // namespace freezr::daemon
